"""``ultralytics-neptune status``, ``enable`` and ``disable``: what a training would do, and the persistent switch."""

from __future__ import annotations

import os
import sys
import sysconfig
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace

from ultralytics_neptune import settings

STARTUP_PTH = "ultralytics_neptune_startup.pth"
HELP = "show versions, switches, mode, project and where offline data goes"
DESCRIPTION = (
    "Show what a training would do: versions, whether the built-in callback exists, automatic registration and where "
    "that was decided, the logging and connection modes, the project, where offline data goes. Exits 1 when a "
    "setting means nothing (the training would then log nothing and say why)."
)


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
    """Whether the installed Ultralytics ships a Neptune callback, and whether its settings enable it."""
    import importlib.util

    if importlib.util.find_spec("ultralytics.utils.callbacks.neptune") is None:
        return "none (deleted in Ultralytics 8.4.132)"
    from ultralytics.utils import SETTINGS

    if SETTINGS.get("neptune") is True:
        return "present, enabled in Ultralytics settings: ours replaces it where registered"
    return "present, disabled in Ultralytics settings"


def _source(choice: settings.Choice) -> str:
    return "default" if choice.source == "default" else f"from {choice.source}"


def status() -> tuple:
    """(rows, errors): (label, value) rows a user needs to see how a training will be logged, and every setting
    that means nothing."""
    from ultralytics_neptune import __version__

    rows, errors = [], []

    def read(label: str, reader, describe):
        try:
            rows.append((label, describe(reader())))
        except settings.SettingError as error:
            errors.append(str(error))
            rows.append((label, f"ERROR: {error}"))

    hook = hook_installed()
    rows += [
        ("ultralytics-neptune", __version__),
        ("Python", sys.version.split()[0]),
        ("Ultralytics", _version_of("ultralytics") or "not installed"),
        ("neptune client", _version_of("neptune") or "not installed: pip install 'ultralytics-neptune[neptune]'"),
        (
            "neptune-scale client",
            _version_of("neptune-scale") or "not installed: pip install 'ultralytics-neptune[scale]'",
        ),
        ("built-in Neptune callback", _builtin_callback() if _version_of("ultralytics") else "-"),
    ]
    read("client that logs", settings.neptune_client, lambda c: f"{c.value} ({_source(c)})")
    read(
        "automatic registration",
        settings.automatic_registration,
        lambda choice: (
            f"{'on' if choice.value else 'off'} ({_source(choice)})"
            + ("" if choice.source != "default" else ": no settings file; `ultralytics-neptune enable` makes one")
        ),
    )
    rows.append(("start-up hook", str(hook) if hook else "not installed in this environment (editable install?)"))
    read("logging mode", settings.extended_mode, lambda c: f"{'extended' if c.value else 'parity'} ({_source(c)})")
    read(
        "connection mode",
        settings.connection_mode,
        lambda mode: mode or "async (client default; NEPTUNE_MODE unset; offline needs no account)",
    )
    rows += [
        ("project", os.environ.get("NEPTUNE_PROJECT") or "unset: parity uses args.project or 'Ultralytics'"),
        ("API token", "set" if os.environ.get("NEPTUNE_API_TOKEN") else "unset (offline and debug modes need none)"),
        ("offline data", str(Path(os.environ.get("NEPTUNE_DATA_DIRECTORY", ".neptune")).resolve())),
    ]
    rows.append(("a training", _outcome(errors)))
    return rows, errors


def _outcome(errors: list) -> str:
    """What a training started by `yolo train` or a script will do, as the start-up hook and registration decide."""
    from ultralytics_neptune.registration import client_installed, missing_token

    if errors:
        return "logs NOTHING to Neptune until the settings above are fixed"
    if not settings.automatic_registration().value:
        return "is logged only where add_neptune_callbacks is called (automatic registration is off)"
    client = settings.neptune_client().value
    if not client_installed(client):
        return f"is NOT logged: the {client if client == 'neptune' else 'neptune-scale'} client is not installed"
    problem = missing_token({})
    if problem:
        return f"is NOT logged: {problem}"
    mode = "extended" if settings.extended_mode().value else "parity"
    with_client = " with neptune-scale (3.x)" if client == "scale" else ""
    return f"logs to Neptune in {mode} mode ({settings.connection_mode() or 'async'}){with_client}"


def format_status(rows: list) -> str:
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)


def add_arguments(parser) -> None:
    """``status`` takes no options."""


def run(args) -> int:
    rows, errors = status()
    print(format_status(rows))
    for error in errors:
        print(f"ultralytics-neptune status: {error}", file=sys.stderr)
    return 1 if errors else 0


def _enable(args) -> int:
    path = settings.save_settings(enabled=True, extended=args.extended)
    mode = "extended" if args.extended else "parity"
    print(f"automatic registration on ({mode} mode): every Ultralytics trainer will log to Neptune; saved in {path}")
    if hook_installed() is None:
        print("warning: the start-up hook is not installed in this environment (an editable install has none);")
        print("         reinstall with `pip install ultralytics-neptune` for automatic registration to work here")
    return 0


def _disable(args) -> int:
    path = settings.save_settings(enabled=False)
    print(f"automatic registration off; saved in {path}")
    return 0


def _enable_arguments(parser) -> None:
    parser.add_argument("--extended", action="store_true", help="in extended mode")


ENABLE = SimpleNamespace(
    HELP="log every Ultralytics training to Neptune, `yolo train` and DDP workers included",
    DESCRIPTION=f"Switch automatic registration on for this user (a settings file the start-up hook reads; "
    f"{settings.SWITCH_ENV}=0 or 1 in the environment wins over it).",
    add_arguments=_enable_arguments,
    run=_enable,
)
DISABLE = SimpleNamespace(
    HELP="switch automatic registration off", DESCRIPTION=None, add_arguments=lambda parser: None, run=_disable
)
