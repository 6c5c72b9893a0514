"""`ultralytics-neptune parity`: the bundled recordings replayed against the installed Ultralytics, as a table with a
row per release and task."""

import contextlib
import io
import subprocess
import sys

import pytest

from ultralytics_neptune.cli import build_parser, main
from ultralytics_neptune.synthetic import TASKS
from ultralytics_neptune.verification import parity
from ultralytics_neptune.verification.recording import bundled_recordings, load_bundled


def run_cli(capsys, *args):
    code = main(["parity", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def rows(output: str, name: str) -> list:
    return [line for line in output.splitlines() if line.startswith(name + " ")]


@pytest.fixture(scope="module")
def report(replays):
    """The exit code and output of `ultralytics-neptune parity`, run once for the module (traces from the shared
    replays: test_parity.py and test_versions.py check them)."""
    output = io.StringIO()
    with pytest.MonkeyPatch.context() as monkeypatch, contextlib.redirect_stdout(output):
        monkeypatch.setattr(parity, "our_trace", replays.our_trace)
        monkeypatch.setattr(parity, "upstream_trace", replays.upstream_trace)
        code = main(["parity"])
    return code, output.getvalue()


def installed_upstream_or_skip() -> str:
    if parity.upstream_module_path() is None:
        pytest.skip(f"Ultralytics {parity.installed_ultralytics()} ships no Neptune callback to compare with live")
    return parity.installed_ultralytics()


def test_every_bundled_recording_gets_a_passing_golden_row(report):
    _, out = report
    for name in bundled_recordings():
        [row] = [row for row in rows(out, name) if " golden (upstream " in row]
        assert " pass" in row


def test_where_upstream_is_installed_every_recording_gets_a_passing_live_row(report):
    installed = installed_upstream_or_skip()
    _, out = report
    for name in bundled_recordings():
        [row] = [row for row in rows(out, name) if f" live upstream {installed} " in row]
        assert " pass" in row


def test_where_no_upstream_is_installed_golden_traces_are_the_only_references(report):
    if parity.upstream_module_path() is not None:
        pytest.skip(f"Ultralytics {parity.installed_ultralytics()} still ships its Neptune callback")
    _, out = report
    assert "no Neptune callback of its own" in out.splitlines()[0]
    assert " live upstream " not in out


@pytest.mark.parametrize("task", TASKS)
def test_each_task_has_a_golden_row_for_every_release(report, task):
    _, out = report
    releases = [load_bundled(name).ultralytics_version for name in bundled_recordings(task)]
    task_rows = [line.split() for line in out.splitlines() if line.split()[1:2] == [task] and " golden (" in line]
    assert [row[2] for row in task_rows] == releases and len(releases) >= 2


def test_when_every_check_passes_the_exit_code_is_0_and_the_summary_says_so(report):
    code, out = report
    checks = len(bundled_recordings()) * (1 if parity.upstream_module_path() is None else 2)
    assert code == 0
    assert out.rstrip().endswith(f"parity: {checks} passed, 0 failed")


def test_the_header_names_the_installed_release_and_its_references(report):
    _, out = report
    assert out.startswith(f"Ultralytics {parity.installed_ultralytics()} installed (")


def test_the_task_option_narrows_the_table_to_that_task(capsys, shared_replays):
    code, out, _ = run_cli(capsys, "--golden-only", "--task", "pose", "--task", "obb")
    names = [*bundled_recordings("pose"), *bundled_recordings("obb")]
    assert code == 0
    assert sorted(line.split()[0] for line in out.splitlines() if line.startswith("ultralytics-")) == sorted(names)
    assert out.rstrip().endswith(f"parity: {len(names)} passed, 0 failed")


def test_a_difference_exits_1_and_shows_the_first_difference_in_the_row(capsys, broken_step):
    code, out, _ = run_cli(capsys, "ultralytics-8.4.131", "--golden-only")
    assert code == 1
    [row] = rows(out, "ultralytics-8.4.131")
    assert " FAIL " in row
    assert "expected LogFloats(" in row and "more)" in row
    assert out.rstrip().endswith("parity: 0 passed, 1 failed")


def test_verbose_lists_every_difference_of_a_failed_check(capsys, broken_step):
    _, out, _ = run_cli(capsys, "ultralytics-8.4.131", "--golden-only", "--verbose")
    listed = [line for line in out.splitlines() if line.startswith("  ") and "expected LogFloats(" in line]
    assert any(line.strip().startswith("metrics/mAP50(B)") for line in listed)
    assert any(line.strip().startswith("train/box_loss") for line in listed)


def test_a_replay_that_crashes_is_an_error_row_and_exits_1(capsys, monkeypatch):
    def no_module(release):
        raise RuntimeError("callback module failed to load")

    monkeypatch.setattr(parity, "parity_logger", no_module)
    code, out, _ = run_cli(capsys, "ultralytics-8.4.131", "--golden-only")
    assert code == 1
    [row] = rows(out, "ultralytics-8.4.131")
    assert " ERROR " in row and "RuntimeError: callback module failed to load" in row


def test_an_unknown_recording_exits_2_and_names_the_bundled_ones(capsys):
    code, _, err = run_cli(capsys, "ultralytics-7.0.0")
    assert code == 2
    assert "no bundled recording ultralytics-7.0.0" in err and "ultralytics-8.4.131" in err


def test_the_command_runs_as_a_module_in_a_fresh_process():
    command = [sys.executable, "-m", "ultralytics_neptune", "parity", "ultralytics-8.4.131", "--golden-only"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "parity: 1 passed, 0 failed" in result.stdout


def test_every_command_is_offered():
    parser = build_parser()
    for command in ("demo", "status", "enable", "disable", "upstream", "parity"):
        assert parser.parse_args([command, "x"] if command == "upstream" else [command]).command == command


def test_the_parity_command_comes_from_the_verification_subpackage_by_entry_point():
    from importlib.metadata import entry_points

    (command,) = [ep for ep in entry_points(group="ultralytics_neptune.commands") if ep.name == "parity"]
    assert command.value == "ultralytics_neptune.verification.command"


def test_another_matplotlib_is_a_difference_unless_asked_for_the_weaker_check(capsys, monkeypatch):
    monkeypatch.setattr(parity, "_matplotlib_version", lambda: "0.0.0")  # not the goldens' matplotlib
    strict, out, _ = run_cli(capsys, "ultralytics-8.1.47", "--golden-only")
    weaker, weaker_out, _ = run_cli(capsys, "ultralytics-8.1.47", "--golden-only", "--other-matplotlib")
    assert strict == 1 and "matplotlib" in out
    assert weaker == 0, weaker_out
