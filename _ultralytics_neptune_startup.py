"""Start-up hook of ultralytics-neptune, imported at interpreter start by ``ultralytics_neptune_startup.pth``.

Automatic registration (``ULTRALYTICS_NEPTUNE=1``, or ``ultralytics-neptune enable``) gives every Ultralytics
trainer the Neptune callbacks, in any process: ``yolo train``, scripts, DDP workers. It works through
Ultralytics' own integration point: ``add_integration_callbacks`` is wrapped when ``ultralytics.utils.callbacks``
is first imported, so our callbacks reach exactly the trainers (and ranks) the built-in ones reached.

It must stay cheap. The ``.pth`` line itself imports this module only when the switch could be on (the environment
variable is set, or the settings file exists; it computes the same path as ``settings_path``), so an unrelated
process pays one ``os.path.exists``. This module imports only ``os`` and ``sys``, and nothing of Ultralytics, torch,
neptune or ultralytics_neptune until a trainer is created.
"""

import os
import sys

SWITCH_ENV = "ULTRALYTICS_NEPTUNE"
SETTINGS_ENV = "ULTRALYTICS_NEPTUNE_SETTINGS"
INTEGRATION_MODULE = "ultralytics.utils.callbacks"
TRUE = ("1", "true", "yes", "on")


def settings_path() -> str:
    """Where ``ultralytics-neptune enable`` keeps the switch."""
    explicit = os.environ.get(SETTINGS_ENV)
    if explicit:
        return explicit
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(config, "ultralytics-neptune", "settings.json")


def read_settings() -> dict:
    """The persistent settings, or {} when there are none (or they cannot be read)."""
    try:
        with open(settings_path(), encoding="utf-8") as handle:
            text = handle.read()
    except OSError:
        return {}
    import json

    try:
        settings = json.loads(text)
    except ValueError:
        return {}
    return settings if isinstance(settings, dict) else {}


def switch() -> tuple:
    """(enabled, extended): the environment variable decides if set, else the settings file."""
    value = os.environ.get(SWITCH_ENV)
    if value is not None:
        return value.strip().lower() in TRUE, None
    settings = read_settings()
    return settings.get("enabled") is True, True if settings.get("extended") is True else None


def _wrap_integrations(package, extended) -> None:
    original = package.add_integration_callbacks

    def add_integration_callbacks(instance):
        original(instance)
        if "Trainer" in type(instance).__name__:  # as Ultralytics adds its own integrations: trainers only
            try:
                from ultralytics_neptune.registration import add_neptune_callbacks

                add_neptune_callbacks(instance, extended=extended)
            except Exception as e:  # logging must never stop a training
                print(f"ultralytics-neptune: automatic registration failed ({type(e).__name__}: {e})", file=sys.stderr)

    add_integration_callbacks.__wrapped__ = original
    package.add_integration_callbacks = add_integration_callbacks


class _WrapOnImport:
    """A meta path finder that steps in once, when Ultralytics' integration module is imported."""

    def __init__(self, extended):
        self.extended = extended

    def find_spec(self, fullname, path=None, target=None):
        if fullname != INTEGRATION_MODULE:
            return None
        sys.meta_path.remove(self)
        import importlib.util

        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            _wrap_integrations(module, self.extended)

        spec.loader.exec_module = exec_module
        return spec


def install() -> bool:
    """Install the import hook if automatic registration is on; return whether it is."""
    enabled, extended = switch()
    if enabled and not any(isinstance(finder, _WrapOnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _WrapOnImport(extended))
    return enabled


install()
