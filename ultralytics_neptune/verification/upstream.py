"""Loading the installed Ultralytics' own Neptune callback (the reference) as a fresh copy, bound to whatever
``neptune`` is in ``sys.modules`` when loaded (ours is loaded by the package itself: ``ultralytics_neptune.composed``).

The upstream module turns itself off under pytest and unless ``SETTINGS["neptune"]`` is on; its import-time gates
are opened only while it loads, without touching the user's settings file.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

UPSTREAM_MODULE = "ultralytics.utils.callbacks.neptune"
_copies = itertools.count()


def upstream_module_path() -> Path | None:
    """The installed Ultralytics' Neptune callback file, or None where the release has none (8.4.132+)."""
    try:
        spec = importlib.util.find_spec(UPSTREAM_MODULE)
    except ModuleNotFoundError:
        return None
    return Path(spec.origin) if spec and spec.origin else None


def _load_copy(path: Path, label: str) -> ModuleType:
    name = f"_ultralytics_neptune_copy_{label}_{next(_copies)}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # while it runs: dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


@contextmanager
def _open_upstream_gates():
    import ultralytics.utils as ultralytics_utils

    saved = ultralytics_utils.TESTS_RUNNING, ultralytics_utils.SETTINGS
    ultralytics_utils.TESTS_RUNNING = False
    ultralytics_utils.SETTINGS = {**dict(saved[1]), "neptune": True}
    try:
        yield
    finally:
        ultralytics_utils.TESTS_RUNNING, ultralytics_utils.SETTINGS = saved


def load_upstream_module() -> ModuleType | None:
    """A fresh copy of the installed upstream Neptune callback with its gates open, or None if there is none.

    Load it after installing the fake client: the module binds ``neptune`` when it loads.
    """
    path = upstream_module_path()
    if path is None:
        return None
    with _open_upstream_gates():
        module = _load_copy(path, "upstream")
    if not module.callbacks:
        raise RuntimeError(f"the upstream Neptune callback at {path} stayed disabled (is neptune importable?)")
    return module
