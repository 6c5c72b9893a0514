"""The floor of the Neptune 3.x client (``neptune-scale``): exactly its calls our parity callbacks make, nothing else.

The calls are recorded once, by replaying the scenario through our parity callbacks with ``client="scale"`` while
``neptune_scale.Run`` is wrapped so that it notes every call (and still makes it, offline, into a scratch folder).
The floor then makes the same calls, event by event, with every argument prepared beforehand: the run's arguments,
the configs, each step's metrics as one dict, file paths resolved, and the PNG bytes of the figures parity mode drew
(the adapter draws them itself, since the 3.x client takes files only; the floor gives the bytes it drew). What the
floor costs is what the 3.x client costs.
"""

from __future__ import annotations

import copy
import importlib
import os
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.floor import ReplayedCalls

#: the ``neptune_scale.Run`` methods our adapter calls during a training (``close`` comes after it, untimed)
RUN_METHODS = ("log_configs", "log_metrics", "add_tags", "remove_tags", "assign_files")
LOG_DIRECTORY = "NEPTUNE_LOG_DIRECTORY"  # where the 3.x client writes offline runs unless told


@dataclass(frozen=True)
class SavedFile:
    """A file of the replay's run folder, by its path relative to that folder (each replay has its own)."""

    relative: str


@dataclass
class ScaleCallLog:
    """The 3.x client calls of one replay: ``Run``'s arguments, then the calls each event occurrence made."""

    run_arguments: dict = field(default_factory=dict)
    by_event: dict = field(default_factory=lambda: defaultdict(list))  # event -> [[(method, args, kwargs)]]
    current: list | None = None

    def begin(self, event: str) -> None:
        self.current = []
        self.by_event[event].append(self.current)

    def add(self, method: str, args: tuple, kwargs: dict) -> None:
        self.current.append((method, args, kwargs))


def _relative_files(value, save_dir: Path):
    """assign_files' {attribute: path or bytes} with the paths inside save_dir noted relative to it."""
    if not isinstance(value, dict):
        return value
    noted = {}
    for attribute, source in value.items():
        if isinstance(source, (str, Path)) and Path(source).resolve().is_relative_to(save_dir):
            source = SavedFile(str(Path(source).resolve().relative_to(save_dir)))
        noted[attribute] = source
    return noted


class _RecordingScaleRun:
    """A real ``neptune_scale.Run`` that notes each call of ``RUN_METHODS`` in the log before making it."""

    def __init__(self, run_class, log: ScaleCallLog, save_dir: Path, **arguments):
        log.run_arguments = dict(arguments)
        self._run, self._log, self._save_dir = run_class(**arguments), log, save_dir

    def __getattr__(self, name: str):
        method = getattr(self._run, name)
        if name not in RUN_METHODS:
            return method

        def recorded(*args, **kwargs):
            noted = tuple(_relative_files(copy.deepcopy(arg), self._save_dir) for arg in args)
            self._log.add(name, noted, copy.deepcopy(kwargs))
            return method(*args, **kwargs)

        return recorded


def registered_logger(callbacks: dict):
    """The ParityLogger or ExtendedLogger behind a registration's callbacks (the 3.x client's are wrapped, each
    followed by a flush of the values its event left waiting)."""
    on_train_start = callbacks["on_train_start"][0]
    return getattr(on_train_start, "__wrapped__", on_train_start).__self__


def record_scale_calls(scenario, workdir: Path, **init_run_kwargs) -> ScaleCallLog:
    """Replay the scenario through our parity callbacks on the real 3.x client, offline, and return its calls.

    The run starts on a thread at ``on_train_start`` and sends what waited for it from there; each later event first
    waits for that start, so that every call is noted under the event that made it, as in a training where the start
    takes less than an epoch.
    """
    import tempfile

    from benchmarks.scenario import BenchTrainer
    from ultralytics_neptune import neptune_callbacks
    from ultralytics_neptune.starting import StartingRun
    from ultralytics_neptune.verification.parity import closing_new_figures
    from ultralytics_neptune.verification.replay import replay

    neptune_scale = importlib.import_module("neptune_scale")
    log = ScaleCallLog()
    save_dir = Path(tempfile.mkdtemp(prefix="record-scale-calls-", dir=workdir)).resolve()
    callbacks = neptune_callbacks(extended=False, client="scale", **init_run_kwargs)
    logger = registered_logger(callbacks)
    run_class, seen = neptune_scale.Run, set()

    def before_event(event: str, index: int) -> None:
        if "on_train_start" in seen and isinstance(logger.run, StartingRun):
            logger.run.started()
        seen.add(event)
        log.begin(event)

    saved_directory = os.environ.get(LOG_DIRECTORY)
    os.environ[LOG_DIRECTORY] = str(save_dir / "neptune-scale")
    neptune_scale.Run = lambda **arguments: _RecordingScaleRun(run_class, log, save_dir, **arguments)
    try:
        with closing_new_figures():
            replay(scenario.recording, callbacks, save_dir, trainer=BenchTrainer(save_dir, before_event=before_event))
            if logger.run:
                logger.run.stop()
    finally:
        neptune_scale.Run = run_class
        _restore(LOG_DIRECTORY, saved_directory)
    return log


def _restore(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


class ScaleFloor(ReplayedCalls):
    """The 3.x client's floor: the recorded calls on a ``neptune_scale.Run``."""

    name = "floor_scale"

    def __init__(self, log: ScaleCallLog, save_dir: Path):
        super().__init__(log, save_dir)
        self.run_class = importlib.import_module("neptune_scale").Run
        self.arguments = {**log.run_arguments, "run_id": uuid.uuid4().hex}  # a run of its own, as each replay's

    def start(self):
        return self.run_class(**self.arguments)

    def prepare(self, calls: list) -> list:
        """Bound methods are looked up when called; only the files of this replay's folder are resolved here."""
        prepared = []
        for method, args, kwargs in calls:
            args = tuple(
                {
                    attribute: str(self.save_dir / source.relative) if isinstance(source, SavedFile) else source
                    for attribute, source in arg.items()
                }
                if method == "assign_files" and isinstance(arg, dict)
                else arg
                for arg in args
            )
            prepared.append((method, args, kwargs))
        return prepared

    def call(self, calls: list) -> None:
        """Make prepared calls on the run."""
        run = self.run
        for method, args, kwargs in calls:
            getattr(run, method)(*args, **kwargs)

    def finish(self) -> None:
        """Untimed: close the run."""
        if self.run is not None:
            self.run.close()
