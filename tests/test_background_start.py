"""The run starts on a thread of its own: the training never waits for it, and the trace is the same whatever the start
takes, fails, or outlives."""

from __future__ import annotations

import threading

import pytest

from ultralytics_neptune import neptune_callbacks
from ultralytics_neptune.starting import StartingRun
from ultralytics_neptune.trace import Trace, diff_traces
from ultralytics_neptune.verification import parity
from ultralytics_neptune.verification.recording import Recording, load_bundled

RECORDING = "ultralytics-8.4.190"


@pytest.fixture(scope="module")
def recording() -> Recording:
    return load_bundled(RECORDING)


class StartGate:
    """Holds ``init_run`` while closed (open until ``hold()``); with ``error`` set, the start fails once let go."""

    def __init__(self, fake):
        self.fake = fake
        self.open = threading.Event()
        self.open.set()
        self.error: Exception | None = None
        self.runs_when_released: int | None = None

    def hold(self) -> None:
        self.open.clear()

    def release(self) -> None:
        if self.runs_when_released is None:
            self.runs_when_released = len(self.fake.runs)
        self.open.set()


@pytest.fixture
def start_gate(neptune_fake, monkeypatch) -> StartGate:
    gate = StartGate(neptune_fake)
    init_run = neptune_fake.module.init_run

    def gated_init_run(**kwargs):
        assert gate.open.wait(60), "the test never let the start go"
        if gate.error is not None:
            raise gate.error
        return init_run(**kwargs)

    monkeypatch.setattr(neptune_fake.module, "init_run", gated_init_run)
    return gate


def after_epoch(epoch: int, action) -> dict:
    """A callback running action when the given epoch's fit ends (0-based, as trainer.epoch counts)."""
    return {"on_fit_epoch_end": lambda trainer: action() if trainer.epoch == epoch else None}


def trace_of_last_run(neptune_fake, trainer) -> Trace:
    """The last run's trace, without what differs between two identical trainings (extended mode's random run id)."""
    trace = Trace.from_run(neptune_fake.last_run, trainer.save_dir).without_environment()
    trace.init_run.pop("custom_run_id", None)
    return trace


def first_differences(expected: Trace, actual: Trace) -> list:
    return diff_traces(parity.without_pixels(expected), parity.without_pixels(actual))[:10]


@pytest.mark.parametrize("extended", [False, True], ids=["parity", "extended"])
def test_a_start_slower_than_two_epochs_logs_the_same_trace(
    extended, recording, neptune_fake, neptune_replay, start_gate
):
    quick = neptune_replay(recording, neptune_callbacks(extended=extended))
    expected = trace_of_last_run(neptune_fake, quick)
    start_gate.hold()
    slow = neptune_replay(recording, [neptune_callbacks(extended=extended), after_epoch(1, start_gate.release)])
    assert start_gate.runs_when_released == 1  # two epochs were logged before the second run existed
    assert first_differences(expected, trace_of_last_run(neptune_fake, slow)) == []


def test_with_a_slow_start_the_trace_still_equals_the_golden_trace_of_upstream(
    recording, neptune_fake, neptune_replay, parity_callbacks, start_gate
):
    start_gate.hold()
    trainer = neptune_replay(recording, [parity_callbacks, after_epoch(1, start_gate.release)])
    ours = parity.trace_of(neptune_fake, trainer.save_dir, recording=RECORDING)
    result = parity.compare(parity.load_golden(recording), ours, RECORDING, "golden")
    assert result.passed, "\n".join(result.differences[:10])


def test_a_start_that_fails_after_two_epochs_warns_once_and_the_training_ends_normally(
    recording, neptune_fake, neptune_replay, parity_logger, parity_callbacks, start_gate, caplog
):
    start_gate.hold()
    start_gate.error = ConnectionError("server said no\nand much more")
    trainer = neptune_replay(recording, [parity_callbacks, after_epoch(1, start_gate.release)])
    assert (trainer.save_dir / "weights" / "best.pt").exists() and neptune_fake.runs == []
    (warning,) = [r.getMessage() for r in caplog.records if "Neptune: " in r.getMessage()]
    assert "could not start a run (ConnectionError: server said no); training goes on without Neptune" in warning
    assert not parity_logger.run


def test_a_training_that_crashes_before_the_run_exists_keeps_what_it_logged(
    recording, neptune_fake, neptune_replay, parity_logger, parity_callbacks, start_gate
):
    epochs = [index for index, event in enumerate(recording.events) if event["event"] == "on_fit_epoch_end"]
    crashed = Recording(meta=dict(recording.meta), events=recording.events[: epochs[1] + 1])  # ends after epoch 2
    quick = neptune_replay(crashed, parity_callbacks)
    parity_logger.run.started(10)  # no train end waited for it
    expected = trace_of_last_run(neptune_fake, quick)
    start_gate.hold()
    slow = neptune_replay(crashed, parity_callbacks)  # no train end: nothing waits for the start
    starting = parity_logger.run
    assert isinstance(starting, StartingRun) and starting.started(0) is None
    start_gate.release()
    assert starting.started(10) is not None
    assert first_differences(expected, trace_of_last_run(neptune_fake, slow)) == []


