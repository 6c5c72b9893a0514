"""A Neptune data folder the client cannot write to (disk full, folder gone): the training completes with all its
files; extended mode gives one closing warning that counts the operations missing from the disk queue, by
namespace, and names the cause; parity mode keeps upstream's behaviour (each failed write one warning), claims no
count it cannot make, and the client prints no traceback at exit for the fault.

The disk-full trainings are real (the real client offline, its data folder on a 24 KiB tmpfs that fills during
the first epoch), compared with a clean training in the same process; they need root to mount the tmpfs, as CI has.
A simulated ENOSPC (the client's queue file refusing writes) and a vanished folder run on a replayed training
without root.
"""

from __future__ import annotations

import errno
import logging
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest

pytest.importorskip("neptune", reason="needs the real client, whose disk queue is what is counted")

from disk_checks import closing_warnings, missing_by_namespace, neptune_warnings, parse
from run_checks import outside_pytest

from ultralytics_neptune import neptune_callbacks
from ultralytics_neptune.offline import read_offline_runs
from ultralytics_neptune.verification.recording import load_bundled

MODES = ("parity", "extended")
TMPFS_SIZE = "24k"  # metadata.json and last_put_version take a page each: the queue gets four, and fills in epoch 1
ANSI = re.compile(r"\x1b\[")

TRAININGS = """
import os, shutil, sys
from pathlib import Path
from ultralytics_neptune.synthetic import apply_offline_environment, make_detection_dataset

workdir, mode = Path(sys.argv[1]), sys.argv[2]
apply_offline_environment(workdir, settings=True)
data = make_detection_dataset(workdir / "dataset")
os.chdir(workdir)
from ultralytics import YOLO
from ultralytics_neptune import add_neptune_callbacks

quiet = dict(capture_stdout=False, capture_stderr=False, capture_hardware_metrics=False, source_files=[], git_ref=False)
for data_folder in sys.argv[3:]:  # a clean training, then one whose data folder fills up; same field names
    os.environ.update(NEPTUNE_MODE="offline", NEPTUNE_DATA_DIRECTORY=data_folder)
    print(f"=== training {data_folder}", flush=True)
    model = YOLO("yolov8n.yaml")
    add_neptune_callbacks(model, extended=mode == "extended", **quiet)
    model.train(
        data=str(data), epochs=2, imgsz=64, batch=4, workers=0, device="cpu", plots=True, verbose=False,
        name="train", exist_ok=True,
    )
    print(f"=== save_dir {model.trainer.save_dir}", flush=True)
    if data_folder != sys.argv[-1]:
        shutil.rmtree(model.trainer.save_dir)  # the next training starts afresh in the same folder name
"""


def operations_by_field(data_folder: Path) -> Counter:
    """What the client wrote of the training (not the machine facts it writes itself at start, under random names)."""
    runs = read_offline_runs(data_folder)
    return Counter("/".join(op["path"]) for run in runs for op in run.trace.without_environment().operations)


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


@pytest.fixture
def counted(trainings) -> dict:
    """The full-disk training of extended mode, the mode that counts what did not reach disk."""
    return trainings("extended")


@pytest.fixture
def parity_full_disk(trainings) -> dict:
    return trainings("parity")


def train_on_a_full_disk(mode: str, tmp_path_factory) -> dict:
    """A clean training, then one whose data folder is a full tmpfs, in one process; what each left behind."""
    if os.geteuid() != 0:
        pytest.skip("mounting the small tmpfs that fills up needs root (CI runs as root)")
    workdir = tmp_path_factory.mktemp(f"full-{mode}").resolve()
    clean, full = workdir / "clean-neptune", workdir / "full-neptune"
    full.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(full)], check=False)
    if mounted.returncode != 0:
        pytest.skip("could not mount a tmpfs (a container without the capability)")
    try:
        result = subprocess.run(
            [sys.executable, "-c", TRAININGS, str(workdir), mode, str(clean), str(full)],
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
        "mode": mode,
        "clean": operations_by_field(clean),
        "full": full_operations,
        "output": full_output,
        "clean_output": clean_output,
        "stderr": result.stderr,
        "save_dir": Path(re.search(r"^=== save_dir (.+)$", full_output, re.MULTILINE).group(1)),
    }


