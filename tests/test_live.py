"""`ultralytics-neptune parity --live`: real tiny trainings on the installed Ultralytics, checked against what the
trainer wrote. The trainings are shared: one per task in parity mode, one in extended mode, one per mutation of our
callbacks and one of a simulated release (detect), each about 20 s on 2 cores."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pytest

from ultralytics_neptune.cli import main
from ultralytics_neptune.synthetic import TASKS
from ultralytics_neptune.verification import live

CHANGES = str(Path(__file__).with_name("live_changes.py"))


def changes():
    """The hooks module, read as the training process reads it (it imports no pytest)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("live_changes", CHANGES)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HOOKS = changes()


class Trainings:
    """Live-check trainings, each made once per session in its own folder."""

    def __init__(self, root: Path):
        self.root = root
        self._made: dict = {}

    def get(self, task: str = "detect", extended: bool = False, hook: str | None = None) -> live.Training:
        key = (task, extended, hook)
        if key not in self._made:
            name = f"{task}-{'extended' if extended else 'parity'}-{hook or 'as-is'}"
            try:
                self._made[key] = live.train(task, self.root / name, extended, f"{CHANGES}:{hook}" if hook else None)
            except live.TrainingFailed as error:  # kept, so that each test sharing the training fails at once
                self._made[key] = error
        if isinstance(self._made[key], Exception):
            raise self._made[key]
        return self._made[key]

    def checked(self, task: str = "detect", extended: bool = False, hook: str | None = None) -> live.LiveResult:
        training = self.get(task, extended, hook)
        return live.check_training(training, live.reference_recording(task, training.version))


@pytest.fixture(scope="session")
def trainings(tmp_path_factory):
    return Trainings(tmp_path_factory.mktemp("live"))


@pytest.fixture(autouse=True)
def same_environment():
    """The command prepares an offline Ultralytics environment where Ultralytics is not imported yet: undo it."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def named(result: live.LiveResult, field_name: str) -> list:
    """The differences that start with a field's name."""
    return [line for line in result.differences if line.startswith(field_name)]


# the check on the installed release


@pytest.mark.parametrize("task", TASKS)
def test_a_training_of_each_task_passes_the_live_check(trainings, task):
    assert trainings.checked(task).differences == []


def test_a_training_in_extended_mode_passes_the_live_check(trainings):
    assert trainings.checked("detect", extended=True).differences == []


@pytest.mark.parametrize("task", TASKS)
def test_every_results_csv_column_is_checked_or_named_as_not_checked_with_why(trainings, task):
    training = trainings.get(task)
    columns, rows = live.read_results_csv(training.save_dir / "results.csv")
    notes = trainings.checked(task).notes
    unlogged = [name for name in columns if name in live.UNLOGGED_COLUMNS]
    assert f"results.csv: {len(rows)} rows x {len(columns) - len(unlogged)} logged columns checked" in notes
    for name in unlogged:
        assert any(note.startswith(f"results.csv column {name} not checked as a series: ") for note in notes)


def test_files_the_era_leaves_out_are_information_not_differences(trainings):
    training = trainings.get("detect")
    left_out = training.save_dir / "left_out.jpg"
    left_out.write_bytes((training.save_dir / "labels.jpg").read_bytes())
    try:
        run = training.runs()[0]
        files = live.LiveResult()
        live.check_files(training, run, files)
    finally:
        left_out.unlink()
    assert files.differences == []
    assert any(note.startswith("written, not uploaded (") and "left_out.jpg" in note for note in files.notes)


@pytest.mark.parametrize(
    ("version", "extended", "step"),
    [("8.1.47", False, 3), ("8.4.51", False, 3), ("8.4.52", False, 4), ("8.4.190", False, 4), ("8.1.47", True, 4)],
)
def test_the_final_evaluation_step_follows_the_era_and_mode(version, extended, step):
    assert live.final_step(version, epochs=3, extended=extended) == step


def test_a_final_evaluation_at_the_wrong_step_is_a_difference_naming_the_metric(trainings):
    training = trainings.get("detect")
    other_era = live.Training(training.task, training.extended, training.workdir, dict(training.facts))
    other_era.facts["ultralytics"] = "8.4.51" if live.final_step(training.version, 3, False) == 4 else "8.4.52"
    result = live.LiveResult()
    live.check_results_csv(other_era, training.runs()[0], result)
    assert named(result, "metrics/mAP50-95(B): final evaluation at step ")


# mutations of our callbacks: each fails the check, naming the field


def test_a_module_that_drops_a_loss_key_fails_naming_it(trainings):
    result = trainings.checked(hook="drop_loss_key")
    assert named(result, f"train/{HOOKS.LOSS}: not logged")


