"""Fault injection: whatever goes wrong with logging, the training completes, every namespace that could be
logged is logged, and each fault is one clear warning that names the problem and what was skipped.

Faults in what a training logs (uploads, metrics) are injected into the trainings of every task. Faults of the run
itself (starting it, events out of order, the client missing), of the weights file, whose field is the same for
every task, and the check of faults against the real client are run on the detect training only: the task does not
reach them, and each replay in parity mode re-draws 3 to 12 plots.
"""

from __future__ import annotations

import math

import pytest

from ultralytics_neptune import neptune_callbacks
from ultralytics_neptune.releases import LAST_UPSTREAM
from ultralytics_neptune.synthetic import TASKS
from ultralytics_neptune.verification.fake import NeptuneInvalidApiTokenException, NeptuneMissingProjectNameException
from ultralytics_neptune.verification.recording import load_bundled, recording_name

MODES = {"parity": False, "extended": True}


@pytest.fixture(params=list(MODES))
def extended(request):
    return MODES[request.param]


@pytest.fixture(scope="module", params=TASKS)
def recording(request):
    """A real training of the task, by the last release with its own Neptune callback."""
    return load_bundled(recording_name(LAST_UPSTREAM, request.param))


ON_DETECT = pytest.mark.parametrize("recording", ["detect"], indirect=True)


@pytest.fixture(scope="module")
def metric(recording) -> str:
    """A validation metric of the task, e.g. metrics/mAP50(B) or metrics/accuracy_top1."""
    final_metrics = [event["state"]["metrics"] for event in recording.events if "metrics" in event.get("state", {})]
    return next(key for key in final_metrics[-1] if key.startswith("metrics/"))


@pytest.fixture
def registered(extended):
    """Our callbacks as one registration adds them, in the mode of the test."""
    return neptune_callbacks(extended=extended)


@pytest.fixture
def train(neptune_fake, neptune_replay, registered, recording, caplog):
    """Replay a training with fault callbacks running before ours; return the finished trainer."""

    def run_training(faults: dict | None = None, repairs: dict | None = None):
        caplog.clear()
        return neptune_replay(recording, [faults or {}, registered, repairs or {}])

    return run_training


@pytest.fixture(scope="module")
def clean_runs() -> dict:
    """The operations of a clean replay by recording and mode, made once: parity mode re-draws every plot."""
    return {}


@pytest.fixture
def baseline(train, neptune_fake, clean_runs, recording, extended):
    """What a clean replay of the recording logs in the mode of the test."""
    if (recording.name, extended) not in clean_runs:
        train()
        clean_runs[recording.name, extended] = neptune_fake.runs.pop().operations
    return clean_runs[recording.name, extended]


def warnings_of(caplog) -> list:
    return [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and "Neptune: " in r.getMessage()]


def fields(operations) -> dict:
    counts: dict = {}
    for op in operations:
        key = "/".join(op["path"])
        counts[key] = counts.get(key, 0) + 1
    return counts


def at(event: str, change, epoch: int | None = None) -> dict:
    """A fault callback: change(trainer) at the event (in one epoch only, if given)."""

    def callback(trainer):
        if epoch is None or getattr(trainer, "epoch", None) == epoch:
            change(trainer)

    return {event: callback}


@ON_DETECT
@pytest.mark.parametrize(
    "error", [NeptuneInvalidApiTokenException("bad token"), NeptuneMissingProjectNameException("no project")]
)
def test_init_run_failing_leaves_the_training_unlogged_with_one_warning(train, neptune_fake, caplog, error):
    neptune_fake.init_run_error = error
    trainer = train()
    assert (trainer.save_dir / "weights" / "best.pt").exists()  # the training ran to its end
    assert neptune_fake.runs == []
    (warning,) = warnings_of(caplog)
    assert type(error).__name__ in warning and "goes on without Neptune logging" in warning


def test_failing_uploads_skip_only_the_uploads(train, neptune_fake, caplog, baseline):
    fault = neptune_fake.inject(OSError("disk full"), operation="UploadFile")
    train()
    operations = neptune_fake.last_run.operations
    assert len(operations) == len(baseline) - fault.raised
    assert {
        k: v for k, v in fields(baseline).items() if not k.startswith(("Mosaic", "Validation", "Plots", "weights"))
    } == fields(operations)
    messages = warnings_of(caplog)
    assert sum("OSError: disk full" in m for m in messages) == 1  # one warning for the kind of fault
    assert f"in all, {fault.raised} problems while logging" in messages[-1]


