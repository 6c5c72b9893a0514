"""``ultralytics-neptune report``: one HTML page of offline runs that opens from disk with no network.

A real tiny training is reported and looked at in headless Chromium (Debian's ``chromium``, driven through the
DevTools protocol on a pipe: tests/chromium.py); other runs are written through the real ``neptune`` client in
offline mode and their pages read as HTML. ``ULTRALYTICS_NEPTUNE_SCREENSHOT=docs/report.png`` makes the browser test
save its screenshot of the training's page there (the README's picture).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from unittest import mock

import pytest

neptune = pytest.importorskip("neptune", reason="the report tests write runs with the real neptune client (test extra)")

from chromium import (  # noqa: E402
    CLICK_THE_FIRST_VALIDATION_IMAGE,
    LOOK_AT_THE_PAGE,
    Chromium,
    chromium_executable,
    console_errors,
    outside,
    requested_urls,
)
from run_checks import EPOCHS, outside_pytest  # noqa: E402

from ultralytics_neptune.cli import main as cli  # noqa: E402
from ultralytics_neptune.offline import OfflineRun, offline_run_folders, read_offline_run  # noqa: E402
from ultralytics_neptune.report import write_report  # noqa: E402

TRAINING_SCRIPT = Path(__file__).parent / "scripts" / "train_and_log.py"
SCREENSHOT_ENV = "ULTRALYTICS_NEPTUNE_SCREENSHOT"
SCREENSHOT_SIZE = (1280, 1700)
QUIET = {
    "capture_stdout": False,
    "capture_stderr": False,
    "capture_hardware_metrics": False,
    "source_files": [],
    "git_ref": False,
}


# ------------------------------------------------------------------------------------------------ reading a page


class PageContents(HTMLParser):
    """What a report page holds for a reader: its text, each charted line with its vertices, images, references."""

    def __init__(self, html: str):
        super().__init__()
        self.lines: list = []  # [field, run id, vertices]
        self.images: list = []  # attributes of each image of an upload
        self.references: list = []  # (tag, attribute, value) of every src and href
        self.tags: list = []
        self._text: list = []
        self._line = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        self.references += [
            (tag, name, value) for name, value in attrs.items() if name in ("src", "href", "xlink:href")
        ]
        if tag == "g" and attrs.get("class") == "series":
            self._line = [attrs["data-series"], attrs["data-run"], None]
            self.lines.append(self._line)
        elif tag == "path" and self._line is not None and self._line[2] is None:
            self._line[2] = len(re.findall(r"[ML]", attrs["d"]))
        elif tag == "img" and "data-field" in attrs:  # an upload's image (the full-size viewer's has none)
            self.images.append(attrs)

    def handle_data(self, data):
        self._text.append(data)

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self._text))

    def points(self, run_id: str | None = None) -> dict:
        """{field: vertices} of the lines of one run (or of the only run)."""
        return {field: vertices for field, run, vertices in self.lines if run_id in (None, run)}


def page_of(path: Path) -> PageContents:
    return PageContents(path.read_text(encoding="utf-8"))


def image_fields(run: OfflineRun) -> list:
    return sorted(name for name, op in run.uploads().items() if op.get("ext") in ("jpg", "png"))


# ------------------------------------------------------------------------------------------ runs through the client


def log_offline_run(data_directory: Path, fill=lambda run: None, **init_run_kwargs) -> Path:
    """Write a run with the real client in offline mode; fill(run) logs into it. Return its run folder."""
    before = set(offline_run_folders(data_directory))
    with mock.patch.dict(os.environ, {"NEPTUNE_DATA_DIRECTORY": str(data_directory)}):
        run = neptune.init_run(mode="offline", **QUIET, **init_run_kwargs)
        fill(run)
        run.stop()
    (folder,) = set(offline_run_folders(data_directory)) - before
    return folder


def log_epochs(epochs: int, lr0: float = 0.01):
    """A fill that logs a small training: losses, a metric and a learning rate per epoch, and hyperparameters."""

    def fill(run):
        run["Configuration/Hyperparameters"] = {"epochs": epochs, "lr0": lr0, "imgsz": 64}
        for step in range(1, epochs + 1):
            run["train/box_loss"].append(1.0 / step, step=step)
            run["val/box_loss"].append(1.2 / step, step=step)
            run["metrics/mAP50(B)"].append(0.1 * step * lr0 * 100, step=step)
            run["lr/pg0"].append(lr0 / step, step=step)

    return fill


@pytest.fixture
def data_directory(tmp_path) -> Path:
    return tmp_path / ".neptune"


@pytest.fixture
def small_run(data_directory) -> Path:
    """A run folder holding three epochs of a small training."""
    return log_offline_run(data_directory, log_epochs(3), name="small", tags=["test"])


@pytest.fixture
def report(tmp_path):
    """report(*paths, **options) writes the report of paths into tmp_path and returns its contents."""

    def make(*paths, **options) -> PageContents:
        return page_of(write_report(list(paths), tmp_path / "report" / "report.html", **options))

    return make


# ----------------------------------------------------------------------------------------- a real tiny training


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """The work folder of a real 3-epoch training logged by the parity callbacks to the real client offline."""
    workdir = tmp_path_factory.mktemp("trained")
    command = [sys.executable, str(TRAINING_SCRIPT), str(workdir), str(EPOCHS)]
    result = subprocess.run(command, capture_output=True, text=True, env=outside_pytest())
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return workdir


@pytest.fixture(scope="module")
def training_run(trained) -> OfflineRun:
    (folder,) = offline_run_folders(trained / ".neptune")
    return read_offline_run(folder)


@pytest.fixture(scope="module")
def training_page(trained, tmp_path_factory) -> Path:
    return write_report([trained], tmp_path_factory.mktemp("page") / "report.html")


def test_the_page_of_a_training_references_nothing_outside_itself_and_its_images_folder(training_page):
    contents = page_of(training_page)
    html = training_page.read_text()
    for tag, attribute, value in contents.references:
        local = value.startswith(("#", "data:")) or (training_page.parent / value).is_file()
        assert local, f"<{tag} {attribute}={value!r}> points outside the page"
    assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", html)
    assert "link" not in contents.tags
    assert all(value.startswith("report_files/") for tag, _, value in contents.references if tag == "img")


def test_the_header_names_the_run_its_tags_status_and_versions(training_page, training_run):
    text = page_of(training_page).text
    assert f"Run id {training_run.run_id}" in text
    assert "Name train" in text and "Tags Ultralytics" in text
    assert "Status offline run, not synced" in text and "Failed no" in text
    assert f"neptune client {training_run.metadata['neptuneClientVersion']}" in text


def test_the_versions_an_extended_run_logged_are_in_its_header(data_directory, report):
    def fill(run):
        run["Configuration/Versions"] = {"ultralytics": "8.4.190", "torch": "2.14.1", "ultralytics-neptune": "0.9"}

    text = report(log_offline_run(data_directory, fill)).text
    python = sys.version.split()[0]
    assert f"Versions Python {python}, neptune client {neptune.__version__}, Ultralytics 8.4.190, torch 2.14.1" in text
    assert "Configuration/Versions" not in text


def test_the_hyperparameters_and_the_model_summary_are_tables(training_page, training_run):
    text = page_of(training_page).text
    atoms = training_run.atoms()
    assert f"Hyperparameters ({sum(1 for f in atoms if f.startswith('Configuration/Hyperparameters/'))})" in text
    assert "imgsz 64" in text and "epochs 3" in text
    assert f"model/parameters {atoms['Configuration/Model/model/parameters']}" in text


def test_the_weights_are_listed_with_their_size_and_checksum(training_page, trained):
    best = Path((trained / "save_dir.txt").read_text()) / "weights" / "best.pt"
    text = page_of(training_page).text
    sha256 = hashlib.sha256(best.read_bytes()).hexdigest()
    assert f"weights/train/best.pt train/best.pt {best.stat().st_size / 2**20:.1f} MB {sha256[:16]} {best}" in text


def test_every_series_of_the_training_has_a_chart_with_one_point_per_value(training_page, training_run):
    expected = {field: len(points) for field, points in training_run.series().items()}
    assert page_of(training_page).points(training_run.run_id) == expected


def test_every_uploaded_image_of_the_training_is_on_the_page(training_page, training_run):
    images = page_of(training_page).images
    assert sorted(image["data-field"] for image in images) == image_fields(training_run)


# --------------------------------------------------------------------------------------------- in a real browser


@pytest.fixture(scope="module")
def browser(training_page, tmp_path_factory):
    """The training's page loaded in headless Chromium, with what the page looked like (and a screenshot)."""
    executable = chromium_executable()
    if executable is None:
        pytest.skip("Chromium is not installed (apt-get install -y chromium; CI installs it)")
    chromium = Chromium(executable, tmp_path_factory.mktemp("chromium-profile"))
    try:
        chromium.load(training_page.as_uri())
        seen = chromium.evaluate(LOOK_AT_THE_PAGE)
        seen["click"] = chromium.evaluate(CLICK_THE_FIRST_VALIDATION_IMAGE)
        seen["screenshot"] = tmp_path_factory.mktemp("screenshot") / "report.png"
        chromium.screenshot(seen["screenshot"], *SCREENSHOT_SIZE)
        seen["events"] = chromium.events_by_method()
    finally:
        chromium.close()
    if os.environ.get(SCREENSHOT_ENV):
        Path(os.environ[SCREENSHOT_ENV]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(seen["screenshot"], os.environ[SCREENSHOT_ENV])
    return seen


def test_chromium_shows_the_page_with_no_console_error_or_exception(browser):
    assert console_errors(browser["events"]) == []


def test_chromium_requests_nothing_but_the_page_and_its_images(browser, training_page):
    urls = requested_urls(browser["events"])
    assert urls[0] == training_page.as_uri()
    assert outside(urls, training_page) == []


def test_chromium_draws_a_chart_of_every_series_with_one_point_per_value(browser, training_run):
    drawn = {line["field"]: line["points"] for line in browser["lines"] if line["run"] == training_run.run_id}
    assert drawn == {field: len(points) for field, points in training_run.series().items()}
    assert all(line["shown"] for line in browser["lines"])


def test_chromium_shows_every_uploaded_image(browser, training_run):
    assert sorted(image["field"] for image in browser["images"]) == image_fields(training_run)
    assert all(image["width"] > 0 and image["shown"] for image in browser["images"]), browser["images"]


def test_a_click_on_a_validation_image_shows_it_at_full_size_until_escape(browser):
    click = browser["click"]
    assert click["open"] and click["shown"] == click["natural"] > 0 and click["closed"]


def test_the_screenshot_of_the_page_is_taken_at_its_size(browser):
    png = browser["screenshot"].read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")) == SCREENSHOT_SIZE


# ----------------------------------------------------------------------------------------------- other writers


@pytest.fixture(scope="module")
def yolov8_era_run(tmp_path_factory) -> Path:
    """A run as the callback of Ultralytics 8.3.8 wrote it through the real client offline: the bundled 8.3.8
    recording replayed through parity mode behaving as 8.3.8 ("YOLOv8" tag, fixed plot list, the final metrics at
    step E again). It is not upstream's module running: the golden tests prove parity mode's trace equal to that of
    8.3.8's own module on this recording."""
    from ultralytics_neptune.composed import ParityLogger
    from ultralytics_neptune.verification.parity import closing_new_figures
    from ultralytics_neptune.verification.recording import load_bundled
    from ultralytics_neptune.verification.replay import replay

    workdir = tmp_path_factory.mktemp("yolov8-era")
    data_directory = workdir / ".neptune"
    environment = {"NEPTUNE_DATA_DIRECTORY": str(data_directory), "NEPTUNE_MODE": "offline"}
    with mock.patch.dict(os.environ, environment), closing_new_figures():
        replay(
            load_bundled("ultralytics-8.3.8"), ParityLogger(release="8.3.8", **QUIET).callbacks(), workdir / "save_dir"
        )
    (folder,) = offline_run_folders(data_directory)
    return folder


def test_a_run_of_an_old_releases_callback_is_reported_in_full(yolov8_era_run, report):
    run = read_offline_run(yolov8_era_run)
    page = report(yolov8_era_run)
    assert page.points() == {field: len(points) for field, points in run.series().items()}
    assert sorted(image["data-field"] for image in page.images) == image_fields(run)
    assert "Tags YOLOv8" in page.text


def test_a_step_logged_twice_is_drawn_and_warned_about(yolov8_era_run, report):
    text = report(yolov8_era_run).text
    assert "Warnings (1)" in text
    assert "metrics/mAP50(B) (step 3 after 3)" in text and "a Neptune server refuses such points" in text


def test_a_truncated_operation_file_is_named_in_a_warning_and_the_rest_is_reported(small_run, report):
    log = small_run / "data-1.log"
    log.write_bytes(log.read_bytes().rstrip(b"\n")[:-20])
    page = report(small_run)
    assert f"{log} last line" in page.text and "is truncated and was skipped" in page.text
    assert page.points() == {"train/box_loss": 3, "val/box_loss": 3, "metrics/mAP50(B)": 3, "lr/pg0": 2}


def test_a_corrupt_line_is_named_in_a_warning_and_the_lines_after_it_are_kept(small_run, report):
    log = small_run / "data-1.log"
    lines = log.read_text().splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines) if '"train", "box_loss"' in line)
    lines[number] = lines[number][:30] + "\n"
    log.write_text("".join(lines))
    page = report(small_run)
    assert f"{log} line {number + 1} is corrupt and was skipped" in page.text
    assert page.points()["train/box_loss"] == 2 and page.points()["val/box_loss"] == 3


