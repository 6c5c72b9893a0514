"""pytest plugin (entry point ``pytest11``): fixtures to check Neptune logging of Ultralytics in your own CI.

Fixtures, all prefixed ``neptune_`` so they cannot clash with a suite's own:
    neptune_fake        a fake ``neptune`` client installed in sys.modules (offline mode), with ``.runs``
    neptune_replay      replay(recording, callbacks) -> the replayed trainer; files go under tmp_path
    neptune_recordings  {name: Recording} of the recordings bundled with ultralytics-neptune: every release of the
                        matrix, each task (detect, segment, pose, classify, obb); ``--neptune-task`` narrows it
    neptune_parity      parity(recording) -> ParityResult: our callbacks against the upstream module of the
                        installed Ultralytics, or against the recording's golden trace where it has none

Option ``--neptune-task TASK`` (repeatable) keeps only the recordings of those tasks, e.g. the tasks you train.
Nothing heavy is imported until a fixture is used.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import pytest

if TYPE_CHECKING:
    from ultralytics_neptune.verification.fake import FakeNeptune
    from ultralytics_neptune.verification.parity import ParityResult
    from ultralytics_neptune.verification.recording import Recording
    from ultralytics_neptune.verification.replay import ReplayTrainer


def pytest_addoption(parser: pytest.Parser) -> None:
    from ultralytics_neptune.synthetic import TASKS

    group = parser.getgroup("ultralytics-neptune")
    group.addoption(
        "--neptune-other-matplotlib",
        action="store_true",
        help="neptune_parity compares figure sizes only where the golden traces were drawn by another matplotlib "
        "(the weaker check; by default such a comparison fails)",
    )
    group.addoption(
        "--neptune-task",
        action="append",
        choices=TASKS,
        help="neptune_recordings holds only the recordings of this Ultralytics task (repeat for more; default: all)",
    )


@pytest.fixture
def neptune_fake(monkeypatch: pytest.MonkeyPatch) -> FakeNeptune:
    """A fake ``neptune`` 1.x client in sys.modules for the test; ``neptune_fake.runs`` holds the runs started."""
    from ultralytics_neptune.verification.fake import FakeNeptune

    fake = FakeNeptune()
    for name, module in fake.modules().items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setenv("NEPTUNE_MODE", "offline")
    return fake


@pytest.fixture
def neptune_replay(tmp_path: Path) -> Callable[[Recording, object], ReplayTrainer]:
    """Replay a recording through callbacks; each call gets a fresh save_dir under tmp_path."""
    from ultralytics_neptune.verification.replay import replay

    calls = iter(range(1_000_000))

    def replay_recording(recording: Recording, callbacks) -> ReplayTrainer:
        return replay(recording, callbacks, tmp_path / f"replay{next(calls)}" / "save_dir")

    return replay_recording


@pytest.fixture(scope="session")
def neptune_recordings(pytestconfig: pytest.Config) -> dict[str, Recording]:
    """The bundled recordings of real trainings, {name: Recording}, of the tasks ``--neptune-task`` names (default:
    all)."""
    from ultralytics_neptune.verification.recording import Recording, bundled_recordings

    tasks = pytestconfig.getoption("neptune_task")
    recordings = {name: Recording.load(path) for name, path in bundled_recordings().items()}
    return {name: recording for name, recording in recordings.items() if not tasks or recording.task in tasks}


@pytest.fixture
def neptune_parity(tmp_path: Path, pytestconfig: pytest.Config) -> Callable[[Recording], ParityResult]:
    """Check a recording: against the live upstream module where it is the reference, else the golden trace (whose
    figures were drawn by one matplotlib release: another fails, unless ``--neptune-other-matplotlib``)."""
    from ultralytics_neptune.verification import parity

    weaker = {"allow_other_matplotlib": pytestconfig.getoption("neptune_other_matplotlib")}

    def check(recording: Recording) -> ParityResult:
        if parity.upstream_applies(recording):
            return parity.check_against_upstream(recording, tmp_path, **weaker)
        return parity.check_against_golden(recording, tmp_path, **weaker)

    return check
