"""A real training, our parity callbacks, the real neptune client offline: what lands on disk is complete."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("neptune", reason="the end-to-end test needs the real neptune client (test extra)")

from ultralytics_neptune.eras import parse_version
from ultralytics_neptune.offline import OfflineRun, read_offline_runs
from ultralytics_neptune.trace import Trace

EPOCHS = 3
SCRIPT = Path(__file__).parent / "scripts" / "train_and_log.py"
SERIES_FAMILIES = ("train", "lr", "metrics", "val")
UPLOAD_FAMILIES = ("Mosaic", "Validation", "Plots", "weights")
ATOM_FAMILIES = ("Configuration/Hyperparameters", "Configuration/Model")


def final_evaluation_step(ultralytics_version: str) -> int:
    """Where the final evaluation's metrics land: E+1 from 8.4.52, before that E again (REFERENCE section 2)."""
    return EPOCHS + 1 if parse_version(ultralytics_version) >= (8, 4, 52) else EPOCHS


def problems_of(run: OfflineRun, ultralytics_version: str) -> list:
    """Everything a complete parity run should hold and this one does not."""
    problems = []
    fields = {"/".join(op["path"]) for op in run.trace.operations}
    for family in (*SERIES_FAMILIES, *UPLOAD_FAMILIES, *ATOM_FAMILIES):
        if not any(field.startswith(family + "/") for field in fields):
            problems.append(f"namespace family {family} is missing")
    series = run.series()
    for name, points in series.items():
        steps = [step for step, _ in points]
        if name.startswith(("train/", "lr/")) and steps != list(range(1, EPOCHS + 1)):
            problems.append(f"{name} has steps {steps}, expected 1..{EPOCHS}")
        if name.startswith("metrics/") and steps != [*range(1, EPOCHS + 1), final_evaluation_step(ultralytics_version)]:
            problems.append(f"{name} has steps {steps}, expected 1..{EPOCHS} then the final evaluation")
    for name, upload in run.uploads().items():
        if upload["content"].get("missing"):
            problems.append(f"{name} references a file that does not exist")
    return problems


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("e2e")
    result = subprocess.run([sys.executable, str(SCRIPT), str(workdir), str(EPOCHS)], capture_output=True, text=True)
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
