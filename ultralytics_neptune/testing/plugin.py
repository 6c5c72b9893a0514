"""pytest plugin (entry point ``pytest11``): fixtures to check Neptune logging of Ultralytics in your own CI.

Fixtures:
    fake_neptune       a fake ``neptune`` client installed in sys.modules (offline mode), with ``.runs``
    replay_training    replay(recording, callbacks) -> the replayed trainer; files go under tmp_path
    neptune_recordings {name: Recording} of the recordings bundled with ultralytics-neptune
    neptune_parity     parity(recording) -> ParityResult: our callbacks against the upstream module of the
                       installed Ultralytics, or against the recording's golden trace where it has none

Nothing heavy is imported until a fixture is used.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def fake_neptune(monkeypatch):
    """A fake ``neptune`` 1.x client in sys.modules for the test; ``fake_neptune.runs`` holds the runs started."""
    from ultralytics_neptune.testing.fake_neptune import FakeNeptune

    fake = FakeNeptune()
    for name, module in fake.modules().items():
        monkeypatch.setitem(__import__("sys").modules, name, module)
    monkeypatch.setenv("NEPTUNE_MODE", "offline")
    return fake


@pytest.fixture
def replay_training(tmp_path):
    """Replay a recording through callbacks; each call gets a fresh save_dir under tmp_path."""
    from ultralytics_neptune.testing.replay import replay

    calls = iter(range(1_000_000))

    def replay_recording(recording, callbacks):
        return replay(recording, callbacks, tmp_path / f"replay{next(calls)}" / "save_dir")

    return replay_recording


@pytest.fixture(scope="session")
def neptune_recordings() -> dict:
    """The bundled recordings of real trainings, {name: Recording}."""
    from ultralytics_neptune.testing.recording import Recording, bundled_recordings

    return {name: Recording.load(path) for name, path in bundled_recordings().items()}


@pytest.fixture
def neptune_parity(tmp_path):
    """Check a recording: against the live upstream module where it is the reference, else the golden trace."""
    from ultralytics_neptune.testing import parity

    def check(recording):
        if parity.upstream_applies(recording):
            return parity.check_against_upstream(recording, tmp_path)
        return parity.check_against_golden(recording, tmp_path)

    return check