def test_the_training_completes_with_its_result_files(full_disk):
    save_dir = full_disk["save_dir"]
    assert (save_dir / "results.csv").is_file()
    assert (save_dir / "weights" / "best.pt").is_file() and (save_dir / "weights" / "last.pt").is_file()


def test_a_warning_names_the_write_fault(full_disk):
    warnings = neptune_warnings(full_disk["output"])
    assert any("No space left on device" in line for line in warnings)
    assert neptune_warnings(full_disk["clean_output"]) == []


def test_extended_modes_warnings_carry_no_colour_codes(counted):
    """Ultralytics' own integrations colour their prefix (the contributed module does too); the package's warnings,
    read in logs, do not."""
    assert not any(ANSI.search(line) for line in neptune_warnings(counted["output"]))


def test_no_client_traceback_at_exit_for_the_reported_fault(full_disk):
    assert "Traceback" not in full_disk["stderr"], full_disk["stderr"][-3000:]


def test_extended_mode_closes_with_one_warning_whose_count_equals_the_operations_missing_from_the_queue(counted):
    (warning,) = closing_warnings(counted["output"])
    count, _, _ = parse(warning)
    missing = counted["clean"] - counted["full"]
    assert missing, "the tmpfs did not fill: nothing to count"
    assert count == sum(missing.values())


def test_the_closing_warning_names_each_namespace_with_its_missing_operations(counted):
    (warning,) = closing_warnings(counted["output"])
    _, namespaces, _ = parse(warning)
    assert namespaces == missing_by_namespace(counted["clean"], counted["full"])


def test_the_closing_warning_names_the_cause_on_one_line(counted):
    (warning,) = closing_warnings(counted["output"])
    _, _, cause = parse(warning)
    assert cause == f"OSError: [Errno {errno.ENOSPC}] No space left on device"


def test_extended_mode_warns_at_most_three_times_and_does_not_count_the_fault_again(counted):
    """One warning as the fault first shows, the closing count; no 'in all' line counting it again."""
    warnings = neptune_warnings(counted["output"])
    assert 1 <= len(warnings) <= 3
    assert not any("in all" in line for line in warnings)


def test_extended_mode_says_the_data_was_lost_not_only_that_the_run_did_not_stop_cleanly(counted):
    assert "could not stop the Neptune run cleanly" not in counted["output"]
    assert "were not written to disk" in counted["output"]


def test_parity_mode_claims_no_count_of_what_was_lost(parity_full_disk):
    """Upstream's behaviour plus a warning per kind of failed call: its closing line counts the failed calls, which a
    buffered write loses more than, so it does not say how many items were not logged."""
    warnings = neptune_warnings(parity_full_disk["output"])
    assert not any("were not written to disk" in line or "were not logged" in line for line in warnings)
    assert any("problems while logging" in line for line in warnings)


# Without root: the client's queue file refusing writes, and a data folder removed, on a replayed training


QUIET = {"capture_stdout": False, "capture_stderr": False, "capture_hardware_metrics": False}


