"""The drop-in module: upstream's shape, what it imports, its guard, and what a run receives from it."""

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from run_checks import EVENTS

from ultralytics_neptune.registration import events

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


def test_the_module_has_upstreams_five_event_functions_helpers_and_callbacks_dict(neptune_module):
    assert events(neptune_module) == EVENTS
    assert all(callable(getattr(neptune_module, name)) for name in ("_log_scalars", "_log_images", "_log_plot"))
    assert list(ast.parse(Path(neptune_module.__file__).read_text()).body)[-1].targets[0].id == "callbacks"


def test_the_module_imports_only_the_standard_library_ultralytics_its_plotting_library_and_neptune(neptune_module):
    allowed = STANDARD_LIBRARY | {"ultralytics", "matplotlib", "neptune"}
    outside = {name for name in imported_modules(Path(neptune_module.__file__)) if name.split(".")[0] not in allowed}
    assert outside == set()


def test_under_pytest_the_guard_leaves_callbacks_empty(neptune_module):
    assert neptune_module.callbacks == {}


@pytest.mark.parametrize(("setting", "expected"), [(True, EVENTS), (False, []), (None, [])])
def test_outside_pytest_the_settings_key_decides_the_callbacks(setting, expected):
    code = f"""
        from ultralytics.utils import SETTINGS
        if {setting!r} is None:
            dict.pop(SETTINGS, "neptune", None)
        else:
            dict.__setitem__(SETTINGS, "neptune", {setting!r})  # in memory: 8.4.132+ has no such key to update
        from ultralytics_neptune.utils.callbacks import neptune
        print(list(neptune.callbacks))
        """
    result = run_python(code)
    assert result.stdout.strip().splitlines()[-1] == str(expected), result.stderr[-2000:]


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
        from ultralytics.utils import SETTINGS
        dict.__setitem__(SETTINGS, "neptune", True)
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


def test_before_8_3_9_the_default_project_and_tag_are_yolov8(
    neptune_fake, neptune_module, parity_callbacks, neptune_replay, latest_recording, monkeypatch
):
    monkeypatch.setattr(neptune_module, "RELEASE", (8, 3, 8))
    neptune_replay(latest_recording, parity_callbacks)
    assert neptune_fake.last_run.init_kwargs == {"project": "YOLOv8", "name": "train", "tags": ["YOLOv8"]}


def test_the_client_is_taken_from_sys_modules_when_the_run_starts(
    neptune_fake, neptune_module, parity_callbacks, neptune_replay, latest_recording
):
    assert neptune_module.run is None
    neptune_replay(latest_recording, parity_callbacks)
    assert neptune_module.run is neptune_fake.last_run


def test_a_failing_init_run_warns_once_and_the_training_goes_on(
    neptune_fake, parity_callbacks, neptune_replay, latest_recording, caplog
):
    neptune_fake.init_run_error = RuntimeError("project not found\nand a long banner after it")
    trainer = neptune_replay(latest_recording, parity_callbacks)
    assert neptune_fake.runs == []
    assert (trainer.save_dir / "results.png").exists()  # the replay reached the end of training
    (warning,) = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert warning.endswith(
        "Neptune: could not start a run (RuntimeError: project not found); training goes on without Neptune logging"
    )


def test_each_training_in_a_process_opens_its_own_run(neptune_fake, parity_callbacks, neptune_replay, latest_recording):
    neptune_replay(latest_recording, parity_callbacks)
    neptune_replay(latest_recording, parity_callbacks)
    assert len(neptune_fake.runs) == 2
    assert len(neptune_fake.runs[0].operations) == len(neptune_fake.runs[1].operations)


@pytest.mark.parametrize(("release", "curves"), [((8, 3, 8), set()), ((8, 4, 131), {"BoxF1_curve", "BoxPR_curve"})])
def test_train_end_plots_follow_the_era_of_the_release(
    neptune_fake, neptune_module, parity_callbacks, neptune_replay, latest_recording, release, curves, monkeypatch
):
    monkeypatch.setattr(neptune_module, "RELEASE", release)
    neptune_replay(latest_recording, parity_callbacks)
    plots = {op["path"][1] for op in neptune_fake.last_run.operations if op["path"][0] == "Plots"}
    assert curves <= plots
    assert "results" in plots
    if not curves:  # the fixed list names curve files this recording no longer has
        assert not any("curve" in plot for plot in plots)


@pytest.mark.parametrize(
    ("version", "release"), [("8.4.131", (8, 4, 131)), ("8.3.9.dev0", (8, 3, 9)), ("8.1.0rc1", (8, 1, 0))]
)
def test_a_version_string_reads_as_its_release(neptune_module, version, release):
    assert neptune_module._release(version) == release


def test_exception_messages_are_shown_as_their_first_line_without_colour_codes(neptune_module):
    error = ConnectionError("\x1b[91mCannot reach the server\x1b[0m\n\nretry later\n")
    assert neptune_module._describe(error) == "ConnectionError: Cannot reach the server"


def test_the_clients_banner_rule_is_not_taken_for_the_message(neptune_module):
    banner = "\n\x1b[95m\n----NeptuneMissingApiTokenException----\n\x1b[0m\nThe client couldn't find your token.\n"
    error = ValueError(banner)
    assert neptune_module._describe(error) == "ValueError: The client couldn't find your token."