def test_one_failing_upload_loses_nothing_else(train, neptune_fake, caplog, baseline):
    neptune_fake.inject(OSError("disk full"), operation="UploadFile", path="Mosaic/train_batch1")
    train()
    assert fields(neptune_fake.last_run.operations) == {
        k: v for k, v in fields(baseline).items() if k != "Mosaic/train_batch1"
    }
    (warning,) = warnings_of(caplog)
    assert "Mosaic/train_batch1" in warning and "skipped" in warning


@ON_DETECT
def test_a_missing_weights_file(train, neptune_fake, caplog, extended):
    train(at("on_train_end", lambda trainer: trainer.best.unlink()))
    uploads = {"/".join(op["path"]): op for op in neptune_fake.last_run.operations if op["type"] == "UploadFile"}
    if extended:
        assert "weights/train/best.pt" not in uploads
        (warning,) = warnings_of(caplog)
        assert "best.pt does not exist; weights/train/best.pt was not uploaded" in warning
    else:  # as upstream (test_parity_mode_meets_the_fault_as_upstream_did): offline the client keeps the reference
        assert uploads["weights/train/best.pt"]["content"]["missing"] is True


@ON_DETECT
def test_a_weights_path_that_is_not_a_file(train, neptune_fake, caplog, extended):
    def replace_with_folder(trainer):
        trainer.best.unlink()
        trainer.best.mkdir()

    train(at("on_train_end", replace_with_folder))
    uploads = {"/".join(op["path"]) for op in neptune_fake.last_run.operations if op["type"] == "UploadFile"}
    assert ("weights/train/best.pt" in uploads) is not extended
    if extended:
        assert "is not a file" in warnings_of(caplog)[0]


BAD_VALUES = {"None": (None, True), "string": ("n/a", True), "nan": (float("nan"), False), "inf": (math.inf, False)}
BAD_VALUES["two-value-tensor"] = ("two-value tensor", True)


@pytest.mark.parametrize(
    ("recording", "bad_value", "parity_warns"),
    [
        *(pytest.param("detect", *BAD_VALUES[kind], id=f"detect-{kind}") for kind in BAD_VALUES),
        *(pytest.param(task, *BAD_VALUES["string"], id=f"{task}-string") for task in TASKS if task != "detect"),
    ],
    indirect=["recording"],
)
def test_a_bad_metric_skips_that_value_only(
    train, neptune_fake, caplog, baseline, extended, metric, bad_value, parity_warns
):
    """In parity mode the client itself drops a float NaN or inf (with its own warning); the rest is ours."""
    import torch

    value = torch.tensor([1.0, 2.0]) if bad_value == "two-value tensor" else bad_value

    def spoil(trainer):
        trainer.good_metrics = trainer.metrics
        trainer.metrics = {**trainer.metrics, metric: value}

    def repair(trainer):
        trainer.metrics = trainer.good_metrics

    train(at("on_fit_epoch_end", spoil, epoch=1), at("on_fit_epoch_end", repair, epoch=1))
    expected = fields(baseline)
    expected[metric] -= 1
    assert fields(neptune_fake.last_run.operations) == expected  # every other value of the run is there
    ours = warnings_of(caplog)
    assert len(ours) == (1 if extended or parity_warns else 0)
    assert all(metric in warning and "step 2" in warning for warning in ours)


def test_a_nan_tensor_metric_is_skipped_in_extended_mode_and_sent_in_parity_mode(train, neptune_fake, extended, metric):
    import torch

    def spoil(trainer):
        trainer.good_metrics = trainer.metrics
        trainer.metrics = {**trainer.metrics, metric: torch.tensor(float("nan"))}

    def repair(trainer):
        trainer.metrics = trainer.good_metrics

    train(at("on_fit_epoch_end", spoil, epoch=1), at("on_fit_epoch_end", repair, epoch=1))
    values = [
        v["value"] for op in neptune_fake.last_run.operations if "/".join(op["path"]) == metric for v in op["values"]
    ]
    assert any(math.isnan(v) for v in values) is not extended


@ON_DETECT
def test_a_trainer_without_best_weights(train, neptune_fake, caplog):
    train(at("on_train_end", lambda trainer: delattr(trainer, "best")))
    operations = neptune_fake.last_run.operations
    assert any(op["path"][0] == "Plots" for op in operations)
    assert not any(op["path"][0] == "weights" for op in operations)
    (warning,) = warnings_of(caplog)
    assert "could not upload the best weights, skipped: AttributeError" in warning


