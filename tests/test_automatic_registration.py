"""Automatic registration: the start-up hook, `yolo train` from the command line, DDP workers, one run only."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from run_checks import outside_pytest

from ultralytics_neptune.offline import read_offline_runs
from ultralytics_neptune.status import hook_installed
from ultralytics_neptune.synthetic import make_detection_dataset, offline_environment, write_ultralytics_settings

needs_hook = pytest.mark.skipif(
    hook_installed() is None,
    reason="the start-up hook (.pth) is not installed here: an editable install has none; tox installs a wheel",
)


@pytest.fixture
def environment(tmp_path):
    """A subprocess environment: offline Ultralytics, Neptune offline into tmp_path, no user settings."""
    env = {k: v for k, v in outside_pytest().items() if not k.startswith(("ULTRALYTICS_NEPTUNE", "NEPTUNE_"))}
    write_ultralytics_settings(tmp_path)  # runs under tmp_path, wherever the tox environment lies
    env.update(offline_environment(tmp_path))
    env.update(
        # releases before 8.3.x call torch.load without weights_only, which torch >= 2.6 refuses for their checkpoints
        TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD="1",
        NEPTUNE_MODE="offline",
        NEPTUNE_DATA_DIRECTORY=str(tmp_path / ".neptune"),
        ULTRALYTICS_NEPTUNE_SETTINGS=str(tmp_path / "no-settings.json"),
    )
    return env


def python(code: str, env: dict, cwd: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return last_report(result.stdout)


def last_report(stdout: str) -> str:
    """The last line the code printed itself (the neptune client's lines, and those we pass on for it, come at exit)."""
    return [line for line in stdout.splitlines() if not line.startswith(("[neptune]", "Neptune client: "))][-1]


# the hook in a fresh interpreter


@needs_hook
def test_with_the_switch_off_nothing_of_ours_is_imported(environment, tmp_path):
    imported = python(
        """
        import json, sys
        import ultralytics.utils.callbacks as integrations
        wrapped = hasattr(integrations.add_integration_callbacks, "__wrapped__")
        print(json.dumps([sorted(m for m in sys.modules if "neptune" in m), wrapped]))
        """,
        environment,
        tmp_path,
    )
    assert json.loads(imported) == [[], False]


@needs_hook
def test_with_the_switch_on_the_hook_imports_nothing_heavy_at_start(environment, tmp_path):
    environment["ULTRALYTICS_NEPTUNE"] = "1"
    imported = python(
        """
        import json, sys
        print(json.dumps([m for m in ("ultralytics", "torch", "neptune", "ultralytics_neptune") if m in sys.modules]))
        """,
        environment,
        tmp_path,
    )
    assert json.loads(imported) == []


@needs_hook
def test_with_the_switch_on_trainers_get_our_callbacks_once_and_nothing_else_does(environment, tmp_path):
    environment["ULTRALYTICS_NEPTUNE"] = "1"
    counts = python(
        """
        import json
        from ultralytics.utils import callbacks

        def ours(instance):
            return sum(getattr(getattr(cb, "func", cb), "__module__", "").startswith("ultralytics_neptune")
                       for cbs in instance.callbacks.values() for cb in cbs)

        class Holder:
            def __init__(self):
                self.callbacks = callbacks.get_default_callbacks()
            def add_callback(self, event, callback):
                self.callbacks[event].append(callback)

        class DetectionTrainer(Holder): pass
        class DetectionValidator(Holder): pass

        trainer, validator = DetectionTrainer(), DetectionValidator()
        callbacks.add_integration_callbacks(trainer)
        callbacks.add_integration_callbacks(trainer)
        callbacks.add_integration_callbacks(validator)
        print(json.dumps([ours(trainer), ours(validator)]))
        """,
        environment,
        tmp_path,
    )
    assert json.loads(counts) == [8, 0]  # seven events, plus the removal of a built-in callback


# the yolo command line


def yolo(arguments: list, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    executable = Path(sys.executable).parent / "yolo"
    return subprocess.run([str(executable), *arguments], env=env, cwd=cwd, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return make_detection_dataset(tmp_path_factory.mktemp("data"))


@needs_hook
def test_yolo_train_logs_a_full_run_with_the_switch_on(environment, tmp_path, dataset):
    import ultralytics
    from run_checks import EPOCHS, problems_of

    environment["ULTRALYTICS_NEPTUNE"] = "1"
    arguments = ["train", "model=yolov8n.yaml", f"data={dataset}", f"epochs={EPOCHS}", "imgsz=64", "batch=4"]
    result = yolo([*arguments, "workers=0", "device=cpu", "plots=True"], environment, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    (run,) = read_offline_runs(tmp_path / ".neptune")
    assert problems_of(run, ultralytics.__version__) == []


@needs_hook
def test_yolo_train_logs_nothing_with_the_switch_off(environment, tmp_path, dataset):
    arguments = ["train", "model=yolov8n.yaml", f"data={dataset}", "epochs=1", "imgsz=64", "batch=4", "workers=0"]
    result = yolo([*arguments, "device=cpu", "plots=False"], environment, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert not (tmp_path / ".neptune").exists()


# DDP workers


WORKER = """
import json, runpy, sys
from ultralytics.engine import trainer as engine

def report(self):
    def is_ours(callback):
        return getattr(getattr(callback, "func", callback), "__module__", "").startswith("ultralytics_neptune")
    loggers = [cb.__self__ for cb in self.callbacks["on_train_start"] if is_ours(cb)]
    if loggers and loggers[0].run is None:  # releases before 8.3.184 start the run inside train()
        self.run_callbacks("on_pretrain_routine_start")
    ours = {event: sum(map(is_ours, cbs)) for event, cbs in self.callbacks.items()}
    run = bool(loggers) and loggers[0].run is not None
    print(json.dumps({"ours": {k: v for k, v in ours.items() if v}, "run": run}))

engine.BaseTrainer.train = report  # no process group on a machine without GPUs: report instead of training
runpy.run_path(sys.argv[1], run_name="__main__")
"""


@pytest.fixture(scope="module")
def ddp_worker_script(tmp_path_factory, dataset):
    """The script Ultralytics writes for its DDP workers, for a trainer that got our callbacks in the parent."""
    from ultralytics.models.yolo.detect import DetectionTrainer
    from ultralytics.utils.dist import generate_ddp_file

    from ultralytics_neptune import add_neptune_callbacks

    workdir = tmp_path_factory.mktemp("ddp")
    overrides = {"model": "yolov8n.yaml", "data": str(dataset), "epochs": 1, "imgsz": 64, "device": "cpu"}
    trainer = DetectionTrainer(overrides={**overrides, "project": str(workdir), "name": "train", "plots": False})
    add_neptune_callbacks(trainer)
    return generate_ddp_file(trainer)


def run_worker(script: str, rank: int, environment: dict, tmp_path: Path) -> dict:
    environment.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2", ULTRALYTICS_NEPTUNE="1")
    result = subprocess.run(
        [sys.executable, "-c", WORKER, script],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(last_report(result.stdout))


@needs_hook
def test_the_rank_0_worker_gets_our_callbacks_once_and_logs(ddp_worker_script, environment, tmp_path):
    report = run_worker(ddp_worker_script, 0, environment, tmp_path)
    assert report["ours"] == {
        "on_pretrain_routine_start": 2,
        "on_train_start": 1,
        "on_train_epoch_end": 1,
        "on_fit_epoch_end": 1,
        "on_val_end": 1,
        "on_train_end": 1,
        "teardown": 1,
    }
    assert report["run"] is True
    assert len(read_offline_runs(tmp_path / ".neptune")) == 1


@needs_hook
def test_a_rank_above_0_logs_nothing(ddp_worker_script, environment, tmp_path):
    report = run_worker(ddp_worker_script, 1, environment, tmp_path)
    assert report["run"] is False
    assert not (tmp_path / ".neptune").exists()


def test_a_parent_about_to_launch_ddp_workers_starts_no_run(neptune_fake, monkeypatch, tmp_path):
    """From 8.3.184 to 8.3.199 the parent of a DDP launch fired on_pretrain_routine_start as well."""
    from ultralytics_neptune.verification.replay import ReplayTrainer

    monkeypatch.delenv("LOCAL_RANK", raising=False)
    monkeypatch.delenv("RANK", raising=False)
    from ultralytics_neptune import neptune_callbacks

    registered = neptune_callbacks()
    start, logger = registered["on_pretrain_routine_start"][-1], registered["on_train_start"][0].__self__
    trainer = ReplayTrainer(tmp_path)
    trainer.args.project, trainer.args.name, trainer.args.device = None, "train", "0,1"
    start(trainer)
    assert logger.run is None and neptune_fake.runs == []
    trainer.args.device = "0"
    start(trainer)
    assert logger.run.started(60) is not None  # the client starts once waited for (or at on_train_start)
    assert len(neptune_fake.runs) == 1


# no double logging where Ultralytics still has its own callback


@needs_hook
def test_with_the_builtin_callback_enabled_a_training_starts_one_run(environment, tmp_path, dataset):
    from ultralytics_neptune.verification.upstream import upstream_module_path

    if upstream_module_path() is None:
        pytest.skip("this Ultralytics (8.4.132+) has no built-in Neptune callback to clash with; 8.4.131's env runs it")
    builtin_enabled = python(
        """
        from ultralytics.utils import SETTINGS
        SETTINGS.update(neptune=True)
        from ultralytics.utils.callbacks import neptune as builtin
        print(bool(builtin.callbacks))
        """,
        environment,
        tmp_path,
    )
    assert builtin_enabled == "True"  # the built-in callback is on for this process and the next
    environment["ULTRALYTICS_NEPTUNE"] = "1"
    arguments = ["train", "model=yolov8n.yaml", f"data={dataset}", "epochs=2", "imgsz=64", "batch=4", "workers=0"]
    result = yolo([*arguments, "device=cpu", "plots=False"], environment, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(read_offline_runs(tmp_path / ".neptune")) == 1


# status and a training agree, for every kind of setting

SETTINGS_TABLE = {
    # name: (environment variables, settings file text or None, what status and a training must both say)
    "nothing set": ({}, None, "off"),
    "switch on": ({"ULTRALYTICS_NEPTUNE": "1"}, None, "parity"),
    "switch and extended on": ({"ULTRALYTICS_NEPTUNE": "yes", "ULTRALYTICS_NEPTUNE_EXTENDED": "1"}, None, "extended"),
    "settings file on": ({}, '{"enabled": true, "extended": false}', "parity"),
    "variable off wins over the file": ({"ULTRALYTICS_NEPTUNE": "0"}, '{"enabled": true}', "off"),
    "switch means nothing": ({"ULTRALYTICS_NEPTUNE": "maybe"}, None, "ULTRALYTICS_NEPTUNE='maybe'"),
    "empty switch": ({"ULTRALYTICS_NEPTUNE": ""}, None, "ULTRALYTICS_NEPTUNE=''"),
    "extended means nothing": (
        {"ULTRALYTICS_NEPTUNE": "1", "ULTRALYTICS_NEPTUNE_EXTENDED": "maybe"},
        None,
        "ULTRALYTICS_NEPTUNE_EXTENDED='maybe'",
    ),
    "mode means nothing": ({"ULTRALYTICS_NEPTUNE": "1", "NEPTUNE_MODE": "bogus"}, None, "NEPTUNE_MODE='bogus'"),
    "settings file is not JSON": ({}, "{not json", "is not JSON"),
}
STATUS_SAYS = {
    "off": "is logged only where add_neptune_callbacks is called (automatic registration is off)",
    "parity": "logs to Neptune in parity mode (offline)",
    "extended": "logs to Neptune in extended mode (offline)",
}


def status_and_training(variables: dict, settings_text, environment: dict, workdir: Path, dataset: Path) -> tuple:
    """(exit code, output and the 'a training' row of status; offline runs and output of a real tiny yolo train)."""
    environment.update(variables)
    if settings_text is not None:
        Path(environment["ULTRALYTICS_NEPTUNE_SETTINGS"]).write_text(settings_text)
    command = [sys.executable, "-m", "ultralytics_neptune", "status"]
    status = subprocess.run(command, env=environment, cwd=workdir, capture_output=True, text=True, timeout=300)
    row = next(line for line in status.stdout.splitlines() if line.startswith("a training"))
    arguments = ["train", "model=yolov8n.yaml", f"data={dataset}", "epochs=1", "imgsz=32", "batch=4", "workers=0"]
    training = yolo([*arguments, "device=cpu", "plots=False"], environment, workdir)
    assert training.returncode == 0, training.stderr[-3000:]
    runs = read_offline_runs(workdir / ".neptune")
    return status, row.split("  ")[-1].strip(), runs, training.stdout + training.stderr


@needs_hook
@pytest.mark.parametrize("name", list(SETTINGS_TABLE))
def test_status_says_what_a_training_then_does(name, environment, tmp_path, dataset):
    variables, settings_text, expected = SETTINGS_TABLE[name]
    status, says, runs, output = status_and_training(variables, settings_text, environment, tmp_path, dataset)
    if expected in STATUS_SAYS:
        assert (status.returncode, says) == (0, STATUS_SAYS[expected])
        assert len(runs) == (0 if expected == "off" else 1)
        versions = [
            op for run in runs for op in run.trace.operations if op["path"][:2] == ["Configuration", "Versions"]
        ]
        assert bool(versions) is (expected == "extended")
    else:
        assert status.returncode == 1 and expected in status.stderr
        assert says == "logs NOTHING to Neptune until the settings above are fixed"
        assert runs == []
        (warning,) = [line for line in output.splitlines() if "NOT logging this training to Neptune" in line]
        assert expected in warning


@needs_hook
def test_with_the_switch_on_pytest_rewrites_our_plugin_without_a_warning(environment, tmp_path):
    """The hook imports nothing of ours at start, so pytest can still rewrite the plugin it loads from us."""
    (tmp_path / "test_nothing.py").write_text("def test_nothing():\n    assert True\n")
    environment["ULTRALYTICS_NEPTUNE"] = "1"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", "test_nothing.py"]
    result = subprocess.run(command, env=environment, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "PytestAssertRewriteWarning" not in result.stdout + result.stderr
