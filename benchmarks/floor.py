"""The floor: exactly the Neptune client calls our callbacks make, with no logic around them.

The calls are recorded once, by replaying the scenario through our parity callbacks against a fake client that
notes every call (``record_calls``). The floor then makes the same calls, event by event, with every argument
prepared beforehand: keys, values and steps as recorded, file paths resolved, and the matplotlib figures that parity
mode uploads already drawn (untimed, just before the event). What the floor costs is what the client costs.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

APPEND, ASSIGN, UPLOAD_FILE, UPLOAD_FIGURE = "append", "assign", "upload_file", "upload_figure"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclass
class CallLog:
    """The client calls of one replay: init_run's arguments, then the calls each event occurrence made."""

    init_run: dict = field(default_factory=dict)
    by_event: dict = field(default_factory=lambda: defaultdict(list))  # event -> [[(kind, path, value, step)]]
    current: list | None = None

    def begin(self, event: str) -> None:
        self.current = []
        self.by_event[event].append(self.current)

    def add(self, kind: str, path: str, value=None, step=None) -> None:
        self.current.append((kind, path, value, step))


class _RecordingHandler:
    def __init__(self, handler, path: str, log: CallLog, save_dir: Path):
        self._handler, self._path, self._log, self._save_dir = handler, path, log, save_dir

    def append(self, value, step=None, **kwargs) -> None:
        self._log.add(APPEND, self._path, value, step)
        self._handler.append(value=value, step=step, **kwargs)

    def upload(self, value, **kwargs) -> None:
        path = getattr(value, "path", None)
        if path is not None:
            self._log.add(UPLOAD_FILE, self._path, str(Path(path).resolve().relative_to(self._save_dir)))
        else:  # a figure re-drawn from a plot file: note which file, so the floor can draw the same figure
            self._log.add(UPLOAD_FIGURE, self._path, _plot_file(self._save_dir, self._path.rsplit("/", 1)[-1]))
        self._handler.upload(value, **kwargs)


class _RecordingRun:
    def __init__(self, run, log: CallLog, save_dir: Path):
        self._run, self._log, self._save_dir = run, log, save_dir

    def __getitem__(self, path: str) -> _RecordingHandler:
        return _RecordingHandler(self._run[path], path, self._log, self._save_dir)

    def __setitem__(self, path: str, value) -> None:
        self._log.add(ASSIGN, path, value)
        self._run[path] = value

    def __getattr__(self, name: str):
        return getattr(self._run, name)

    def __bool__(self) -> bool:
        return True


def _plot_file(save_dir: Path, stem: str) -> str:
    matches = sorted(p for p in save_dir.rglob(f"{stem}.*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if len(matches) != 1:
        raise LookupError(f"cannot tell which file the figure Plots/{stem} was drawn from: {matches}")
    return str(matches[0].relative_to(save_dir))


def record_calls(scenario, workdir: Path) -> CallLog:
    """Replay the scenario through our parity callbacks on a fake client and return every client call made."""
    import tempfile

    from benchmarks.scenario import BenchTrainer
    from ultralytics_neptune import neptune_callbacks
    from ultralytics_neptune.verification.parity import closing_new_figures, fake_client
    from ultralytics_neptune.verification.replay import replay

    log = CallLog()
    save_dir = Path(tempfile.mkdtemp(prefix="record-calls-", dir=workdir)).resolve()
    with fake_client() as fake, closing_new_figures():
        real_init_run = fake.module.init_run

        def init_run(**kwargs):
            log.init_run = dict(kwargs)
            return _RecordingRun(real_init_run(**kwargs), log, save_dir)

        fake.module.init_run = init_run
        trainer = BenchTrainer(save_dir, before_event=lambda event, index: log.begin(event))
        replay(scenario.recording, neptune_callbacks(), save_dir, trainer=trainer)
        for run in fake.runs:
            run.stop()
    return log


def draw_plot(path: Path):
    """A plot file drawn on a fresh figure the way upstream (and parity mode) draws it before uploading."""
    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt

    figure = plt.figure()
    axes = figure.add_axes([0, 0, 1, 1], frameon=False, aspect="auto", xticks=[], yticks=[])
    axes.imshow(mpimg.imread(path))
    return figure


class ReplayedCalls:
    """One replay's floor callbacks: each event makes the client calls recorded for it, prepared untimed just before
    (``prepare``), on a run started at the first event that has any (``start``). A client's floor says how."""

    name = "floor"

    def __init__(self, log, save_dir: Path):
        self.log = log
        self.save_dir = Path(save_dir)
        self.run = None
        self._occurrence = defaultdict(int)
        self._pending: dict = {}

    def callbacks(self) -> dict:
        """{event: [callback]} for every event at which our callbacks called the client."""
        return {event: [self._callback(event)] for event in self.log.by_event if any(self.log.by_event[event])}

    def before_event(self, event: str, index: int) -> None:
        """Untimed: fetch this occurrence's calls, prepared."""
        occurrences = self.log.by_event.get(event)
        if not occurrences:
            return
        self._pending[event] = self.prepare(occurrences[self._occurrence[event]])
        self._occurrence[event] += 1

    def _callback(self, event: str):
        def floor(_trainer) -> None:
            if self.run is None:  # the run starts with the first event at which ours called the client
                self.run = self.start()
            self.call(self._pending.pop(event))

        floor.__name__ = f"{self.name}_{event}"
        return floor


class Floor(ReplayedCalls):
    """The 1.x client's floor: the recorded calls through the ``neptune`` in sys.modules."""

    def __init__(self, log: CallLog, save_dir: Path):
        super().__init__(log, save_dir)
        self.neptune = sys.modules["neptune"]
        self.File = sys.modules["neptune.types"].File
        self.figures: list = []

    def start(self):
        return self.neptune.init_run(**self.log.init_run)

    def prepare(self, calls: list) -> list:
        """The calls with file paths made absolute and figures drawn."""
        prepared = []
        for kind, path, value, step in calls:
            if kind == UPLOAD_FILE:
                value = str(self.save_dir / value)
            elif kind == UPLOAD_FIGURE:
                value = draw_plot(self.save_dir / value)
                self.figures.append(value)
            prepared.append((kind, path, value, step))
        return prepared

    def call(self, calls: list) -> None:
        """Make prepared calls on the run."""
        run, File = self.run, self.File
        for kind, path, value, step in calls:
            if kind == APPEND:
                run[path].append(value=value, step=step)
            elif kind == ASSIGN:
                run[path] = value
            elif kind == UPLOAD_FILE:
                run[path].upload(File(value))
            else:
                run[path].upload(value)

    def finish(self) -> None:
        """Untimed: stop the run and close the figures."""
        import matplotlib.pyplot as plt

        if self.run is not None:
            self.run.stop()
        for figure in self.figures:
            plt.close(figure)