def test_a_module_logging_learning_rates_at_step_epoch_fails_naming_them(trainings):
    result = trainings.checked(hook="lr_at_step_epoch")
    [late] = named(result, "lr/pg0: epoch 3 (results.csv ")
    assert "not logged at step 3; logged at steps 0, 1, 2" in late


def test_a_module_that_skips_a_plot_fails_naming_it(trainings):
    result = trainings.checked(hook="skip_one_plot")
    assert named(result, f"Plots/{Path(HOOKS.PLOT).stem}: {HOOKS.PLOT} written, not uploaded")


def test_a_module_uploading_last_pt_for_best_pt_fails_naming_the_weights_field(trainings):
    result = trainings.checked(hook="last_for_best")
    [difference] = named(result, "weights/train/best.pt: not uploaded (the trainer's best.pt: ")
    assert difference.endswith(
        "got weights/train/last.pt (" + str(trainings.get(hook="last_for_best").facts["last"]) + ")"
    )


def test_a_module_that_misses_the_final_evaluation_fails_naming_each_metric(trainings):
    result = trainings.checked(hook="miss_final_metrics")
    columns, _ = live.read_results_csv(trainings.get(hook="miss_final_metrics").save_dir / "results.csv")
    metrics = [name for name in columns if name.startswith("metrics/")]
    assert metrics and all(named(result, f"{name}: final evaluation not logged") for name in metrics)


# a simulated Ultralytics release: the trainer changes, our callbacks do not


def test_a_release_that_renames_a_loss_key_is_reported_as_a_rename(trainings):
    result = trainings.checked(hook="new_release")
    assert named(result, f"train/{HOOKS.LOSS}: renamed to train/{HOOKS.RENAMED_LOSS} (train/{HOOKS.LOSS} on ")


def test_a_release_that_writes_one_more_plot_is_reported(trainings):
    result = trainings.checked(hook="new_release")
    assert named(result, f"{HOOKS.EXTRA_PLOT}: new file (Ultralytics ")


# the command


def parity_live(monkeypatch, trainings, *args, mutation=None):
    """`ultralytics-neptune parity --live ...` with the session's trainings (of a mutation): (exit code, output)."""

    def shared_training(task, workdir, extended=False, hook=None):
        return trainings.get(task, extended, mutation)

    monkeypatch.setattr(live, "train", shared_training)
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = main(["parity", "--live", *args])
    return code, output.getvalue()


def table_rows(output: str) -> list:
    return [line.split() for line in output.splitlines() if line.startswith("live training")]


def test_parity_live_prints_a_passing_row_per_task_and_exits_0(monkeypatch, trainings):
    code, out = parity_live(monkeypatch, trainings)
    assert code == 0
    assert [row[2] for row in table_rows(out)] == list(TASKS)
    assert all("pass" in row for row in table_rows(out))
    assert f"parity: {len(TASKS)} passed, 0 failed (" in out


def test_parity_live_with_a_difference_exits_1_and_shows_the_first_in_the_row(monkeypatch, trainings):
    code, out = parity_live(monkeypatch, trainings, "--task", "detect", mutation="last_for_best")
    assert code == 1
    [row] = [line for line in out.splitlines() if line.startswith("live training")]
    assert " FAIL " in row and "weights/train/best.pt: not uploaded" in row
    assert "parity: 0 passed, 1 failed (" in out


def test_parity_live_on_a_release_newer_than_the_newest_known_says_so_once(monkeypatch, trainings):
    monkeypatch.setattr(live, "installed_ultralytics", lambda: "9.0.0")
    _, out = parity_live(monkeypatch, trainings, "--task", "classify")
    assert out.count(f"newer than the newest release this package knows ({live.newest_known()})") == 1


def test_a_training_that_fails_is_an_error_row_and_exits_1(monkeypatch):
    def failing(task, workdir, extended=False, hook=None):
        raise live.TrainingFailed(f"the {task} training exited 1: boom")

    monkeypatch.setattr(live, "train", failing)
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = main(["parity", "--live", "--task", "pose"])
    assert code == 1
    assert " ERROR " in output.getvalue() and "TrainingFailed: the pose training exited 1: boom" in output.getvalue()


@pytest.mark.parametrize(
    "args", [["--live", "ultralytics-8.4.131"], ["--extended"], ["--live", "--golden-only"]], ids=str
)
def test_parity_live_with_arguments_that_do_not_go_together_exits_2(capsys, args):
    assert main(["parity", *args]) == 2
    assert "ultralytics-neptune parity: " in capsys.readouterr().err
