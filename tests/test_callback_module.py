"""The drop-in module: its shape, what it imports, and what a run receives from it."""

import subprocess
import sys
import textwrap

import pytest

from ultralytics_neptune.testing.parity import ultralytics_version

EVENTS = ["on_pretrain_routine_start", "on_train_epoch_end", "on_fit_epoch_end", "on_val_end", "on_train_end"]


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False)


def test_the_module_has_the_five_event_functions_and_the_callbacks_dict_of_upstream(neptune_module):
    assert list(neptune_module.callbacks) == EVENTS
    assert all(neptune_module.callbacks[event] is getattr(neptune_module, event) for event in EVENTS)
    assert all(callable(getattr(neptune_module, name)) for name in ("_log_scalars", "_log_images", "_log_plot"))


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
    fake_neptune, neptune_module, replay_training, latest_recording
):
    replay_training(latest_recording, neptune_module.callbacks)
    assert fake_neptune.last_run.init_kwargs == {"project": "Ultralytics", "name": "train", "tags": ["Ultralytics"]}


def test_before_8_3_9_the_default_project_and_tag_are_yolov8(
    fake_neptune, neptune_module, replay_training, latest_recording
):
    with ultralytics_version("8.3.8"):
        replay_training(latest_recording, neptune_module.callbacks)
    assert fake_neptune.last_run.init_kwargs == {"project": "YOLOv8", "name": "train", "tags": ["YOLOv8"]}


def test_the_client_is_taken_from_sys_modules_when_the_run_starts(
    fake_neptune, neptune_module, replay_training, latest_recording
):
    assert neptune_module.run is None
    replay_training(latest_recording, neptune_module.callbacks)
    assert neptune_module.run is fake_neptune.last_run


def test_a_failing_init_run_warns_and_the_training_goes_on(
    fake_neptune, neptune_module, replay_training, latest_recording, caplog
):
    fake_neptune.init_run_error = RuntimeError("project not found")
    trainer = replay_training(latest_recording, neptune_module.callbacks)
    assert fake_neptune.runs == []
    assert (trainer.save_dir / "results.png").exists()  # the replay reached the end of training
    assert "could not start a Neptune run (RuntimeError: project not found)" in caplog.text


def test_each_training_in_a_process_opens_its_own_run(fake_neptune, neptune_module, replay_training, latest_recording):
    replay_training(latest_recording, neptune_module.callbacks)
    replay_training(latest_recording, neptune_module.callbacks)
    assert len(fake_neptune.runs) == 2
    assert len(fake_neptune.runs[0].operations) == len(fake_neptune.runs[1].operations)


@pytest.mark.parametrize(("version", "curves"), [("8.3.8", set()), ("8.4.131", {"BoxF1_curve", "BoxPR_curve"})])
def test_train_end_plots_follow_the_era_of_the_release(
    fake_neptune, neptune_module, replay_training, latest_recording, version, curves
):
    with ultralytics_version(version):
        replay_training(latest_recording, neptune_module.callbacks)
    plots = {op["path"][1] for op in fake_neptune.last_run.operations if op["path"][0] == "Plots"}
    assert curves <= plots
    assert "results" in plots
    if not curves:  # the fixed list names curve files this recording no longer has
        assert not any("curve" in plot for plot in plots)
