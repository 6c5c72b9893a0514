"""A Neptune 3.x data folder the client cannot write to (disk full, folder gone): the training completes; one warning
as the fault first shows, and one closing line counting, by namespace, what the SQLite file lacks, with the cause;
what reached the file stays readable.

The disk-full trainings are real (the real neptune-scale client offline, its log directory on a 128 KiB tmpfs that
fills during the first epoch: smaller, and the run cannot even be created), each compared with a clean training in
the same process; mounting needs root, as CI has. A data folder removed runs on a replayed training without root.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

pytest.importorskip("neptune_scale", reason="needs the real neptune-scale client, whose SQLite file is what is counted")

from disk_checks import CLOSING, missing_by_namespace, neptune_warnings, parse
from run_checks import outside_pytest

from ultralytics_neptune.offline_scale import read_scale_run, scale_run_folders
from ultralytics_neptune.verification.recording import load_bundled
from ultralytics_neptune.verification.replay import replay
from ultralytics_neptune.verification.scale_check import scale_callbacks

MODES = ("parity", "extended")
TMPFS_SIZE = "128k"

TRAININGS = """
import os, shutil, sys
from pathlib import Path
from ultralytics_neptune.synthetic import apply_offline_environment, make_detection_dataset

if __name__ == "__main__":
    workdir, mode = Path(sys.argv[1]), sys.argv[2]
    apply_offline_environment(workdir, settings=True)
    data = make_detection_dataset(workdir / "dataset")
    os.chdir(workdir)
    from ultralytics import YOLO
    from ultralytics_neptune import add_neptune_callbacks

    for log_directory in sys.argv[3:]:  # a clean training, then one whose log directory fills up; same field names
        os.environ["NEPTUNE_LOG_DIRECTORY"] = log_directory
        print(f"=== training {log_directory}", flush=True)
        model = YOLO("yolov8n.yaml")
        add_neptune_callbacks(model, client="scale", extended=mode == "extended", mode="offline")
        model.train(
            data=str(data), epochs=2, imgsz=64, batch=4, workers=0, device="cpu", plots=True, verbose=False,
            name="train", exist_ok=True,
        )
        print(f"=== save_dir {model.trainer.save_dir}", flush=True)
        if log_directory != sys.argv[-1]:
            shutil.rmtree(model.trainer.save_dir)  # the next training starts afresh in the same folder name
"""


def operations_by_field(log_directory: Path) -> Counter:
    """What the SQLite file holds of the training (not the client's console capture, which it writes itself)."""
    (folder,) = scale_run_folders(log_directory)
    run = read_scale_run(folder)
    assert run.problems == []
    return Counter("/".join(op["path"]) for op in run.trace.operations if op["path"][0] != "runtime")


@pytest.fixture(scope="module")
def trainings(tmp_path_factory):
    """mode -> what a clean training and one on a full disk left behind; each mode trained once for the module."""
    done = {}

    def trained(mode: str) -> dict:
        if mode not in done:
            done[mode] = train_on_a_full_disk(mode, tmp_path_factory)
        return done[mode]

    return trained


@pytest.fixture(params=MODES)
def full_disk(request, trainings) -> dict:
    return trainings(request.param)


def train_on_a_full_disk(mode: str, tmp_path_factory) -> dict:
    if os.geteuid() != 0:
        pytest.skip("mounting the small tmpfs that fills up needs root (CI runs as root)")
    workdir = tmp_path_factory.mktemp(f"scale-full-{mode}").resolve()
    clean, full = workdir / "clean-neptune", workdir / "full-neptune"
    full.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(full)], check=False)
    if mounted.returncode != 0:
        pytest.skip("could not mount a tmpfs (a container without the capability)")
    script = workdir / "trainings.py"
    script.write_text(TRAININGS)
    try:
        result = subprocess.run(
            [sys.executable, str(script), str(workdir), mode, str(clean), str(full)],
            env=outside_pytest(),
            capture_output=True,
            text=True,
            timeout=600,
        )
        full_operations = operations_by_field(full)
    finally:
        subprocess.run(["umount", str(full)], check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    _, clean_output, full_output = re.split(r"^=== training .*$", result.stdout, flags=re.MULTILINE)
    return {
        "clean": operations_by_field(clean),
        "full": full_operations,
        "output": full_output,
        "clean_output": clean_output,
        "stderr": result.stderr,
        "save_dir": Path(re.search(r"^=== save_dir (.+)$", full_output, re.MULTILINE).group(1)),
    }


def test_the_training_completes_with_its_result_files(full_disk):
    save_dir = full_disk["save_dir"]
    assert (save_dir / "results.csv").is_file() and (save_dir / "weights" / "best.pt").is_file()


def test_the_tmpfs_filled_after_the_run_started_and_what_reached_it_is_readable(full_disk):
    assert full_disk["full"]["Configuration/Hyperparameters/epochs"] == 1
    assert full_disk["clean"] - full_disk["full"]


def test_one_warning_names_the_fault_as_it_first_shows_then_one_closing_line_counts(full_disk):
    first, closing = neptune_warnings(full_disk["output"])
    assert "(OperationalError: database or disk is full)" in first
    assert CLOSING.search(closing)
    assert neptune_warnings(full_disk["clean_output"]) == []


def test_the_closing_count_equals_what_the_sqlite_file_lacks_by_namespace(full_disk):
    (warning,) = [line for line in neptune_warnings(full_disk["output"]) if CLOSING.search(line)]
    count, namespaces, cause = parse(warning)
    assert namespaces == missing_by_namespace(full_disk["clean"], full_disk["full"])
    assert count == sum(namespaces.values())
    assert cause == "OperationalError: database or disk is full"


def test_the_client_prints_no_traceback_for_a_call_it_could_not_write(full_disk):
    """By default the client logs each call its file refused as "Dropping 1 operations" with a traceback."""
    assert "Traceback" not in full_disk["stderr"], full_disk["stderr"][-3000:]


# Without root: the data folder removed during a replayed training


def remove_the_data_folder(log_directory: Path):
    def at_second_epoch_end(trainer) -> None:
        if trainer.epoch == 1:
            shutil.rmtree(log_directory)

    return at_second_epoch_end


@pytest.mark.parametrize("extended", [False, True], ids=["parity", "extended"])
def test_a_data_folder_removed_during_training_is_counted_and_named(extended, tmp_path, caplog):
    from ultralytics.utils import LOGGER

    log_directory = tmp_path / ".neptune"
    _, callbacks = scale_callbacks("8.4.190", log_directory, extended)
    LOGGER.addHandler(caplog.handler)
    try:
        trainer = replay(
            load_bundled("ultralytics-8.4.190"),
            [callbacks, {"on_fit_epoch_end": remove_the_data_folder(log_directory)}],
            tmp_path / "save_dir",
        )
    finally:
        LOGGER.removeHandler(caplog.handler)
    assert (trainer.save_dir / "weights" / "best.pt").exists()
    assert not log_directory.exists()  # nothing of the run is left
    closing = [CLOSING.search(r.getMessage()) for r in caplog.records if CLOSING.search(r.getMessage())]
    (match,) = closing
    assert "the run's data folder no longer exists" in match.group(3)
    assert int(match.group(1)) > 100  # every value given: the hyperparameters alone are more
