"""Start-up hook of ultralytics-neptune, imported at interpreter start by ``ultralytics_neptune_startup.pth``.

Automatic registration (``ULTRALYTICS_NEPTUNE=1``, or ``ultralytics-neptune enable``) gives every Ultralytics
trainer the Neptune callbacks, in any process: ``yolo train``, scripts, DDP workers. It works through
Ultralytics' own integration point: ``add_integration_callbacks`` is wrapped when ``ultralytics.utils.callbacks``
is first imported, so our callbacks reach exactly the trainers (and ranks) the built-in ones reached.

It must stay cheap. The ``.pth`` line imports this module only when the switch could be on (the environment
variable is set, or the settings file exists), so an unrelated process pays one ``os.path.exists``. This module
imports only ``sys``; the switches are read (by ``ultralytics_neptune.settings``, the one reader) when a trainer is
created, so a value that means nothing is reported by the training it concerns.

PYTEST_DONT_REWRITE: pytest rewrites the modules of a distribution with a plugin (ours) and warns that this one was
imported before it could (at interpreter start); it holds no assertion to rewrite.
"""

import sys

INTEGRATION_MODULE = "ultralytics.utils.callbacks"


def _wrap_integrations(package) -> None:
    original = package.add_integration_callbacks

    def add_integration_callbacks(instance):
        original(instance)
        if "Trainer" in type(instance).__name__:  # as Ultralytics adds its own integrations: trainers only
            try:
                from ultralytics_neptune.registration import register_automatically

                register_automatically(instance)
            except Exception as e:  # logging must never stop a training
                print(f"ultralytics-neptune: automatic registration failed ({type(e).__name__}: {e})", file=sys.stderr)

    add_integration_callbacks.__wrapped__ = original
    package.add_integration_callbacks = add_integration_callbacks


class _WrapOnImport:
    """A meta path finder that steps in once, when Ultralytics' integration module is imported."""

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
            _wrap_integrations(module)

        spec.loader.exec_module = exec_module
        return spec


def install() -> None:
    """Wrap Ultralytics' integration point when it is imported (once per interpreter)."""
    if not any(isinstance(finder, _WrapOnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _WrapOnImport())


install()