class Warnings(logging.Handler):
    """The warnings Ultralytics' logger gives while attached (it does not propagate to pytest's caplog)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def replayed(neptune_replay, tmp_path, monkeypatch):
    """Replay a training with the real client offline (extended mode unless told): (operations on disk, warnings)."""
    from ultralytics.utils import LOGGER

    recording = load_bundled("ultralytics-8.4.131")
    monkeypatch.setenv("NEPTUNE_MODE", "offline")
    monkeypatch.chdir(tmp_path)

    def logged(folder: str, faults: dict | None = None, extended: bool = True) -> tuple:
        data_folder = tmp_path / folder
        monkeypatch.setenv("NEPTUNE_DATA_DIRECTORY", str(data_folder))
        callbacks = neptune_callbacks(extended=extended, source_files=[], git_ref=False, **QUIET)
        warnings = Warnings()
        LOGGER.addHandler(warnings)
        try:
            neptune_replay(recording, [faults or {}, callbacks])
        finally:
            LOGGER.removeHandler(warnings)
        return operations_by_field(data_folder), warnings.messages

    return logged


def remove_the_data_folder(trainer):
    """At the second epoch's end, the client's data folder is gone."""
    if trainer.epoch == 1:
        shutil.rmtree(Path(os.environ["NEPTUNE_DATA_DIRECTORY"]) / "offline")


def forks_within(seconds: float) -> bool:
    """Whether this process forks a worker (as a dataloader does) within seconds: the client holds every fork of the
    process while one of its runs is stopping."""

    def fork_a_worker():
        worker = multiprocessing.get_context("fork").Process(target=int)
        worker.start()
        worker.join()

    forking = threading.Thread(target=fork_a_worker, daemon=True)
    forking.start()
    forking.join(seconds)
    return not forking.is_alive()


def test_a_simulated_enospc_is_counted_as_the_operations_missing_from_the_queue(replayed, monkeypatch):
    from neptune.core.components.queue.log_file import LogFile

    clean, _ = replayed("clean")
    write = LogFile.write
    writes = []

    def fills_up(self, data):
        writes.append(data)
        if len(writes) > 60:  # the queue's file takes 60 operations, then the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        write(self, data)

    monkeypatch.setattr(LogFile, "write", fills_up)
    faulty, messages = replayed("faulty")
    (warning,) = closing_warnings("\n".join(messages))
    count, namespaces, cause = parse(warning)
    assert count == sum((clean - faulty).values()) > 0
    assert namespaces == missing_by_namespace(clean, faulty)
    assert cause.startswith("OSError: [Errno 28]")


def test_a_data_folder_removed_during_training_is_counted_and_named(replayed):
    clean, _ = replayed("clean")
    faulty, messages = replayed("removed", {"on_fit_epoch_end": remove_the_data_folder})
    assert faulty == Counter()  # nothing of the run is left
    (warning,) = closing_warnings("\n".join(messages))
    count, _, cause = parse(warning)
    assert "the run's data folder no longer exists" in cause
    given_by_us = sum(n for field, n in clean.items() if not field.startswith(("sys/", "source_code/")))
    assert given_by_us <= count <= sum(clean.values())


def test_in_parity_mode_a_removed_data_folder_is_a_warning_per_kind_of_failure_and_the_training_completes(replayed):
    faulty, messages = replayed("removed", {"on_fit_epoch_end": remove_the_data_folder}, extended=False)
    assert faulty == Counter()  # nothing of the run is left
    ours = [ANSI.sub("", message) for message in messages if "Neptune" in message]
    assert "could not upload Plots/" in ours[0] and "skipped: FileNotFoundError" in ours[0]
    assert "problems while logging (warnings above)" in ours[-1]
    assert len(ours) == len(set(ours)) <= 4  # one warning per kind of failure, not one per operation


def test_the_process_still_forks_workers_after_extended_mode_could_not_stop_its_run(replayed):
    """The client's stop fails part-way on a folder that is gone; later dataloader workers must still start."""
    replayed("removed", {"on_fit_epoch_end": remove_the_data_folder})
    assert forks_within(30)


def test_the_process_still_forks_workers_after_a_parity_run_could_not_stop(replayed):
    _, messages = replayed("removed", {"on_fit_epoch_end": remove_the_data_folder}, extended=False)
    assert any("could not stop the run" in message for message in messages)  # the stop at teardown failed
    assert forks_within(30)