SILENT_SERVER_TRAINING = """
import base64, json, socket, sys, threading, time
from ultralytics_neptune import neptune_callbacks, starting
from ultralytics_neptune.verification.recording import load_bundled
from ultralytics_neptune.verification.replay import replay

listener = socket.create_server(("127.0.0.1", 0))  # accepts connections and never answers
held = []
threading.Thread(target=lambda: [held.append(listener.accept()) for _ in range(100)], daemon=True).start()
address = f"http://127.0.0.1:{listener.getsockname()[1]}"
token = base64.b64encode(json.dumps({"api_address": address, "api_url": address, "api_key": "k"}).encode()).decode()
starting.START_TIMEOUT = float(sys.argv[1])
quiet = dict(capture_stdout=False, capture_stderr=False, capture_hardware_metrics=False, source_files=[], git_ref=False)
callbacks = neptune_callbacks(mode="async", project="ws/p", api_token=token, **quiet)
starts = lambda: [t for t in threading.enumerate() if t.name == "neptune-start"]
seen = {}
callbacks["on_train_start"].append(lambda trainer: seen.setdefault("starting at train start", len(starts())))
callbacks["on_train_end"].insert(0, lambda trainer: seen.setdefault("train end", time.monotonic()))
trainer = replay(load_bundled("ultralytics-8.4.190"), callbacks, sys.argv[2])
seen["train end waited"] = time.monotonic() - seen.pop("train end")
seen["start still hanging at the end"] = len(starts())
seen["finished"] = (trainer.save_dir / "weights" / "best.pt").exists()
print(json.dumps(seen), flush=True)
"""


def test_a_server_that_never_answers_costs_the_training_only_the_bounded_wait_at_train_end(tmp_path):
    import json
    import subprocess
    import sys

    bound = 4.0
    result = subprocess.run(
        [sys.executable, "-c", SILENT_SERVER_TRAINING, str(bound), str(tmp_path / "save_dir")],
        capture_output=True,
        text=True,
        timeout=300,  # a process held by the hanging start would end here, failing the test
    )
    report = json.loads([line for line in result.stdout.splitlines() if line.startswith("{")][-1])
    assert report["finished"], result.stderr[-2000:]
    assert report["starting at train start"] == 1  # the training went on while the client started
    assert report["train end waited"] >= bound - 0.5  # train end gave the start its bound before giving up
    assert f"the run had not started after {bound} s" in result.stdout + result.stderr
    assert report["start still hanging at the end"] == 1  # and the process ended all the same


def starting_threads() -> int:
    return sum(thread.name == "neptune-start" for thread in threading.enumerate())


@pytest.mark.parametrize("extended", [False, True], ids=["parity", "extended"])
def test_the_client_starts_only_once_the_trainer_is_set_up(extended, recording, neptune_replay, start_gate):
    """Importing the client while the trainer sets up would slow the set-up: the thread starts at on_train_start."""
    start_gate.hold()
    before = starting_threads()
    seen = {}

    def at_first_epoch(trainer) -> None:
        seen.setdefault("training", starting_threads() - before)
        start_gate.release()

    probes = {
        "on_pretrain_routine_end": lambda trainer: seen.setdefault("set_up", starting_threads() - before),
        "on_train_epoch_start": at_first_epoch,
    }
    neptune_replay(recording, [neptune_callbacks(extended=extended), probes])
    assert seen == {"set_up": 0, "training": 1}


FAILED_SET_UP = """
import sys
from ultralytics_neptune import neptune_callbacks
from ultralytics_neptune.verification.recording import load_bundled
from ultralytics_neptune.verification.replay import replay

def fail(trainer):
    raise RuntimeError("the dataset could not be read")

quiet = dict(capture_stdout=False, capture_stderr=False, capture_hardware_metrics=False, source_files=[], git_ref=False)
callbacks = [neptune_callbacks(mode="offline", **quiet), {"on_pretrain_routine_end": fail}]
try:
    replay(load_bundled("ultralytics-8.4.190"), callbacks, sys.argv[1])
except RuntimeError as error:
    print(f"training failed: {error}", flush=True)
"""


def test_a_training_that_fails_in_its_set_up_keeps_what_it_logged_in_a_run_started_at_exit(tmp_path):
    import subprocess
    import sys

    from run_checks import outside_pytest

    from ultralytics_neptune.offline import read_offline_runs

    pytest.importorskip("neptune", reason="needs the real client")
    result = subprocess.run(
        [sys.executable, "-c", FAILED_SET_UP, str(tmp_path / "save_dir")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**outside_pytest(), "NEPTUNE_MODE": "offline"},
    )
    assert "training failed: the dataset could not be read" in result.stdout, result.stderr[-2000:]
    (run,) = read_offline_runs(tmp_path / ".neptune")
    fields = {"/".join(op["path"]) for op in run.trace.without_environment().operations}
    assert "Configuration/Hyperparameters/epochs" in fields


TRAINING_DRAWS = """
import os, random, sys
from ultralytics_neptune.starting import import_client

random.seed(0)
expected = [random.random() for _ in range(3)]
random.seed(0)
run = import_client().init_run(mode="offline", capture_stdout=False, capture_stderr=False)
print("same draws:", [random.random() for _ in range(3)] == expected, flush=True)
run.stop()
"""


def test_starting_the_client_leaves_the_trainings_random_draws_as_they_were(tmp_path):
    """The client draws from Python's global generator while it starts, on its own thread, amid the training's
    augmentation draws: it gets a generator of its own, so a training logs the same losses as without Neptune."""
    import subprocess
    import sys

    from run_checks import outside_pytest

    pytest.importorskip("neptune", reason="needs the real client")
    result = subprocess.run(
        [sys.executable, "-c", TRAINING_DRAWS],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=outside_pytest(),
    )
    assert "same draws: True" in result.stdout, result.stdout[-2000:] + result.stderr[-2000:]
