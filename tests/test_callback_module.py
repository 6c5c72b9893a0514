"""The contributed module: upstream's shape, what it imports, its guard, and what a run receives from it as the
package runs it."""

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from run_checks import MODULE_EVENTS

from ultralytics_neptune.composed import ParityLogger
from ultralytics_neptune.starting import describe

STANDARD_LIBRARY = set(sys.stdlib_module_names)


def run_python(code: str, **environment) -> subprocess.CompletedProcess:
    from run_checks import outside_pytest

    env = {**outside_pytest(), **environment}
    command = [sys.executable, "-c", textwrap.dedent(code)]
    return subprocess.run(command, capture_output=True, text=True, check=False, env=env, timeout=300)


def imported_modules(path: Path) -> set:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module)
    return names


def test_the_module_has_upstreams_event_functions_helpers_and_callbacks_dict(parity_logger):
    assert list(parity_logger.module.callbacks) == MODULE_EVENTS
    assert all(callable(getattr(parity_logger.module, name)) for name in ("_log_scalars", "_log_images", "_log_plot"))
    assert list(ast.parse(Path(parity_logger.module.__file__).read_text()).body)[-1].targets[0].id == "callbacks"


def test_the_module_imports_only_the_standard_library_ultralytics_its_plotting_library_and_neptune(neptune_module):
    allowed = STANDARD_LIBRARY | {"ultralytics", "matplotlib", "neptune"}
    outside = {name for name in imported_modules(Path(neptune_module.__file__)) if name.split(".")[0] not in allowed}
    assert outside == set()


def test_under_pytest_the_guard_leaves_callbacks_empty(neptune_module):
    assert neptune_module.callbacks == {}


def test_outside_pytest_with_the_client_installed_the_module_offers_its_callbacks():
    result = run_python("from ultralytics_neptune.utils.callbacks import neptune; print(list(neptune.callbacks))")
    assert result.stdout.strip().splitlines()[-1] == str(MODULE_EVENTS), result.stderr[-2000:]


def test_importing_the_package_imports_neither_neptune_nor_ultralytics():
    result = run_python(
        """
        import sys, ultralytics_neptune
        print(sorted(m for m in ("neptune", "ultralytics", "torch") if m in sys.modules))
        """
    )
    assert result.stdout.strip() == "[]", result.stderr


def test_registering_callbacks_does_not_import_neptune():
    result = run_python(
        """
        import sys
        from ultralytics.utils.callbacks.base import get_default_callbacks
        from ultralytics_neptune import add_neptune_callbacks

        class Model:
            callbacks = get_default_callbacks()
            def add_callback(self, event, callback):
                self.callbacks[event].append(callback)

        add_neptune_callbacks(Model(), mode="offline")
        print("neptune" in sys.modules)
        """
    )
    assert result.stdout.strip() == "False", result.stderr


def test_without_the_client_the_module_offers_no_callbacks():
    result = run_python(
        """
        import sys
        sys.modules["neptune"] = None  # as if it were not installed
        from ultralytics_neptune.utils.callbacks import neptune
        print(neptune.callbacks)
        """
    )
    assert result.stdout.strip() == "{}", result.stderr


def test_the_run_starts_with_the_parity_project_name_and_tag(
    neptune_fake, parity_callbacks, neptune_replay, latest_recording
):
    neptune_replay(latest_recording, parity_callbacks)
    assert neptune_fake.last_run.init_kwargs == {"project": "Ultralytics", "name": "train", "tags": ["Ultralytics"]}


def test_before_8_3_9_the_default_project_and_tag_are_yolov8(neptune_fake, neptune_replay, latest_recording):
    neptune_replay(latest_recording, ParityLogger(release="8.3.8").callbacks())
    assert neptune_fake.last_run.init_kwargs == {"project": "YOLOv8", "name": "train", "tags": ["YOLOv8"]}