def test_a_run_folder_without_operation_files_gives_a_page_that_says_so(small_run, report):
    (small_run / "data-1.log").unlink()
    page = report(small_run)
    assert "no data-*.log file (nothing logged yet)" in page.text
    assert "This run holds nothing besides its header." in page.text


def test_an_empty_run_gives_a_page_with_its_header_and_no_warning(data_directory, report):
    folder = log_offline_run(data_directory)
    page = report(folder)
    assert f"Run id {read_offline_run(folder).run_id}" in page.text and "Name Untitled" in page.text
    assert "Warnings" not in page.text and page.lines == []


def test_an_uploaded_file_that_is_gone_is_warned_about_and_the_other_uploads_are_shown(data_directory, tmp_path):
    kept, gone = tmp_path / "kept.png", tmp_path / "gone.png"
    for image in (kept, gone):
        image.write_bytes(PNG_1X1)

    def fill(run):
        run["Plots/kept"].upload(neptune.types.File(str(kept)))
        run["Plots/gone"].upload(neptune.types.File(str(gone)))

    folder = log_offline_run(data_directory, fill)
    gone.unlink()
    page = page_of(write_report([folder], tmp_path / "report.html"))
    assert f"Plots/gone: {gone} does not exist any more; not shown" in page.text
    assert [image["data-field"] for image in page.images] == ["Plots/kept"]


PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def test_every_kind_of_field_another_integration_logs_is_on_the_page(data_directory, tmp_path, report):
    readme = tmp_path / "notes.txt"
    readme.write_text("notes")

    def fill(run):
        run["parameters"] = {"optimizer": "adam", "batch_size": 32, "dropout": 0.1, "augment": True}
        run["training/loss"].extend([0.9, 0.5, 0.4])  # no steps: the server numbers them 0, 1, 2
        run["training/stdout"].append("epoch 1 done")
        run["data/classes"].add(["cat", "dog", "bird"])
        run["data/classes"].remove("bird")
        run["finished_at"] = __import__("datetime").datetime(
            2026, 3, 5, 12, 0, tzinfo=__import__("datetime").timezone.utc
        )
        run["artifacts/notes"].upload(neptune.types.File(str(readme)))
        run["artifacts/summary"].upload(neptune.types.File.from_content("a summary", extension="txt"))
        run["predictions"].append(neptune.types.File.from_content(PNG_1X1, extension="png"), name="first guess")
        run["code"].upload_files([str(readme)])
        run["scratch/value"] = 1
        del run["scratch/value"]

    page = report(log_offline_run(data_directory, fill, name="other integration"))
    assert page.points() == {"training/loss": 3}
    for shown in (
        "optimizer adam",
        "batch_size 32",
        "dropout 0.1",
        "augment True",  # a table of the parameters namespace
        "epoch 1 done",  # a string series
        "data/classes string set cat, dog",  # a string set, after its removal
        "finished_at 2026-03-05 12:00:00 UTC",  # a date
        "artifacts/notes notes.txt 5 B",  # a file, by reference
        "artifacts/summary summary.txt 9 B",  # a file kept in the run folder
        f"code {readme} - - file set",  # a file set
    ):
        assert shown in page.text
    assert [image["data-field"] for image in page.images] == ["predictions"]
    assert "scratch/value" not in page.text and "Warnings" not in page.text


