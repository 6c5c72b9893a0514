"""A training killed outright (SIGKILL) with the Neptune 3.x client keeps in its SQLite file everything logged up to
the last epoch end, in both modes: each event's values are sent at its end, and the client writes each call at once."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

pytest.importorskip("neptune_scale", reason="needs the real neptune-scale client, whose SQLite file is what survives")

from run_checks import outside_pytest

from ultralytics_neptune.offline_scale import read_scale_run, scale_run_folders

KILLED_TRAINING = """
import os, signal, sys
from pathlib import Path
from ultralytics_neptune.synthetic import apply_offline_environment, make_detection_dataset

if __name__ == "__main__":
    workdir, extended = Path(sys.argv[1]), sys.argv[2] == "extended"
    apply_offline_environment(workdir, settings=True)
    os.environ.update(NEPTUNE_MODE="offline", NEPTUNE_LOG_DIRECTORY=str(workdir / ".neptune"))
    data = make_detection_dataset(workdir / "dataset")
    from ultralytics import YOLO
    from ultralytics_neptune import add_neptune_callbacks

    model = YOLO("yolov8n.yaml")
    add_neptune_callbacks(model, client="scale", extended=extended)
    # after ours: the second epoch has ended and been logged; nothing else gets a chance
    model.add_callback("on_fit_epoch_end", lambda trainer: trainer.epoch == 1 and os.kill(os.getpid(), signal.SIGKILL))
    model.train(data=str(data), epochs=3, imgsz=64, batch=4, workers=0, device="cpu", plots=True, verbose=False)
"""


@pytest.fixture(scope="module", params=["parity", "extended"])
def killed_run(request, tmp_path_factory):
    workdir = tmp_path_factory.mktemp(f"killed-{request.param}")
    script = workdir / "train.py"
    script.write_text(KILLED_TRAINING)
    result = subprocess.run(
        [sys.executable, str(script), str(workdir), request.param],
        env=outside_pytest(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr[-3000:]
    (folder,) = scale_run_folders(workdir / ".neptune")
    return read_scale_run(folder)


def test_the_sqlite_file_of_a_killed_training_reads_back_whole(killed_run):
    assert killed_run.problems == []


@pytest.mark.parametrize("series", ["train/box_loss", "lr/pg0", "metrics/mAP50(B)", "val/box_loss"])
def test_every_series_has_both_finished_epochs(killed_run, series):
    assert [step for step, _ in killed_run.series()[series]] == [1, 2]


def test_the_mosaics_of_the_second_epoch_the_model_summary_and_the_hyperparameters_are_kept(killed_run):
    fields = {"/".join(op["path"]) for op in killed_run.trace.operations}
    assert {"Mosaic/train_batch0", "Mosaic/train_batch1", "Mosaic/train_batch2"} <= fields
    assert {"Configuration/Model/model/parameters", "Configuration/Hyperparameters/epochs"} <= fields
