"""The report of a Neptune 3.x run in a real browser: a real tiny training logged offline with ``neptune-scale``,
reported by ``ultralytics-neptune report`` and looked at in headless Chromium (tests/chromium.py), as the 1.x
report's training is in tests/test_report.py.

What the page must show is read from the run's SQLite file with the client's own protobuf classes, apart from the
package's reader: each series with its number of points, and each image the run uploads.
"""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("neptune_scale", reason="the training logs with the real neptune-scale client")

from chromium import (
    CLICK_THE_FIRST_VALIDATION_IMAGE,
    LOOK_AT_THE_PAGE,
    Chromium,
    chromium_executable,
    console_errors,
    outside,
    requested_urls,
)
from run_checks import EPOCHS, outside_pytest

from ultralytics_neptune.report import write_report

TRAINING_SCRIPT = Path(__file__).parent / "scripts" / "train_and_log_scale.py"
CREATE_RUN = 1  # run_operations.operation_type of the run's creation; every other row is an UpdateRunSnapshot


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """The work folder of a real 3-epoch detect training logged by the parity callbacks to neptune-scale offline."""
    workdir = tmp_path_factory.mktemp("trained-scale")
    command = [sys.executable, str(TRAINING_SCRIPT), str(workdir), str(EPOCHS), "detect", "python"]
    environment = {**outside_pytest(), "NEPTUNE_MODE": "offline"}
    result = subprocess.run(command, capture_output=True, text=True, env=environment)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return workdir


@pytest.fixture(scope="module")
def logged(trained) -> dict:
    """What the run's SQLite file holds, parsed with the client's protobuf classes: {"points": {series: number of
    points}, "images": sorted fields of the image files, "run_id": the run's id}."""
    from neptune_api.proto.neptune_pb.ingest.v1 import common_pb2

    (database,) = (trained / ".neptune").glob("*/run_operations.sqlite3")
    points, images, run_id = {}, set(), None
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        for kind, blob in connection.execute("SELECT operation_type, operation FROM run_operations"):
            if kind == CREATE_RUN:
                run_id = common_pb2.Run.FromString(blob).family
                continue
            snapshot = common_pb2.UpdateRunSnapshot.FromString(blob)
            for key, value in snapshot.append.items():
                if value.WhichOneof("value") in ("float64", "int64"):
                    points[key] = points.get(key, 0) + 1
            for key, value in snapshot.assign.items():
                if value.WhichOneof("value") == "file_ref" and value.file_ref.mime_type.startswith("image/"):
                    images.add(key)
    return {"points": points, "images": sorted(images), "run_id": run_id}


@pytest.fixture(scope="module")
def page(trained, tmp_path_factory) -> Path:
    return write_report([trained], tmp_path_factory.mktemp("page") / "report.html")


@pytest.fixture(scope="module")
def browser(page, tmp_path_factory) -> dict:
    """The page loaded in headless Chromium: its charted lines and images as laid out, a click on a validation image,
    and every event the page sent."""
    executable = chromium_executable()
    if executable is None:
        pytest.skip("Chromium is not installed (apt-get install -y chromium; CI installs it)")
    chromium = Chromium(executable, tmp_path_factory.mktemp("chromium-profile"))
    try:
        chromium.load(page.as_uri())
        seen = chromium.evaluate(LOOK_AT_THE_PAGE)
        seen["click"] = chromium.evaluate(CLICK_THE_FIRST_VALIDATION_IMAGE)
        seen["events"] = chromium.events_by_method()
    finally:
        chromium.close()
    return seen


def test_the_3x_run_logged_series_and_images_to_look_for(logged):
    assert logged["run_id"] and logged["points"] and logged["images"]


def test_chromium_shows_the_page_of_a_3x_run_with_no_console_error_or_exception(browser):
    assert console_errors(browser["events"]) == []


def test_chromium_requests_nothing_but_the_page_of_a_3x_run_and_its_images(browser, page):
    urls = requested_urls(browser["events"])
    assert urls[0] == page.as_uri()
    assert outside(urls, page) == []


def test_chromium_draws_a_chart_of_every_3x_series_with_one_point_per_value(browser, logged):
    drawn = {line["field"]: line["points"] for line in browser["lines"] if line["run"] == logged["run_id"]}
    assert drawn == logged["points"]
    assert all(line["shown"] for line in browser["lines"])


def test_chromium_shows_every_image_the_3x_run_uploads(browser, logged):
    assert sorted(image["field"] for image in browser["images"]) == logged["images"]
    assert all(image["width"] > 0 and image["shown"] for image in browser["images"]), browser["images"]


def test_a_click_on_a_validation_image_of_a_3x_run_shows_it_at_full_size_until_escape(browser):
    click = browser["click"]
    assert click["open"] and click["shown"] == click["natural"] > 0 and click["closed"]