def test_a_file_kept_inside_the_operation_log_is_shown(small_run, report):
    content = base64.b64encode(PNG_1X1).decode()
    upload = {"type": "UploadFileContent", "path": ["Plots", "inline"], "ext": "png", "file_content": content}
    with open(small_run / "data-1.log", "a") as log:
        log.write(json.dumps({"obj": upload, "version": 999}) + "\n")
    assert [image["data-field"] for image in report(small_run).images] == ["Plots/inline"]


def test_an_operation_type_the_report_does_not_know_is_listed_and_warned_about(small_run, report):
    future = {"obj": {"type": "LogHistograms", "path": ["weights", "histogram"], "values": []}, "version": 999}
    with open(small_run / "data-1.log", "a") as log:
        log.write(json.dumps(future) + "\n")
    text = report(small_run).text
    assert "weights/histogram LogHistograms" in text
    assert "weights/histogram: operation type LogHistograms is unknown to the report; listed as written" in text


# --------------------------------------------------------------------------------------------------- several runs


@pytest.fixture
def three_runs(data_directory) -> list:
    """Three runs, oldest first: "first" (3 epochs, lr0 0.01), "second" (4, 0.02), "third" (5, 0.03)."""
    return [
        read_offline_run(log_offline_run(data_directory, log_epochs(epochs, lr0), name=name))
        for name, epochs, lr0 in (("first", 3, 0.01), ("second", 4, 0.02), ("third", 5, 0.03))
    ]