@ON_DETECT
def test_events_before_the_run_starts_do_nothing(neptune_fake, neptune_replay, recording, registered):
    trainer = neptune_replay(recording, {})
    for event in ("on_train_epoch_end", "on_fit_epoch_end", "on_train_end", "teardown"):
        for callback in registered.get(event, []):
            callback(trainer)
    registered["on_val_end"][0](trainer.validator)
    assert neptune_fake.runs == []


@ON_DETECT
def test_train_end_twice(train, neptune_fake, registered):
    trainer = train()
    operations = len(neptune_fake.last_run.operations)
    registered["on_train_end"][0](trainer)
    assert len(neptune_fake.last_run.operations) == operations


@ON_DETECT
def test_pretrain_start_twice_for_one_training(train, neptune_fake, extended, registered):
    """Extended mode keeps the one run; parity mode opens a second (as upstream did: test below)."""
    train({"on_train_start": registered["on_pretrain_routine_start"][1]})
    assert len(neptune_fake.runs) == (1 if extended else 2)


def spoil_a_metric_at_epoch_1(metric: str, value) -> tuple:
    """Fault and repair callbacks: the metric holds value in epoch 1's fit_epoch_end only."""

    def spoil(trainer):
        trainer.good_metrics = trainer.metrics
        trainer.metrics = {**trainer.metrics, metric: value}

    def repair(trainer):
        trainer.metrics = trainer.good_metrics

    return at("on_fit_epoch_end", spoil, epoch=1), at("on_fit_epoch_end", repair, epoch=1)


def own_callback(callbacks: dict, event: str):
    """The module's callback of a registration at event (ours: the last of a list; upstream's: its one function)."""
    found = callbacks[event]
    return found[-1] if isinstance(found, list) else found


def fault_as_upstream(fault: str, callbacks: dict, metric: str) -> tuple:
    """(fault, repair) callbacks of a fault, against the registration they run with."""
    import torch

    if fault == "missing weights":
        return at("on_train_end", lambda trainer: trainer.best.unlink()), {}
    if fault == "nan tensor metric":
        return spoil_a_metric_at_epoch_1(metric, torch.tensor(float("nan")))
    if fault == "run start twice":  # the module's own start, again when the training starts
        return {"on_train_start": lambda trainer: own_callback(callbacks, "on_pretrain_routine_start")(trainer)}, {}
    raise ValueError(fault)


def runs_of(fake, save_dir) -> list:
    """The traces of every run a replay started, pixels included, NaN values said as text (NaN != NaN)."""
    from ultralytics_neptune.trace import Trace

    traces = []
    for run in fake.runs:
        trace = Trace.from_run(run, save_dir)
        for op in trace.operations:
            for value in op.get("values", []):
                if isinstance(value, dict) and isinstance(value.get("value"), float) and math.isnan(value["value"]):
                    value["value"] = "nan"
        traces.append(trace)
    return traces


def parity_against_upstream(fault: str, fake, replay, recording, metric, upstream_callbacks) -> list:
    """Replay the training with the fault through parity mode, then through 8.4.131's own module: the differences of
    each run (a count of runs where those differ)."""
    from ultralytics_neptune.trace import diff_traces

    ours = neptune_callbacks(extended=False)
    faults, repairs = fault_as_upstream(fault, ours, metric)
    our_runs = runs_of(fake, replay(recording, [faults, ours, repairs]).save_dir)
    fake.runs.clear()
    theirs = upstream_callbacks()
    faults, repairs = fault_as_upstream(fault, theirs, metric)
    upstream_runs = runs_of(fake, replay(recording, [faults, theirs, repairs]).save_dir)
    if len(our_runs) != len(upstream_runs):
        return [f"runs: upstream started {len(upstream_runs)}, parity mode {len(our_runs)}"]
    return [line for expected, got in zip(upstream_runs, our_runs) for line in diff_traces(expected, got)]


@ON_DETECT
@pytest.mark.parametrize("fault", ["missing weights", "nan tensor metric", "run start twice"])
def test_parity_mode_meets_the_fault_as_upstream_did(
    fault, neptune_fake, neptune_replay, recording, metric, upstream_callbacks
):
    """The 8.4.131 module itself, on the same training with the same fault, logs what parity mode logs."""
    assert parity_against_upstream(fault, neptune_fake, neptune_replay, recording, metric, upstream_callbacks) == []


