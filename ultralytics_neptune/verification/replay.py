"""Replaying a recording: fake trainer and validator objects that change as the real ones did, event by event,
and the run's files written into a save_dir at the moment they appeared.

Files get deterministic synthetic content: images become PNG data of the recorded size and channel count,
written by our own encoder so digests do not depend on the installed Pillow or zlib (a ``.jpg`` therefore holds
PNG data, which every image reader accepts); other files get bytes of the recorded size that change with each
revision of the file.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from types import SimpleNamespace

from ultralytics_neptune.verification.recording import VALIDATOR_EVENTS, Recording, decode
from ultralytics_neptune.verification.synthetic_png import banded_png

PATH_FIELDS = frozenset({"best", "last", "wdir"})
CHANNELS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}


class ReplayValidator:
    """The validator attributes callbacks read: save_dir, plots, training, args."""

    def __init__(self, save_dir: Path, callbacks: dict):
        self.save_dir = save_dir
        self.plots: dict = {}
        self.training = True
        self.args = SimpleNamespace()
        self.callbacks = callbacks

    def run_callbacks(self, event: str) -> None:
        for callback in self.callbacks.get(event, []):
            callback(self)


class ReplayTrainer:
    """A trainer whose attributes follow a recording; callbacks are registered and run as on a real one."""

    def __init__(self, save_dir: Path, callbacks: dict | None = None):
        self.save_dir = Path(save_dir)
        self.callbacks = defaultdict(list, {event: list(fns) for event, fns in (callbacks or {}).items()})
        self.args = SimpleNamespace()
        self.plots: dict = {}
        self.validator = ReplayValidator(self.save_dir, self.callbacks)
        self.loss_items: dict = {}
        self.tloss = None
        self.model_info: dict | None = None

    def add_callback(self, event: str, callback) -> None:
        self.callbacks[event].append(callback)

    def run_callbacks(self, event: str) -> None:
        for callback in self.callbacks.get(event, []):
            callback(self)

    def label_loss_items(self, loss_items=None, prefix: str = "train"):
        """The recorded training losses, named with prefix as the real trainer names them."""
        renamed = {f"{prefix}/{key.split('/', 1)[1]}": value for key, value in self.loss_items.items()}
        return list(renamed) if loss_items is None else renamed

    def apply(self, state: dict, unset: list) -> None:
        """Set the attributes an event changed."""
        for name in unset:
            if hasattr(self, name):
                delattr(self, name)
        for name, value in state.items():
            value = decode(value)
            if name == "args":
                self.args = _namespace(value)
            elif name == "loss_items":
                self.loss_items, self.tloss = value, tuple(value.values())
            elif name == "plots":
                self.plots = _plot_registry(self.save_dir, value)
            elif name in PATH_FIELDS:
                setattr(self, name, self.save_dir / value)
            else:
                setattr(self, name, value)

    def apply_validator(self, state: dict) -> None:
        for name, value in state.items():
            value = decode(value)
            if name == "plots":
                self.validator.plots = _plot_registry(self.save_dir, value)
            elif name == "save_dir":
                self.validator.save_dir = self.save_dir / value
            elif name == "args":
                self.validator.args = _namespace(value)
            else:
                setattr(self.validator, name, value)


def _namespace(values: dict):
    """Arguments as the real trainer holds them: Ultralytics' IterableSimpleNamespace (dict(args) works on it)."""
    try:
        from ultralytics.utils import IterableSimpleNamespace
    except ImportError:
        return SimpleNamespace(**values)
    return IterableSimpleNamespace(**values)


def _plot_registry(save_dir: Path, relative_paths: list) -> dict:
    return {save_dir / path: {"data": None, "timestamp": 0.0} for path in relative_paths}


@cache
def synthetic_png(width: int, height: int, channels: int, seed: int) -> bytes:
    """A deterministic PNG of the recorded size (see ``synthetic_png.banded_png``); each is made once per process
    (a few kilobytes, up to a second to encode), as the recordings of every release and task share most of them."""
    return banded_png(width, height, channels, seed)


def synthetic_bytes(relative_path: str, spec: dict) -> bytes:
    """The content a replay writes for a recorded file."""
    seed_source = f"{relative_path}#{spec.get('revision', 0)}".encode()
    seed = int.from_bytes(hashlib.sha256(seed_source).digest()[:2], "big")
    if spec.get("image"):
        width, height, mode = spec["image"]
        return synthetic_png(width, height, CHANNELS.get(mode, 3), seed)
    block = hashlib.sha256(seed_source).digest()
    size = spec["size"]
    return (block * (size // len(block) + 1))[:size]


def write_files(save_dir: Path, files: dict, removed: list) -> None:
    """Make save_dir hold what the real run's save_dir held at this event."""
    for relative_path in removed:
        (save_dir / relative_path).unlink(missing_ok=True)
    for relative_path, spec in files.items():
        target = save_dir / relative_path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(synthetic_bytes(relative_path, spec))


@contextmanager
def recorded_model_info():
    """Make ``model_info_for_loggers`` return the recorded model summary for a replayed trainer."""
    try:
        from ultralytics.utils import torch_utils
    except ImportError:  # nothing imports it without Ultralytics
        yield
        return
    original = torch_utils.model_info_for_loggers

    def model_info_for_loggers(trainer):
        if isinstance(trainer, ReplayTrainer):
            if trainer.model_info is None:
                raise AttributeError("this recording holds no model summary for model_info_for_loggers")
            return dict(trainer.model_info)
        return original(trainer)

    torch_utils.model_info_for_loggers = model_info_for_loggers
    try:
        yield
    finally:
        torch_utils.model_info_for_loggers = original


def _as_lists(callbacks) -> dict:
    """Accept a module's callbacks dict (event -> function), event -> list, or a list of such dicts."""
    merged: dict = defaultdict(list)
    for mapping in callbacks if isinstance(callbacks, (list, tuple)) else [callbacks]:
        for event, registered in mapping.items():
            merged[event].extend(registered if isinstance(registered, (list, tuple)) else [registered])
    return merged


def replay(recording: Recording, callbacks, save_dir: Path | str, *, trainer: ReplayTrainer | None = None):
    """Replay a recording into save_dir, running callbacks at each event as the real trainer did.

    ``callbacks`` is an event -> function mapping such as a callback module's ``callbacks`` dict, an event -> list
    mapping, or a list of those. Returns the trainer as it was at the end.
    """
    save_dir = Path(save_dir)
    save_dir.mkdir(parents=True, exist_ok=True)
    trainer = trainer or ReplayTrainer(save_dir)
    for event, registered in _as_lists(callbacks).items():
        for callback in registered:
            trainer.add_callback(event, callback)
    with recorded_model_info():
        for event in recording.events:
            write_files(save_dir, event.get("files", {}), event.get("removed", []))
            trainer.apply(event.get("state", {}), event.get("unset", []))
            trainer.apply_validator(event.get("validator", {}))
            if event["event"] in VALIDATOR_EVENTS:
                trainer.validator.run_callbacks(event["event"])
            else:
                trainer.run_callbacks(event["event"])
    return trainer
