"""The main job: `ultralytics-neptune demo` trains, logs offline, and shows what the run holds."""

import subprocess
import sys

import pytest

pytest.importorskip("neptune", reason="the demo logs through the real neptune client")

from run_checks import outside_pytest

from ultralytics_neptune.offline import read_offline_runs


def demo(out, *options) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "ultralytics_neptune", "demo", "--out", str(out), "--epochs", "2", *options]
    environment = {key: value for key, value in outside_pytest().items() if not key.startswith("NEPTUNE_")}
    return subprocess.run(command, capture_output=True, text=True, timeout=900, env=environment)


@pytest.fixture(scope="module")
def two_demos(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return out, demo(out), demo(out, "--extended")


def test_the_demo_prints_the_namespaces_and_steps_of_its_run(two_demos):
    _, first, _ = two_demos
    assert first.returncode == 0, first.stderr[-3000:]
    table = first.stdout[first.stdout.index("Neptune run ") :]
    namespaces = ("Configuration/Hyperparameters", "metrics", "train", "lr", "Mosaic", "Plots", "weights/train/best.pt")
    for namespace in namespaces:
        assert f"\n{namespace} " in table
    assert " 1..2 " in table
    assert "Logged offline: " in table and "neptune sync --path" in table


def test_a_second_demo_in_the_same_folder_keeps_the_first(two_demos):
    out, first, second = two_demos
    assert second.returncode == 0, second.stderr[-3000:]
    assert len([folder for folder in (out / "runs" / "detect").iterdir() if folder.is_dir()]) == 2  # train, train2
    runs = read_offline_runs(out / ".neptune")
    assert len(runs) == 2 and runs[0].run_id in first.stdout and runs[1].run_id in second.stdout


def test_the_extended_demo_uploads_plot_files(two_demos):
    out, _, _ = two_demos
    parity, extended = read_offline_runs(out / ".neptune")
    assert "image" in parity.uploads()["Plots/results"]["content"]  # a re-drawn figure
    assert extended.uploads()["Plots/results"]["file_path"].endswith("results.png")  # the file itself


def test_help_describes_the_options():
    command = [sys.executable, "-m", "ultralytics_neptune", "demo", "--help"]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0
    assert all(option in result.stdout for option in ("--epochs", "--imgsz", "--out", "--mode"))


@pytest.mark.parametrize(("value", "complaint"), [("0", "must be 1 or more, got 0"), ("abc", "must be a whole number")])
def test_a_bad_option_is_refused_with_its_name_and_why(value, complaint):
    command = [sys.executable, "-m", "ultralytics_neptune", "demo", "--epochs", value]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 2 and "--epochs" in result.stderr and complaint in result.stderr


def test_without_a_token_the_async_demo_says_nothing_was_logged_and_why(tmp_path):
    result = demo(tmp_path, "--mode", "async")
    assert result.returncode == 1
    assert "Nothing was logged to Neptune: no Neptune API token for async mode" in result.stdout
    assert "Sent" not in result.stdout and "Logged offline" not in result.stdout


def test_the_demo_logs_what_a_users_training_logs(two_demos):
    """No capture switched off: the client's console and hardware monitoring are there, as in a user's run."""
    out, _, _ = two_demos
    parity, _ = read_offline_runs(out / ".neptune")
    assert any(op["path"][0] == "monitoring" for op in parity.trace.operations)
