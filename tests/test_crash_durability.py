"""A training killed outright (SIGKILL) in extended mode keeps on disk everything logged up to the last epoch end."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

pytest.importorskip("neptune", reason="needs the real client, whose disk queue is what survives")

from run_checks import outside_pytest

from ultralytics_neptune.offline import read_offline_runs

KILLED_TRAINING = """
import os, signal, sys
from pathlib import Path
from ultralytics_neptune.synthetic import apply_offline_environment, make_detection_dataset

workdir = Path(sys.argv[1])
apply_offline_environment(workdir, settings=True)
os.environ.update(NEPTUNE_MODE="offline", NEPTUNE_DATA_DIRECTORY=str(workdir / ".neptune"))
data = make_detection_dataset(workdir / "dataset")
from ultralytics import YOLO
from ultralytics_neptune import add_neptune_callbacks

model = YOLO("yolov8n.yaml")
add_neptune_callbacks(model, extended=True)
# after ours: the second epoch has ended and been logged; nothing else gets a chance
model.add_callback("on_fit_epoch_end", lambda trainer: trainer.epoch == 1 and os.kill(os.getpid(), signal.SIGKILL))
model.train(data=str(data), epochs=3, imgsz=64, batch=4, workers=0, device="cpu", plots=True, verbose=False)
"""


@pytest.fixture(scope="module")
def killed_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("killed")
    result = subprocess.run(
        [sys.executable, "-c", KILLED_TRAINING, str(workdir)],
        env=outside_pytest(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr[-3000:]
    (run,) = read_offline_runs(workdir / ".neptune")
    return run


@pytest.mark.parametrize("series", ["train/box_loss", "lr/pg0", "metrics/mAP50(B)", "val/box_loss"])
def test_every_series_has_both_epochs_on_disk(killed_run, series):
    assert [step for step, _ in killed_run.series()[series]] == [1, 2]


def test_the_mosaics_of_the_second_epoch_and_the_model_summary_are_on_disk(killed_run):
    fields = {"/".join(op["path"]) for op in killed_run.trace.operations}
    assert {"Mosaic/train_batch0", "Mosaic/train_batch1", "Mosaic/train_batch2"} <= fields
    assert {"Configuration/Model/model/parameters", "Configuration/Hyperparameters/epochs"} <= fields
