"""The replayed training every benchmark runs, and the trainer that times the callbacks on it.

A bundled recording (a real 3-epoch training) is stretched to N epochs by repeating its middle epoch with the epoch
number, losses, learning rates and metrics moved on; its first epochs and its final evaluation stay as recorded.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from ultralytics_neptune.verification.recording import Recording, load_bundled
from ultralytics_neptune.verification.replay import ReplayTrainer, ReplayValidator

RECORDING = "ultralytics-8.4.131"
EPOCHS = 100


@dataclass
class Scenario:
    """A stretched recording and where each of its events belongs: "start", an epoch number, or "end"."""

    recording: Recording
    epochs: int
    phases: list = field(default_factory=list)  # one per event: "start", int epoch, or "end"
    steady_epochs: range = range(0)  # the repeated epochs: what an ordinary epoch of a long training costs

    @property
    def events(self) -> list:
        return self.recording.events

    def until_final_evaluation(self) -> Recording:
        """The training without its final evaluation and train end: every run is still open at its end."""
        end = self.phases.index("end")
        return Recording(meta=dict(self.recording.meta), events=self.events[:end])


def _epoch_spans(events: list) -> tuple[list, int]:
    """The [start, end) index span of each training epoch, and where the final evaluation begins."""
    starts = [index for index, event in enumerate(events) if event["event"] == "on_train_epoch_start"]
    last_fit = next(i for i in range(starts[-1], len(events)) if events[i]["event"] == "on_fit_epoch_end")
    ends = [*starts[1:], last_fit + 1]
    return list(zip(starts, ends)), last_fit + 1


def _scaled(values: dict, factor: float) -> dict:
    return {key: round(value * factor, 8) if isinstance(value, float) else value for key, value in values.items()}


def _raised(values: dict, amount: float) -> dict:
    """Metrics that improve: metrics/* go up by amount (capped at 1), validation losses go down."""
    moved = {}
    for key, value in values.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            moved[key] = value
        elif key.startswith("metrics/"):
            moved[key] = round(min(1.0, float(value) + amount), 8)
        else:
            moved[key] = round(float(value) * (1 - amount), 8)
    return moved


def _repeat_epoch(template: list, epoch: int, shift: int, metrics: dict, revision: int) -> list:
    """A copy of the template epoch's events as epoch ``epoch``; ``shift`` epochs after the template.

    Only results.csv is rewritten: the weights (48 MB an epoch) are read by no callback before train end, and the
    batch mosaics were written once, in the first epochs, as in a real training.
    """
    events = []
    for event in copy.deepcopy(template):
        state = event.setdefault("state", {})
        state.pop("plots", None)  # the plot registry changed once in the template epoch; it stays as it was
        if "epoch" in state:
            state["epoch"] = epoch
        if "loss_items" in state:
            state["loss_items"] = _scaled(state["loss_items"], 0.995**shift)
        if "lr" in state:
            state["lr"] = _scaled(state["lr"], 1 - 0.009 * shift / 100)
        if event["event"] == "on_model_save":
            state["metrics"] = _raised(metrics, 0.004 * shift)
        event["files"] = {
            path: {**spec, "revision": revision, "size": spec["size"] + 96 * shift}
            for path, spec in event.get("files", {}).items()
            if not path.startswith("weights/") and not spec.get("image")
        }
        events.append(event)
    return events


def stretch(recording: Recording, epochs: int) -> Scenario:
    """The recording as a training of ``epochs`` epochs (its middle epoch repeated); see the module docstring."""
    events = recording.events
    spans, final_start = _epoch_spans(events)
    recorded_epochs = len(spans)
    if epochs < recorded_epochs:
        raise ValueError(f"cannot stretch a {recorded_epochs}-epoch recording to {epochs} epochs")
    template_index = recorded_epochs // 2
    template = events[slice(*spans[template_index])]
    first_metrics = next(
        event["state"]["metrics"]
        for event in events
        if event["event"] == "on_model_save" and "metrics" in event["state"]
    )
    head = copy.deepcopy(events[: spans[0][0]])
    for event in head:
        state = event.get("state", {})
        if "epochs" in state:
            state["epochs"] = epochs
        if "args" in state:
            state["args"] = {**state["args"], "epochs": epochs}
    stretched, phases = list(head), ["start"] * len(head)
    for epoch in range(epochs):
        if epoch < template_index + 1:
            epoch_events = copy.deepcopy(events[slice(*spans[epoch])])
        else:
            shift = epoch - template_index
            epoch_events = _repeat_epoch(template, epoch, shift, first_metrics, revision=epoch)
        stretched += epoch_events
        phases += [epoch] * len(epoch_events)
    tail = copy.deepcopy(events[final_start:])
    for event in tail:
        state = event.get("state", {})
        if "epoch" in state:  # the final evaluation logs at epoch E, train end sees E - 1
            state["epoch"] = epochs if event["event"] == "on_fit_epoch_end" else epochs - 1
    stretched += tail
    phases += ["end"] * len(tail)
    meta = {**recording.meta, "name": f"{recording.name}-x{epochs}", "stretched_from": recording.name}
    steady = range(template_index + 1, epochs)
    return Scenario(Recording(meta=meta, events=stretched), epochs, phases, steady)


def load_scenario(epochs: int = EPOCHS, recording: str = RECORDING) -> Scenario:
    return stretch(load_bundled(recording), epochs)


class EventTimes:
    """The wall time of each event's callbacks in one replay, by event index."""

    def __init__(self) -> None:
        self.seconds: dict[int, float] = {}
        self.names: dict[int, str] = {}

    def add(self, index: int, event: str, seconds: float) -> None:
        self.seconds[index] = self.seconds.get(index, 0.0) + seconds
        self.names[index] = event


class BenchValidator(ReplayValidator):
    """A replay validator whose callbacks are timed by its trainer."""

    def __init__(self, trainer: BenchTrainer):
        super().__init__(trainer.save_dir, trainer.callbacks)
        self.trainer = trainer
        self.metrics = SimpleNamespace()  # peers stub: no curves_results, so W&B logs no curve tables

    def run_callbacks(self, event: str) -> None:
        self.trainer.timed(event, self)


class BenchTrainer(ReplayTrainer):
    """A replay trainer that times each event's callbacks and holds what peers read beyond the recording.

    Stubs for the other trackers' callbacks (the recording does not hold these):
    ``args`` is an ``IterableSimpleNamespace`` as on a real trainer (MLflow calls ``dict(trainer.args)``),
    ``model`` is a real ``yolov8n`` DetectionModel and ``data`` is ``{"channels": 3}`` (TensorBoard traces the model
    graph at train start), and ``validator.metrics`` has no curves (W&B skips its curve tables).
    """

    model = None  # set once per process by set_peer_model
    data = {"channels": 3}

    def __init__(self, save_dir: Path, times: EventTimes | None = None, before_event=None):
        super().__init__(save_dir)
        self.validator = BenchValidator(self)
        self.times = times or EventTimes()
        self.before_event = before_event  # untimed hook(event, event_index), e.g. the floor building its figures
        self.event_index = -1

    def apply(self, state: dict, unset: list) -> None:
        super().apply(state, unset)
        if "args" in state:
            from ultralytics.utils import IterableSimpleNamespace

            self.args = IterableSimpleNamespace(**vars(self.args))

    def run_callbacks(self, event: str) -> None:
        self.timed(event, self)

    def timed(self, event: str, target) -> None:
        """Run the callbacks of an event on target (trainer or validator), timing them together."""
        self.event_index += 1
        callbacks = self.callbacks.get(event)
        if not callbacks:
            return
        if self.before_event is not None:
            self.before_event(event, self.event_index)
        start = time.perf_counter()
        for callback in callbacks:
            callback(target)
        self.times.add(self.event_index, event, time.perf_counter() - start)


def set_peer_model(recording: Recording) -> None:
    """Give BenchTrainer the real model TensorBoard traces: the recording's model with the dataset's classes."""
    from ultralytics.nn.tasks import DetectionModel

    classes = 2  # ultralytics_neptune.synthetic.CLASS_NAMES
    BenchTrainer.model = DetectionModel(recording.meta.get("model", "yolov8n.yaml"), nc=classes, verbose=False)