def test_several_runs_are_reported_newest_first(three_runs, data_directory, report):
    text = report(data_directory).text
    assert text.index("Run id " + three_runs[2].run_id) < text.index("Run id " + three_runs[1].run_id)
    assert text.index("Run id " + three_runs[1].run_id) < text.index("Run id " + three_runs[0].run_id)


def test_several_runs_share_one_chart_per_series_with_a_line_per_run(three_runs, data_directory, report):
    page = report(data_directory)
    for run, epochs in zip(three_runs, (3, 4, 5)):
        assert page.points(run.run_id) == dict.fromkeys(
            ("train/box_loss", "val/box_loss", "metrics/mAP50(B)", "lr/pg0"), epochs
        )
    assert page.text.count("Charts (") == 1 and "Charts (3)" in page.text  # box_loss (train and val), mAP50, lr/pg0


def test_several_runs_have_their_final_values_and_differing_hyperparameters_side_by_side(
    three_runs, data_directory, report
):
    text = report(data_directory).text
    assert "series third second first train/box_loss 0.2 0.25 0.33333" in text
    assert (
        "Hyperparameters that differ (2 of 3) hyperparameter third second first epochs 5 4 3 lr0 0.03 0.02 0.01" in text
    )


def test_last_n_reports_only_the_newest_n_runs(three_runs, data_directory, report):
    page = report(data_directory, last=2)
    assert {run for _, run, _ in page.lines} == {three_runs[2].run_id, three_runs[1].run_id}


