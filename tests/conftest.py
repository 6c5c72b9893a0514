"""Test set-up: Ultralytics runs without network or user settings (set before anything imports it)."""

import tempfile

import pytest

from ultralytics_neptune.synthetic import apply_offline_environment

pytest_plugins = ["pytester"]

SCRATCH = tempfile.mkdtemp(prefix="ultralytics-neptune-tests-")
apply_offline_environment(SCRATCH)


@pytest.fixture
def neptune_module():
    """Our callback module as installed, with no run left over from another test."""
    from ultralytics_neptune.utils.callbacks import neptune as module

    module.run = None
    yield module
    module.run = None


@pytest.fixture
def parity_callbacks(neptune_module):
    """The event functions of our module as registration adds them in parity mode (its guard is closed under pytest,
    so its ``callbacks`` dict is empty here)."""
    from ultralytics_neptune.registration import event_callbacks

    return event_callbacks(neptune_module, neptune_module)


@pytest.fixture(scope="session")
def latest_recording(neptune_recordings):
    """The recording of the newest Ultralytics bundled."""
    return list(neptune_recordings.values())[-1]


@pytest.fixture(autouse=True)
def close_figures():
    """Parity mode leaves its figures open, as upstream did; tests close them."""
    yield
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


@pytest.fixture
def broken_step(monkeypatch):
    """Make the parity suite load a copy of our module that logs every series one step late."""
    from ultralytics_neptune.verification import parity

    load_our_module = parity.load_our_module

    def broken_module():
        module = load_our_module()
        original = module._log_scalars
        module._log_scalars = lambda scalars, step=0, **options: original(scalars, step + 1, **options)
        return module

    monkeypatch.setattr(parity, "load_our_module", broken_module)
