"""Every switch of ultralytics-neptune, read in one place with one rule.

- ``ULTRALYTICS_NEPTUNE``: automatic registration (every Ultralytics trainer logs); wins over the settings file.
- ``ULTRALYTICS_NEPTUNE_EXTENDED``: extended mode; wins over the settings file.
- the settings file that ``ultralytics-neptune enable`` / ``disable`` write: ``{"enabled": bool, "extended": bool}``
  at ``ULTRALYTICS_NEPTUNE_SETTINGS``, else ``$XDG_CONFIG_HOME/ultralytics-neptune/settings.json`` (``~/.config``).
- ``ULTRALYTICS_NEPTUNE_CLIENT``: which Neptune client logs, ``neptune`` (1.x) or ``scale`` (3.x, ``neptune-scale``);
  default: ``scale`` when only ``neptune-scale`` is installed, else ``neptune``.
- ``NEPTUNE_MODE``: the client's connection mode, checked here so that a bad one is refused before a run starts.

A value that means nothing raises ``SettingError`` naming the variable (or file), the value and what is accepted;
the registration refuses it, ``status`` exits non-zero with it, and automatic registration warns and logs nothing.
Standard library only: the start-up hook reads these in every process that trains.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from ultralytics_neptune.client import CONNECTION_MODES

SWITCH_ENV = "ULTRALYTICS_NEPTUNE"
EXTENDED_ENV = "ULTRALYTICS_NEPTUNE_EXTENDED"
SETTINGS_ENV = "ULTRALYTICS_NEPTUNE_SETTINGS"
CLIENT_ENV = "ULTRALYTICS_NEPTUNE_CLIENT"
CLIENTS = ("neptune", "scale")  # the 1.x client (``neptune``), the 3.x client (``neptune-scale``)
MODE_ENV = "NEPTUNE_MODE"
ON = ("1", "true", "yes", "on")
OFF = ("0", "false", "no", "off")
SETTINGS_KEYS = ("enabled", "extended")


class SettingError(ValueError):
    """A switch whose value means nothing; the message names it, the value and the accepted values."""


@dataclass(frozen=True)
class Choice:
    """A switch's value and where it was decided (a variable, a file, or the default)."""

    value: bool | str  # a client's name for ``neptune_client``
    source: str


def parse_switch(name: str, text: str) -> bool:
    """Read an on/off value the one way every switch is read."""
    value = text.strip().lower()
    if value in ON:
        return True
    if value in OFF:
        return False
    raise SettingError(f"{name}={text!r} means nothing; use one of {', '.join(ON)} (on) or {', '.join(OFF)} (off)")


def settings_path() -> str:
    """Where ``ultralytics-neptune enable`` keeps the switch (the .pth start-up line computes the same path)."""
    explicit = os.environ.get(SETTINGS_ENV)
    if explicit:
        return explicit
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(config, "ultralytics-neptune", "settings.json")


def read_settings_file() -> dict:
    """The settings file's switches, {} when there is no file; SettingError when it cannot mean anything."""
    path = settings_path()
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise SettingError(f"the settings file {path} cannot be read ({type(error).__name__}: {error})") from None
    try:
        settings = json.loads(text)
    except ValueError:
        raise SettingError(
            f"the settings file {path} is not JSON; rewrite it with `ultralytics-neptune enable`"
        ) from None
    if not isinstance(settings, dict):
        raise SettingError(f"the settings file {path} holds no object; rewrite it with `ultralytics-neptune enable`")
    for key, value in settings.items():
        if key not in SETTINGS_KEYS or not isinstance(value, bool):
            raise SettingError(
                f"the settings file {path} has {key}={value!r}; it takes only {' and '.join(SETTINGS_KEYS)}, "
                "each true or false"
            )
    return settings


def _choice(variable: str, key: str) -> Choice:
    if variable in os.environ:
        return Choice(parse_switch(variable, os.environ[variable]), f"{variable} environment variable")
    settings = read_settings_file()
    if key in settings:
        return Choice(settings[key], settings_path())
    return Choice(False, "default")


def automatic_registration() -> Choice:
    """Whether every Ultralytics trainer gets our callbacks (``ULTRALYTICS_NEPTUNE``, else the settings file)."""
    return _choice(SWITCH_ENV, "enabled")


def extended_mode() -> Choice:
    """Whether logging is in extended mode (``ULTRALYTICS_NEPTUNE_EXTENDED``, else the settings file)."""
    return _choice(EXTENDED_ENV, "extended")


def _installed(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except ValueError:  # a module in sys.modules without a spec: a stand-in someone put there
        return True


def neptune_client(explicit: str | None = None) -> Choice:
    """Which client logs: ``explicit`` (a registration argument), else ``ULTRALYTICS_NEPTUNE_CLIENT``, else ``scale``
    when only ``neptune-scale`` is installed, else ``neptune``. ``Choice.value`` is the client's name."""
    if explicit is not None:
        source, text = "client argument", explicit
    elif CLIENT_ENV in os.environ:
        source, text = f"{CLIENT_ENV} environment variable", os.environ[CLIENT_ENV]
    else:
        only_scale = _installed("neptune_scale") and not _installed("neptune")
        return Choice("scale" if only_scale else "neptune", "default")
    value = str(text).strip().lower()
    if value not in CLIENTS:
        name = "client" if explicit is not None else CLIENT_ENV
        raise SettingError(f"{name}={text!r} means nothing; use one of {', '.join(CLIENTS)}")
    return Choice(value, source)


def connection_mode() -> str | None:
    """``NEPTUNE_MODE`` if set (None if not), checked against the client's modes."""
    mode = os.environ.get(MODE_ENV)
    if mode is not None and mode not in CONNECTION_MODES:
        raise SettingError(f"{MODE_ENV}={mode!r} means nothing; use one of {', '.join(CONNECTION_MODES)}")
    return mode


def save_settings(enabled: bool, extended: bool = False) -> str:
    """Write the switches to the settings file; return its path."""
    path = settings_path()
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(json.dumps({"enabled": enabled, "extended": extended}, indent=1) + "\n")
    return path