# ------------------------------------------------------------------------------------------------- the command


def test_the_command_writes_the_page_and_prints_its_path(small_run, tmp_path, capsys):
    out = tmp_path / "page.html"
    assert cli(["report", str(small_run.parent.parent), "-o", str(out)]) == 0
    assert capsys.readouterr().out == f"Report of 1 run: {out}\n"
    assert page_of(out).points() == {"train/box_loss": 3, "val/box_loss": 3, "metrics/mAP50(B)": 3, "lr/pg0": 3}


def test_the_command_reports_the_current_folder_by_default(small_run, monkeypatch, capsys):
    monkeypatch.chdir(small_run.parent.parent.parent)  # the folder holding .neptune
    assert cli(["report"]) == 0
    assert Path("neptune-report.html").is_file()


def test_an_output_folder_gets_the_page_under_its_default_name(small_run, tmp_path, capsys):
    assert cli(["report", str(small_run), "-o", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"Report of 1 run: {tmp_path / 'neptune-report.html'}\n"


def test_the_command_fails_with_a_message_where_there_is_no_run(tmp_path, capsys):
    assert cli(["report", str(tmp_path), "-o", str(tmp_path / "page.html")]) == 1
    assert capsys.readouterr().err == f"ultralytics-neptune report: no offline Neptune run under {tmp_path}\n"
    assert not (tmp_path / "page.html").exists()


def test_the_command_prints_each_warning_with_the_run_it_concerns(small_run, tmp_path, capsys):
    (small_run / "metadata.json").write_text("{")
    cli(["report", str(small_run), "-o", str(tmp_path / "page.html")])
    assert f"warning: small: {small_run / 'metadata.json'} unreadable (JSONDecodeError)" in capsys.readouterr().err


def test_the_command_prints_its_progress_per_stage(three_runs, data_directory, tmp_path, capsys):
    cli(["report", str(data_directory), "-o", str(tmp_path / "page.html")])
    assert capsys.readouterr().err == "report: reading runs 3/3\nreport: drawing charts 3/3\n"


def test_images_are_copied_beside_the_page_by_default_and_embedded_on_request(yolov8_era_run, tmp_path):
    copied, embedded = tmp_path / "copied" / "report.html", tmp_path / "embedded" / "report.html"
    cli(["report", str(yolov8_era_run), "-o", str(copied)])
    cli(["report", str(yolov8_era_run), "-o", str(embedded), "--embed-images"])
    files = {f"report_files/{file.name}" for file in (copied.parent / "report_files").iterdir()}
    assert {image["src"] for image in page_of(copied).images} == files
    assert [file.name for file in embedded.parent.iterdir()] == ["report.html"]
    sources = [image["src"] for image in page_of(embedded).images]
    assert len(sources) == len(image_fields(read_offline_run(yolov8_era_run)))
    assert all(re.match(r"data:image/(png|jpeg);base64,", source) for source in sources)


def test_open_shows_the_page_in_the_default_browser(small_run, tmp_path, monkeypatch):
    opened = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    cli(["report", str(small_run), "-o", str(tmp_path / "page.html"), "--open"])
    assert opened == [(tmp_path / "page.html").as_uri()]


def test_open_without_a_browser_says_where_the_page_is(small_run, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("webbrowser.open", lambda url: False)
    cli(["report", str(small_run), "-o", str(tmp_path / "page.html"), "--open"])
    assert f"No web browser found here: open {tmp_path / 'page.html'} in one." in capsys.readouterr().err


def test_importing_the_report_command_imports_neither_matplotlib_nor_the_reader():
    heavy = "{'matplotlib', 'ultralytics_neptune.offline'}"
    code = f"import sys, ultralytics_neptune.report; print(sorted({heavy} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout == "[]\n"