@ON_DETECT
def test_a_module_that_skips_missing_weights_no_longer_meets_the_fault_as_upstream_did(
    neptune_fake, neptune_replay, recording, metric, upstream_callbacks, monkeypatch
):
    """The deliberate break of the test above: the comparison sees a module that checks the file exists."""
    from ultralytics_neptune.verification.mutation import change_module_source

    upload = (
        'run[f"weights/{trainer.args.name or trainer.args.task}/{trainer.best.name}"].upload(File(str(trainer.best)))'
    )
    change_module_source(monkeypatch, upload, f"trainer.best.exists() and {upload}")
    differences = parity_against_upstream(
        "missing weights", neptune_fake, neptune_replay, recording, metric, upstream_callbacks
    )
    assert [line.split(" ")[0].rstrip(":") for line in differences] == ["weights/train/best.pt"]


@ON_DETECT
def test_a_second_training_in_the_process_is_a_second_run(train, neptune_fake):
    train()
    train()
    first, second = neptune_fake.runs
    assert first is not second and len(first.operations) == len(second.operations)


@ON_DETECT
def test_the_client_missing_at_run_start(train, neptune_fake, caplog, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "neptune", None)
    train()
    assert neptune_fake.runs == []
    (warning,) = warnings_of(caplog)
    assert "could not start a run (ModuleNotFoundError" in warning


# The stall happens at run start, before anything of the training is read: one task shows it.
UNREACHABLE_SERVER_TRAINING = """
import base64, json, sys
from ultralytics_neptune import neptune_callbacks
from ultralytics_neptune.verification.recording import load_bundled
from ultralytics_neptune.verification.replay import replay

address = "http://127.0.0.1:9"  # loopback, nothing listens
credentials = {"api_address": address, "api_url": address, "api_key": "k"}
token = base64.b64encode(json.dumps(credentials).encode()).decode()
quiet = dict(capture_stdout=False, capture_stderr=False, capture_hardware_metrics=False, source_files=[], git_ref=False)
extended = sys.argv[1] == "extended"
callbacks = neptune_callbacks(extended=extended, mode="async", project="ws/p", api_token=token, **quiet)
trainer = replay(load_bundled("ultralytics-8.4.131"), callbacks, sys.argv[2])
print(json.dumps({"finished": (trainer.save_dir / "results.png").exists()}))
"""


@pytest.mark.parametrize("mode", ["parity", "extended"])
def test_an_unreachable_server_fails_the_run_start_and_the_training_finishes(mode, tmp_path):
    """The client retries for NEPTUNE_RETRIES_TIMEOUT seconds (read when it is imported; default 60), then gives up;
    what that costs a training is measured in benchmarks."""
    import json
    import os
    import subprocess
    import sys

    pytest.importorskip("neptune", reason="needs the real client")
    environment = {**os.environ, "NEPTUNE_RETRIES_TIMEOUT": "3"}
    result = subprocess.run(
        [sys.executable, "-c", UNREACHABLE_SERVER_TRAINING, mode, str(tmp_path / "save_dir")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=300,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["finished"], result.stderr[-2000:]
    assert "could not start a run (NeptuneConnectionLostException" in result.stdout + result.stderr


@ON_DETECT
def test_with_the_real_client_offline_a_bad_metric_and_a_missing_file_lose_nothing_else(
    extended, recording, metric, neptune_replay, tmp_path, monkeypatch, caplog
):
    """The same faults through the real client: what it wrote to disk is the clean run minus the faulty items."""
    pytest.importorskip("neptune", reason="needs the real client")
    from ultralytics_neptune.offline import read_offline_runs

    quiet = {"capture_stdout": False, "capture_stderr": False, "capture_hardware_metrics": False}
    monkeypatch.setenv("NEPTUNE_MODE", "offline")
    monkeypatch.chdir(tmp_path)

    def logged(faults: dict, repairs: dict, folder: str) -> dict:
        monkeypatch.setenv("NEPTUNE_DATA_DIRECTORY", str(tmp_path / folder))
        callbacks = neptune_callbacks(extended=extended, source_files=[], git_ref=False, **quiet)
        neptune_replay(recording, [faults, callbacks, repairs])
        (run,) = read_offline_runs(tmp_path / folder)
        return fields(run.trace.without_environment().operations)

    def spoil(trainer):
        trainer.good_metrics = trainer.metrics
        trainer.metrics = {**trainer.metrics, metric: "n/a"}

    def repair(trainer):
        trainer.metrics = trainer.good_metrics

    faults = {**at("on_fit_epoch_end", spoil, epoch=2), **at("on_train_end", lambda trainer: trainer.best.unlink())}
    clean = logged({}, {}, "clean")
    faulty = logged(faults, at("on_fit_epoch_end", repair, epoch=2), "faulty")
    clean[metric] -= 1
    if extended:  # parity uploads the missing path as upstream did; the client keeps the reference
        clean.pop("weights/train/best.pt")
    assert faulty == clean
