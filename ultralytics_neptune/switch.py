"""Automatic registration: the persistent switch (``ultralytics-neptune enable`` / ``disable``) and ``status``."""

from __future__ import annotations

import json
import os
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import _ultralytics_neptune_startup as startup

STARTUP_PTH = "ultralytics_neptune_startup.pth"


def save_settings(enabled: bool, extended: bool = False) -> Path:
    """Write the switch to the settings file the start-up hook reads; return its path."""
    path = Path(startup.settings_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"enabled": enabled, "extended": extended}, indent=1) + "\n")
    return path


def hook_installed() -> Path | None:
    """The start-up hook's .pth file in this environment's site-packages, or None (e.g. an editable install)."""
    for key in ("purelib", "platlib"):
        candidate = Path(sysconfig.get_paths()[key]) / STARTUP_PTH
        if candidate.exists():
            return candidate
    return None


def _version_of(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _builtin_callback() -> str:
    """Whether the installed Ultralytics ships its Neptune callback, and whether its settings enable it."""
    from ultralytics_neptune.testing.upstream import upstream_module_path

    if upstream_module_path() is None:
        return "none (deleted in Ultralytics 8.4.132)"
    from ultralytics.utils import SETTINGS

    enabled = SETTINGS.get("neptune") is True
    state = "enabled in Ultralytics settings: ours replaces it" if enabled else "disabled in Ultralytics settings"
    return f"present, {state}"


def status() -> list:
    """(label, value) rows of what a user needs to know to see where and how a training will be logged."""
    from ultralytics_neptune import __version__
    from ultralytics_neptune.utils.callbacks.neptune import EXTENDED_ENV

    enabled, extended_setting = startup.switch()
    source = (
        f"{startup.SWITCH_ENV} environment variable" if startup.SWITCH_ENV in os.environ else startup.settings_path()
    )
    hook = hook_installed()
    extended_env = os.environ.get(EXTENDED_ENV)
    if extended_env is not None:
        mode = f"{'extended' if extended_env.strip().lower() in startup.TRUE else 'parity'} ({EXTENDED_ENV})"
    else:
        mode = "extended (settings)" if extended_setting else "parity (default)"
    data_directory = Path(os.environ.get("NEPTUNE_DATA_DIRECTORY", ".neptune")).resolve()
    client = _version_of("neptune")
    return [
        ("ultralytics-neptune", __version__),
        ("Python", sys.version.split()[0]),
        ("Ultralytics", _version_of("ultralytics") or "not installed"),
        ("neptune client", client or "not installed: pip install 'ultralytics-neptune[neptune]'"),
        ("built-in Neptune callback", _builtin_callback() if _version_of("ultralytics") else "-"),
        ("automatic registration", f"{'on' if enabled else 'off'} (from {source})"),
        ("start-up hook", str(hook) if hook else "not installed in this environment (editable install?)"),
        ("logging mode", mode),
        ("connection mode", os.environ.get("NEPTUNE_MODE") or "async (client default; NEPTUNE_MODE unset)"),
        ("project", os.environ.get("NEPTUNE_PROJECT") or "unset: parity uses args.project or 'Ultralytics'"),
        ("API token", "set" if os.environ.get("NEPTUNE_API_TOKEN") else "unset (offline and debug modes need none)"),
        ("offline data", str(data_directory)),
    ]


def format_status(rows: list) -> str:
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)
