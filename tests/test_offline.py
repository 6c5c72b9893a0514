"""The offline reader on damaged or unusual run folders, written line by line in the client's format."""

from __future__ import annotations

import json

import pytest

from ultralytics_neptune.offline import read_offline_run

RUN_FOLDER = "run__0d6f6a5e-4d1c-4f0b-9c53-1c2a3b4c5d6e__123__abcd1234"
GOOD = {"type": "LogFloats", "path": ["train", "loss"], "values": [{"value": 0.5, "step": 1, "ts": 1.0}]}


def entry(obj, version: int, at: float = 1796000000.0) -> str:
    return json.dumps({"obj": obj, "version": version, "at": at})


@pytest.fixture
def run_folder(tmp_path):
    """write(*lines, log="data-1.log") writes a run folder with metadata and those lines; returns the folder."""
    folder = tmp_path / ".neptune" / "offline" / RUN_FOLDER

    def write(*lines, log: str = "data-1.log"):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "metadata.json").write_text(json.dumps({"mode": "offline", "containerId": "run-id"}))
        (folder / log).write_text("".join(line + "\n" for line in lines))
        return folder

    return write


def test_the_span_is_when_the_first_and_the_last_operation_were_written(run_folder):
    folder = run_folder(entry(GOOD, 2, at=1796000010.5), entry(GOOD, 1, at=1796000000.0))
    assert read_offline_run(folder).span == (1796000000.0, 1796000010.5)


def test_a_run_with_no_operation_has_no_span(run_folder):
    assert read_offline_run(run_folder()).span == ()


@pytest.mark.parametrize(
    "obj",
    [
        {"path": ["train", "loss"]},
        {"type": "LogFloats", "path": "train/loss", "values": []},
        {"type": "LogFloats", "path": ["train", "loss"], "values": 0.5},
        {"type": "LogFloats", "path": ["train", "loss"], "values": [{"step": 1}]},
        {"type": "AssignInt", "path": ["epochs"]},
        {"type": "AddStrings", "path": ["sys", "tags"], "values": [1]},
        [1, 2],
    ],
    ids=["no type", "path not a list", "values not a list", "a value missing", "no value", "tags not strings", "list"],
)
def test_a_line_holding_no_usable_operation_is_named_and_the_others_are_kept(run_folder, obj):
    folder = run_folder(entry(obj, 1), entry(GOOD, 2))
    run = read_offline_run(folder)
    assert len(run.problems) == 1 and run.problems[0].startswith(f"{folder / 'data-1.log'} line 1 is corrupt")
    assert run.series() == {"train/loss": [(1, 0.5)]}


def test_a_missing_log_file_before_the_last_is_named(run_folder):
    folder = run_folder(entry(GOOD, 7), log="data-2.log")
    run = read_offline_run(folder)
    assert run.problems == [f"{folder / 'data-1.log'} is missing: the operations it held are lost"]
    assert run.series() == {"train/loss": [(1, 0.5)]}


def test_metadata_that_is_not_an_object_is_reported(run_folder):
    folder = run_folder(entry(GOOD, 1))
    (folder / "metadata.json").write_text("[]")
    run = read_offline_run(folder)
    assert run.problems == [f"{folder / 'metadata.json'} unreadable (ValueError); run id taken from the folder"]
    assert run.run_id == RUN_FOLDER


def test_an_upload_naming_no_file_reads_as_missing(run_folder):
    upload = {"type": "UploadFile", "path": ["weights"], "ext": "pt", "file_path": None, "tmp_file_name": None}
    run = read_offline_run(run_folder(entry(upload, 1)))
    assert run.uploads()["weights"]["content"] == {"missing": True, "error": "no file_path or tmp_file_name"}


def test_an_artifact_assignment_reads_as_its_hash(run_folder):
    artifact = {"type": "AssignArtifact", "path": ["dataset"], "hash": "ab12"}
    assert read_offline_run(run_folder(entry(artifact, 1))).atoms() == {"dataset": "ab12"}