def test_a_project_given_before_8_3_9_is_kept(neptune_fake, neptune_replay, latest_recording):
    trainer = neptune_replay(latest_recording, ParityLogger(release="8.3.8", project="ws/given").callbacks())
    assert neptune_fake.last_run.init_kwargs["project"] == "ws/given"
    assert trainer.args.project is None


def test_the_module_logs_to_the_run_the_client_in_sys_modules_started(
    neptune_fake, parity_logger, parity_callbacks, neptune_replay, latest_recording
):
    neptune_replay(latest_recording, parity_callbacks)
    assert parity_logger.last_start.run is neptune_fake.last_run


def test_the_run_is_stopped_at_teardown(neptune_fake, parity_callbacks, neptune_replay, latest_recording):
    neptune_replay(latest_recording, parity_callbacks)
    assert neptune_fake.last_run.stopped


def test_a_failing_init_run_warns_once_and_the_training_goes_on(
    neptune_fake, parity_callbacks, neptune_replay, latest_recording, caplog
):
    neptune_fake.init_run_error = RuntimeError("project not found\nand a long banner after it")
    trainer = neptune_replay(latest_recording, parity_callbacks)
    assert neptune_fake.runs == []
    assert (trainer.save_dir / "results.png").exists()  # the replay reached the end of training
    (warning,) = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert "Neptune: could not start a run (RuntimeError: project not found); training goes on without" in warning


def test_each_training_with_its_own_registration_opens_its_own_run(neptune_fake, neptune_replay, latest_recording):
    neptune_replay(latest_recording, ParityLogger().callbacks())
    neptune_replay(latest_recording, ParityLogger().callbacks())
    assert len(neptune_fake.runs) == 2
    assert len(neptune_fake.runs[0].operations) == len(neptune_fake.runs[1].operations)


def test_two_trainings_of_one_registration_open_two_runs(
    neptune_fake, parity_callbacks, neptune_replay, latest_recording
):
    neptune_replay(latest_recording, parity_callbacks)
    neptune_replay(latest_recording, parity_callbacks)
    assert len(neptune_fake.runs) == 2
    assert neptune_fake.runs[0].stopped


@pytest.mark.parametrize(("release", "curves"), [("8.3.8", set()), ("8.4.131", {"BoxF1_curve", "BoxPR_curve"})])
def test_train_end_plots_follow_the_era_of_the_release(neptune_fake, neptune_replay, latest_recording, release, curves):
    neptune_replay(latest_recording, ParityLogger(release=release).callbacks())
    plots = {op["path"][1] for op in neptune_fake.last_run.operations if op["path"][0] == "Plots"}
    assert curves <= plots
    assert "results" in plots
    if not curves:  # the fixed list names curve files this recording no longer has
        assert not any("curve" in plot for plot in plots)


def test_exception_messages_are_shown_as_their_first_line_without_colour_codes():
    error = ConnectionError("\x1b[91mCannot reach the server\x1b[0m\n\nretry later\n")
    assert describe(error) == "ConnectionError: Cannot reach the server"


def test_the_clients_banner_rule_is_not_taken_for_the_message():
    banner = "\n\x1b[95m\n----NeptuneMissingApiTokenException----\n\x1b[0m\nThe client couldn't find your token.\n"
    error = ValueError(banner)
    assert describe(error) == "ValueError: The client couldn't find your token."


def test_an_event_that_raises_where_the_module_does_not_guard_is_a_warning(
    neptune_fake, parity_callbacks, neptune_replay, latest_recording, caplog
):
    def without_learning_rates(trainer):
        if hasattr(trainer, "lr"):
            del trainer.lr

    trainer = neptune_replay(latest_recording, [{"on_train_epoch_end": without_learning_rates}, parity_callbacks])
    assert (trainer.save_dir / "weights" / "best.pt").exists()  # the training went on to its end
    warnings = [r.getMessage() for r in caplog.records if "on_train_epoch_end failed (AttributeError" in r.getMessage()]
    assert len(warnings) == 1
    assert any(op["path"][0] == "metrics" for op in neptune_fake.last_run.operations)
