"""Reading back a Neptune 3.x run (``offline_scale``): the offline reader finds and reads the SQLite file with the
client's protobuf classes, and the report shows the run, its charts and its images, beside 1.x runs (in Chromium:
test_scale_report.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("neptune_scale", reason="reading 3.x runs back needs the real neptune-scale client")

from ultralytics_neptune.offline import format_summary, offline_run_folders, read_offline_run
from ultralytics_neptune.offline_scale import DATABASE
from ultralytics_neptune.report import write_report
from ultralytics_neptune.verification.replay import replay
from ultralytics_neptune.verification.scale_check import scale_callbacks


@pytest.fixture(scope="module")
def data_directory(tmp_path_factory, neptune_recordings):
    """A .neptune folder holding the 3.x run parity mode logged on the newest detect recording."""
    recording = [r for r in neptune_recordings.values() if r.task == "detect"][-1]
    root = tmp_path_factory.mktemp("scale-run")
    _logger, callbacks = scale_callbacks(recording.ultralytics_version, root / ".neptune")
    replay(recording, callbacks, root / "save_dir")
    return root / ".neptune"


@pytest.fixture(scope="module")
def run(data_directory):
    return read_offline_run(offline_run_folders(data_directory)[0])


@pytest.fixture(scope="module")
def page(data_directory, tmp_path_factory):
    return write_report(offline_run_folders(data_directory), tmp_path_factory.mktemp("report") / "report.html")


def test_the_offline_reader_finds_the_3x_run_folder(data_directory):
    assert [(folder / DATABASE).is_file() for folder in offline_run_folders(data_directory)] == [True]


def test_the_run_read_back_has_no_problems(run):
    assert run.problems == []


def test_the_run_read_back_names_its_client(run):
    assert run.metadata["client"] == "neptune-scale"


def test_the_run_read_back_has_the_experiment_name_and_tags(run):
    assert (run.trace.init_run["name"], run.trace.init_run["tags"]) == ("train", ["Ultralytics"])


def test_the_series_read_back_have_their_steps(run):
    assert [step for step, _ in run.series()["train/box_loss"]] == [1, 2, 3]


def test_the_summary_lists_the_uploads_and_series(run):
    summary = format_summary(run)
    assert "Mosaic" in summary and "metrics" in summary and "weights/train/best.pt" in summary


def test_the_report_has_a_chart_of_every_series(page, run):
    html = Path(page).read_text()
    charted = set(re.findall(r'data-series="([^"]+)"', html))
    assert set(run.series()) <= charted


def test_the_report_shows_every_uploaded_image(page, run):
    html = Path(page).read_text()
    shown = set(re.findall(r'<img[^>]*data-field="([^"]+)"', html))
    images = {field for field, op in run.uploads().items() if op.get("ext") in ("jpg", "png")}
    assert images <= shown


def test_the_report_of_a_3x_run_sits_beside_a_1x_run_folder(data_directory, tmp_path):
    both = tmp_path / ".neptune"
    shutil.copytree(data_directory, both)
    (both / "offline" / "run__abc__1__x").mkdir(parents=True)
    assert len(offline_run_folders(both)) == 2


def test_neptune_sync_here_is_the_3x_clients_command_taking_a_sqlite_file():
    import sys

    script = Path(sys.executable).parent / "neptune"
    result = subprocess.run([str(script), "sync", "--help"], capture_output=True, text=True, timeout=120)
    assert (result.returncode, "<run-log-file>" in result.stdout) == (0, True)
