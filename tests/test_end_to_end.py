"""A real training, our parity callbacks, the real neptune client offline: what lands on disk is complete."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("neptune", reason="the end-to-end test needs the real neptune client (test extra)")

from run_checks import ATOM_FAMILIES, EPOCHS, SERIES_FAMILIES, UPLOAD_FAMILIES, outside_pytest, problems_of

from ultralytics_neptune.offline import OfflineRun, read_offline_runs
from ultralytics_neptune.trace import Trace

SCRIPT = Path(__file__).parent / "scripts" / "train_and_log.py"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("e2e")
    command = [sys.executable, str(SCRIPT), str(workdir), str(EPOCHS)]
    result = subprocess.run(command, capture_output=True, text=True, env=outside_pytest())
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    runs = read_offline_runs(workdir / ".neptune")
    assert len(runs) == 1, f"expected one offline run, found {len(runs)}"
    return workdir, runs[0]


def test_a_real_training_logs_every_namespace_family_with_the_right_steps(trained):
    import ultralytics

    _, run = trained
    assert run.problems == []
    assert problems_of(run, ultralytics.__version__) == []


def test_the_uploads_are_the_run_files(trained):
    workdir, run = trained
    save_dir = Path((workdir / "save_dir.txt").read_text())
    uploads = run.uploads()
    assert Path(uploads["weights/train/best.pt"]["file_path"]) == save_dir / "weights" / "best.pt"
    assert {Path(uploads[name]["file_path"]).name for name in uploads if name.startswith("Mosaic/")} == {
        f"train_batch{i}.jpg" for i in range(3)
    }
    assert all("image" in uploads[name]["content"] for name in uploads if name.startswith("Plots/"))


def test_nothing_touched_the_network(trained):
    workdir, _ = trained
    assert json.loads((workdir / "network.json").read_text()) == []


@pytest.mark.parametrize("family", [*SERIES_FAMILIES, *UPLOAD_FAMILIES, *ATOM_FAMILIES])
def test_the_check_fails_when_a_namespace_family_goes_missing(trained, family):
    import ultralytics

    _, run = trained
    kept = [op for op in run.trace.operations if not "/".join(op["path"]).startswith(family + "/")]
    mutilated = OfflineRun(run.folder, run.metadata, Trace(run.trace.init_run, kept, run.trace.meta))
    assert f"namespace family {family} is missing" in problems_of(mutilated, ultralytics.__version__)
