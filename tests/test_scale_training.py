"""Real tiny trainings with only ``neptune-scale`` installed, offline, registered in Python and by the start-up
switch, in parity and extended mode: the SQLite file read back holds every field, value and step of the 1.x trace of
the same training (its recording replayed through the 1.x fake), mapped by the README's table, and every upload;
one run, never two."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("neptune_scale", reason="these trainings log with the real neptune-scale client")

from run_checks import EPOCHS, outside_pytest
from scale_mapping import differences

from ultralytics_neptune.offline import offline_run_folders, read_offline_run
from ultralytics_neptune.verification.parity import our_trace
from ultralytics_neptune.verification.recording import Recording

SCRIPT = Path(__file__).parent / "scripts" / "train_and_log_scale.py"
CASES = {
    "detect-python": ("detect", "python", False),
    "classify-python": ("classify", "python", False),
    "detect-switch": ("detect", "switch", False),
    "detect-python-extended": ("detect", "python", True),
    "segment-switch-extended": ("segment", "switch", True),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def trained(request, tmp_path_factory):
    task, how, extended = CASES[request.param]
    workdir = tmp_path_factory.mktemp(f"scale-{request.param}")
    environment = {**outside_pytest(), "NEPTUNE_MODE": "offline"}
    environment.pop("ULTRALYTICS_NEPTUNE_CLIENT", None)  # only neptune-scale is installed: the default client
    if how == "switch":
        environment["ULTRALYTICS_NEPTUNE"] = "1"
        environment["ULTRALYTICS_NEPTUNE_EXTENDED"] = "1" if extended else "0"
    command = [sys.executable, str(SCRIPT), str(workdir), str(EPOCHS), task, how] + (["extended"] if extended else [])
    result = subprocess.run(command, capture_output=True, text=True, env=environment)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return workdir, Path((workdir / "save_dir.txt").read_text()), Recording.load(workdir / "recording.json"), extended


def test_a_real_training_writes_one_3x_run(trained):
    workdir = trained[0]
    assert len(offline_run_folders(workdir / ".neptune")) == 1


def test_the_3x_run_holds_the_1x_trace_of_the_same_training_mapped(trained, tmp_path):
    workdir, save_dir, recording, extended = trained
    expected = our_trace(recording, tmp_path, extended=extended)
    actual = read_offline_run(offline_run_folders(workdir / ".neptune")[0]).trace
    # what differs by construction: the versions extended mode logs name each client's own release; the replay's
    # files are synthetic copies of the real ones (their digests differ), so uploads are compared by field and type
    without = frozenset({"Configuration/Versions/neptune", "Configuration/Versions/neptune-scale"})
    found = differences(
        _files_by_field(expected, save_dir, workdir), _files_by_field(actual, save_dir, workdir), without
    )
    assert found == []


def test_every_file_the_3x_run_uploads_exists_for_neptune_sync(trained):
    run = read_offline_run(offline_run_folders(trained[0] / ".neptune")[0])
    assert [field for field, op in run.uploads().items() if op["content"].get("missing")] == []


def _files_by_field(trace, save_dir, workdir):
    """The trace with each upload's content reduced to its kind (the replay writes synthetic files, and figure pixels
    of a real training's plots differ from those of synthetic ones), its file path relative to save_dir, and the work
    folder out of string values (a recording keeps paths relative to it)."""
    from ultralytics_neptune.trace import Trace

    prefix = f"{Path(workdir).resolve()}/"
    operations = []
    for op in trace.relative_to(save_dir).operations:
        if isinstance(op.get("value"), str) and op["value"].startswith(prefix):
            op = {**op, "value": op["value"][len(prefix) :]}
        if op["type"] == "UploadFile":
            image = "image" in op.get("content", {})
            op = {
                **op,
                "content": {"image": {"figure": True}} if image else {},
                "file_path": None if image else op.get("file_path"),
            }
        operations.append(op)
    return Trace(trace.init_run, operations, dict(trace.meta))
