"""A real training of each task, our parity callbacks, the real neptune client offline: what lands on disk is
complete, and it is what the replay of the same training's recording logs to the fake client."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("neptune", reason="the end-to-end test needs the real neptune client (test extra)")

from run_checks import (
    ATOM_FAMILIES,
    EPOCHS,
    SERIES_FAMILIES,
    UPLOAD_FAMILIES,
    comparable,
    outside_pytest,
    problems_of,
)

from ultralytics_neptune.offline import OfflineRun, read_offline_runs
from ultralytics_neptune.synthetic import TASKS
from ultralytics_neptune.trace import Trace
from ultralytics_neptune.verification import parity
from ultralytics_neptune.verification.recording import Recording

SCRIPT = Path(__file__).parent / "scripts" / "train_and_log.py"


@dataclass
class Training:
    """A finished real training: its work folder, run folder, offline Neptune run and recording."""

    workdir: Path
    save_dir: Path
    run: OfflineRun
    recording: Recording


@pytest.fixture(scope="module", params=TASKS)
def trained(request, tmp_path_factory) -> Training:
    workdir = tmp_path_factory.mktemp(f"e2e-{request.param}")
    command = [sys.executable, str(SCRIPT), str(workdir), str(EPOCHS), request.param]
    result = subprocess.run(command, capture_output=True, text=True, env=outside_pytest())
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    runs = read_offline_runs(workdir / ".neptune")
    assert len(runs) == 1, f"expected one offline run, found {len(runs)}"
    save_dir = Path((workdir / "save_dir.txt").read_text())
    return Training(workdir, save_dir, runs[0], Recording.load(workdir / "recording.json"))


def test_a_real_training_logs_every_namespace_family_with_the_right_steps(trained):
    import ultralytics

    assert trained.run.problems == []
    assert problems_of(trained.run, ultralytics.__version__) == []


def test_the_uploads_are_the_run_files(trained):
    uploads = trained.run.uploads()
    assert Path(uploads["weights/train/best.pt"]["file_path"]) == trained.save_dir / "weights" / "best.pt"
    assert {Path(uploads[name]["file_path"]).name for name in uploads if name.startswith("Mosaic/")} == {
        f"train_batch{i}.jpg" for i in range(3)
    }
    assert all("image" in uploads[name]["content"] for name in uploads if name.startswith("Plots/"))


def test_nothing_touched_the_network(trained):
    assert json.loads((trained.workdir / "network.json").read_text()) == []


@pytest.fixture(scope="module")
def replayed(trained, tmp_path_factory) -> dict:
    """What our parity module logs to the fake client on the training's recording, comparable with the real run."""
    trace = parity.our_trace(trained.recording, tmp_path_factory.mktemp("replay"))
    return comparable(trace, None, trained.workdir)


def test_the_replay_of_the_training_logs_what_the_real_client_received(trained, replayed):
    assert replayed == comparable(trained.run.trace, trained.save_dir, trained.workdir)


def test_the_replay_comparison_notices_a_missing_operation(trained, replayed):
    real = trained.run.trace
    first_lr = next(op for op in real.operations if op["path"][0] == "lr")
    fewer = Trace(real.init_run, [op for op in real.operations if op is not first_lr], real.meta)
    assert replayed != comparable(fewer, trained.save_dir, trained.workdir)


@pytest.mark.parametrize("family", [*SERIES_FAMILIES, *UPLOAD_FAMILIES, *ATOM_FAMILIES])
def test_the_check_fails_when_a_namespace_family_goes_missing(trained, family):
    import ultralytics

    run = trained.run
    kept = [op for op in run.trace.operations if not "/".join(op["path"]).startswith(family + "/")]
    mutilated = OfflineRun(run.folder, run.metadata, Trace(run.trace.init_run, kept, run.trace.meta))
    assert f"namespace family {family} is missing" in problems_of(mutilated, ultralytics.__version__)
