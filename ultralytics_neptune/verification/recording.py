"""Recordings of real trainings: the events in order, the state callbacks read at each, and the files present.

A recording is JSON. Each event holds only what changed since the previous event:

    {"event": "on_train_epoch_end", "target": "trainer",
     "state": {"epoch": 1, "loss_items": {...}, "lr": {...}},      # trainer attributes that changed
     "validator": {"training": true},                              # validator attributes that changed
     "unset": ["metrics"],                                         # trainer attributes that disappeared
     "files": {"train_batch1.jpg": {"size": 9012, "image": [256, 256, "RGB"], "revision": 0}},
     "removed": ["results.csv"]}

Values that JSON cannot hold keep their type through tagged objects (``{"$path": ...}``, ``{"$numpy": ...}``,
``{"$float": "nan"}``), so a replay hands callbacks what the real trainer handed them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

FORMAT = 1
DATA_DIR = Path(__file__).parent / "data"
RECORDINGS_DIR = DATA_DIR / "recordings"
GOLDEN_DIR = DATA_DIR / "golden"
#: the era boundaries of the module (not the trainer's): (the last release before, the first release after); each has
#: golden traces of the first release's module on the recordings of the last release before (``boundary_golden_path``)
MODULE_BOUNDARIES = (("8.3.8", "8.3.9"), ("8.3.234", "8.3.235"))
VALIDATOR_EVENTS = frozenset({"on_val_start", "on_val_batch_start", "on_val_batch_end", "on_val_end"})


@dataclass
class Recording:
    """A real training, as the sequence of events a callback saw."""

    meta: dict
    events: list = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.meta.get("name") or f"ultralytics-{self.meta['ultralytics']}"

    @property
    def ultralytics_version(self) -> str:
        return self.meta["ultralytics"]

    @property
    def task(self) -> str:
        """The Ultralytics task trained: detect, segment, pose, classify or obb."""
        return self.meta.get("task", "detect")

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "meta": self.meta, "events": self.events}, indent=None, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Recording:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError(f"unknown recording format {data.get('format')!r} (this version reads {FORMAT})")
        return cls(meta=data["meta"], events=data["events"])

    def save(self, path: Path | str) -> None:
        Path(path).write_text(self.to_json() + "\n")

    @classmethod
    def load(cls, path: Path | str) -> Recording:
        return cls.from_json(Path(path).read_text())

    def event_names(self) -> list:
        return [event["event"] for event in self.events]

    def final_files(self) -> set:
        """The files the run folder held when the training ended, relative to it (e.g. "weights/best.pt")."""
        files: set = set()
        for event in self.events:
            files = (files | set(event.get("files", {}))) - set(event.get("removed", []))
        return files


def recording_name(version: str, task: str = "detect") -> str:
    """The name of a release's recording of a task: ``ultralytics-8.4.131`` (detect, the default task, as recordings
    were named before there were others), ``ultralytics-8.4.131-segment``."""
    return f"ultralytics-{version}" if task == "detect" else f"ultralytics-{version}-{task}"


def bundled_recordings(task: str | None = None) -> dict:
    """The recordings shipped with the package (of one task, if given), by name; oldest release first, then by task
    in the order of ``ultralytics_neptune.synthetic.TASKS``."""
    from ultralytics_neptune.releases import parse_version
    from ultralytics_neptune.synthetic import TASKS

    found = {}
    for path in RECORDINGS_DIR.glob("*.json"):
        _, version, *named_task = path.stem.split("-")
        found[path] = (parse_version(version), TASKS.index(named_task[0] if named_task else "detect"))
    paths = sorted(found, key=found.get)
    return {path.stem: path for path in paths if task is None or TASKS[found[path][1]] == task}


def load_bundled(name: str) -> Recording:
    """Load a bundled recording by name; the error lists the names there are."""
    recordings = bundled_recordings()
    if name not in recordings:
        raise KeyError(f"no bundled recording {name!r}; there are: {', '.join(recordings) or 'none'}")
    return Recording.load(recordings[name])


def golden_trace_path(recording_name: str) -> Path:
    """Where the trace of the real upstream module on this recording is kept."""
    return GOLDEN_DIR / f"{recording_name}.json"


def boundary_golden_path(recording_name: str, release: str) -> Path:
    """Where the trace of another release's upstream module on this recording is kept (an era boundary: the recording
    of the last release before it, replayed through the module of the first release after it)."""
    return GOLDEN_DIR / f"{recording_name}-as-{release}.json"


def encode(value, root: str = ""):
    """Turn a value a callback may read into JSON; paths under root become relative."""
    if value is None or type(value) in (bool, int):
        return value
    if type(value) is str:
        return _relative(value, root)
    if type(value) is float:
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, PurePosixPath):
        return {"$path": _relative(str(value), root)}
    module = type(value).__module__
    if module == "numpy" and hasattr(value, "dtype") and getattr(value, "shape", None) == ():
        return {"$numpy": str(value.dtype), "value": encode(value.item(), root)}
    if module.startswith("torch") and type(value).__name__ == "Tensor":
        return {"$tensor": str(value.dtype).replace("torch.", ""), "value": encode(value.tolist(), root)}
    if isinstance(value, tuple):
        return {"$tuple": [encode(item, root) for item in value]}
    if isinstance(value, list):
        return [encode(item, root) for item in value]
    if isinstance(value, dict):
        if all(isinstance(key, str) and not key.startswith("$") for key in value):
            return {key: encode(item, root) for key, item in value.items()}
        return {"$dict": [[encode(key, root), encode(item, root)] for key, item in value.items()]}
    if isinstance(value, (int, float, str)):  # subclasses such as numpy.float64 or enum members
        base = int if isinstance(value, int) else float if isinstance(value, float) else str
        return {"$subclass": f"{module}.{type(value).__qualname__}", "value": encode(base(value), root)}
    return {"$repr": repr(value), "$type": f"{module}.{type(value).__qualname__}"}


def _relative(text: str, root: str) -> str:
    if root and (text == root or text.startswith(root + "/")):
        return text[len(root) + 1 :] or "."
    return text


class Opaque:
    """A recorded value of a type the replay does not rebuild; it shows as the original repr."""

    def __init__(self, text: str, type_name: str):
        self.text, self.type_name = text, type_name

    def __repr__(self) -> str:
        return self.text

    def __eq__(self, other) -> bool:
        return isinstance(other, Opaque) and (self.text, self.type_name) == (other.text, other.type_name)

    def __hash__(self) -> int:
        return hash((self.text, self.type_name))


def decode(value):
    """Rebuild a value from ``encode``; numbers keep their numpy or torch type when those are installed."""
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "$float" in value:
        return float(value["$float"])
    if "$path" in value:
        return Path(value["$path"])
    if "$tuple" in value:
        return tuple(decode(item) for item in value["$tuple"])
    if "$dict" in value:
        return {decode(key): decode(item) for key, item in value["$dict"]}
    if "$numpy" in value:
        import numpy

        return numpy.dtype(value["$numpy"]).type(decode(value["value"]))
    if "$tensor" in value:
        import torch

        return torch.tensor(decode(value["value"]), dtype=getattr(torch, value["$tensor"]))
    if "$subclass" in value:
        if value["$subclass"].startswith("numpy."):
            import numpy

            return getattr(numpy, value["$subclass"].split(".")[-1])(decode(value["value"]))
        return decode(value["value"])
    if "$repr" in value:
        return Opaque(value["$repr"], value["$type"])
    return {key: decode(item) for key, item in value.items()}
