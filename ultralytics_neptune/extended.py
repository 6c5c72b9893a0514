"""Extended mode: everything parity mode logs, with upstream's defects fixed, kept in one object per registration.

Every operation of parity mode still happens, by construction: each event first runs the contributed module's own
event, loaded for this registration with a client that records what it would log (``RecordingClient``); those
operations are then sent through extended mode's checks, and its own additions follow.

What it changes, each a strict addition to parity mode's operations (see the README's table): plots uploaded as
their files (full resolution, no figure left open, every plot image of the run including those the release's list
missed); the project from ``project=``, else ``NEPTUNE_PROJECT``, never the local runs folder; steps of a field that
always increase (the final evaluation before 8.4.52 moves past the last epoch); a resumed training continues its
run (its id and last steps are kept next to the weights); the run stopped at train end, or marked failed by
``teardown`` when the training ends by exception; console capture off by default; the versions that logged it.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import types
import uuid
from pathlib import Path

from ultralytics_neptune.composed import as_era_sees_it, backend_of, era_arguments, installed_release, load_module
from ultralytics_neptune.releases import era_of
from ultralytics_neptune.starting import (
    PREFIX,
    STOP_TIMEOUT,
    PendingFile,
    StartingRun,
    client_file,
    describe,
    stop_client_run,
)
from ultralytics_neptune.unwritten import ledger_of, watch_writes, write_queue_to_disk

RUN_STATE_FILE = "neptune_run.json"  # the run id and last steps, kept next to the weights for a resumed training
#: init_run arguments extended mode passes unless the user gives them: progress bars would flood captured output
INIT_DEFAULTS = {"capture_stdout": False, "capture_stderr": False, "capture_hardware_metrics": True}
PLOT_SUFFIXES = (".png", ".jpg", ".jpeg")


def _as_number(value) -> tuple:
    """Return (float, None) for a loggable series value, else (None, why it is not)."""
    if value is None or isinstance(value, str):
        return None, f"is {value!r}, not a number"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None, f"is a {type(value).__name__}, not a number"
    if not math.isfinite(number):
        return None, f"is {number} (Neptune keeps only finite values)"
    return number, None


def _unreadable(path: Path) -> str | None:
    """Why a file cannot be uploaded, or None if it can."""
    if not path.exists():
        return "does not exist"
    if not path.is_file():
        return "is not a file"
    if not os.access(path, os.R_OK):
        return "is not readable"
    return None


class _Recorded:
    """A field of the recording run: what the module logs to it is kept, in order, for extended mode to send."""

    def __init__(self, operations: list, key: str):
        self._operations, self._key = operations, key

    def append(self, value=None, step=None, **kwargs) -> None:
        self._operations.append(("append", self._key, value, step))

    def upload(self, value, **kwargs) -> None:
        self._operations.append(("upload", self._key, value, None))


class RecordingRun:
    """The run the contributed module logs to in extended mode: it records every operation; truthy while extended
    mode has a run of its own."""

    def __init__(self, logger: ExtendedLogger, arguments: dict):
        self._logger = logger
        self.arguments = arguments  # the module's init_run arguments
        self.operations: list = []

    def __bool__(self) -> bool:
        return bool(self._logger.run)

    def __getitem__(self, key: str) -> _Recorded:
        return _Recorded(self.operations, key)

    def __setitem__(self, key: str, value) -> None:
        self.operations.append(("assign", key, value, None))

    def stop(self, seconds=None) -> None:
        """The module's stop at teardown: extended mode stops its own run itself."""


class RecordingClient:
    """The ``neptune`` the contributed module imports in extended mode: ``init_run`` returns a ``RecordingRun``."""

    __version__ = "ultralytics-neptune"

    def __init__(self, logger: ExtendedLogger):
        self.logger = logger
        self.types = types.SimpleNamespace(File=PendingFile)
        self.last_run: RecordingRun | None = None

    def init_run(self, **arguments) -> RecordingRun:
        self.last_run = RecordingRun(self.logger, arguments)
        return self.last_run


class ExtendedLogger:
    """The callbacks of one registration in extended mode: its run, its state and its warnings live here.

    Args:
        release: The Ultralytics release whose callback parity is taken from (default: the installed one).
        client: "neptune" (the 1.x client, the default) or "scale" (the 3.x client, ``neptune-scale``).
        **init_run_kwargs: Arguments for ``neptune.init_run`` over extended mode's own.
    """

    def __init__(self, release: str | None = None, client: str | None = None, **init_run_kwargs):
        self.era = era_of(release or installed_release())
        self.backend = backend_of(client)
        self.client = RecordingClient(self)
        self.module = load_module(self.client)
        self.module._log_plot = self._record_plot  # a plot is uploaded as its file, not re-drawn
        self.init_run_kwargs = init_run_kwargs
        self.run = None
        self.trainer_id = None
        self.state_file: Path | None = None
        self._state_handle: int | None = None  # the state file, open while the run is
        self._state_length = 0
        self.state: dict = {"last_steps": {}}
        self._fields: dict = {}  # field -> the run's handler of it
        self.resumed = False
        self.last_start = None  # the latest run started (its start may have failed), for a caller to ask after
        self.problems: dict = {}  # kind of problem -> items not logged because of it, in this run
        self.assigned: list = []  # (field, dict) of this run's dict assignments, for counting what a write fault lost
        self._uploaded_plots: set = set()  # the plots the module uploaded at train end

    def callbacks(self) -> dict:
        """{event: callback} as registration adds them."""
        return {
            "on_pretrain_routine_start": self.on_pretrain_routine_start,
            "on_train_start": self.on_train_start,
            "on_train_epoch_end": self.on_train_epoch_end,
            "on_fit_epoch_end": self.on_fit_epoch_end,
            "on_val_end": self.on_val_end,
            "on_train_end": self.on_train_end,
            "teardown": self.teardown,
        }

    # warnings

    def _skip(self, kind, message: str) -> None:
        """Warn once per kind of problem in a run that something was not logged; count the repeats."""
        if kind not in self.problems:
            self.module.LOGGER.warning(f"{PREFIX}{message}")
        self.problems[kind] = self.problems.get(kind, 0) + 1

    def warn(self, kind, message: str) -> None:
        """A warning of the run's start (``StartingRun`` reports through it)."""
        self._skip(kind, message)

    # the module's operations, sent through extended mode's checks

    def _record_plot(self, title: str, plot_path) -> None:
        """The module's plot upload, recorded as the plot's file (full resolution, no figure drawn)."""
        self.client.last_run.operations.append(("upload", f"Plots/{title}", PendingFile(str(plot_path)), None))
        self._uploaded_plots.add(f"Plots/{title}")

    # the client's operations, each checked first

    def _append(self, key: str, value, step, bump: bool = False) -> None:
        number, problem = _as_number(value)
        if problem:
            self._skip(("value", key), f"{key} {problem} at step {step}; that value was not logged")
            return
        last = self.state["last_steps"].get(key)
        if last is not None and step <= last:
            if not bump:
                self._skip(("step", key), f"{key} already has step {step} in this run (a resumed epoch); not logged")
                return
            step = last + 1
        try:
            # the operation append makes, without append's checks and conversions of a value already checked here
            self._field(key).extend([number], steps=[step])
        except Exception as e:
            self._note_unwritten(key, e)
            self._skip(("append", type(e)), f"could not log {key} at step {step} ({describe(e)}); skipped")
            return
        self.state["last_steps"][key] = step

    def _field(self, key: str):
        """The run's handler of a field, kept for the run: series are appended to every epoch."""
        handler = self._fields.get(key)
        if handler is None:
            handler = self._fields[key] = self.run[key]
        return handler

    def _upload(self, key: str, path) -> None:
        problem = _unreadable(Path(path))
        if problem:
            self._skip(("file", key), f"{path} {problem}; {key} was not uploaded")
            return
        try:
            self.run[key].upload(client_file(str(path)))
        except Exception as e:
            self._note_unwritten(key, e)
            self._skip(("upload", type(e)), f"could not upload {path} to {key} ({describe(e)}); skipped")

    def _assign(self, key: str, value) -> None:
        if isinstance(value, dict):
            self.assigned.append((key, value))
        try:
            self.run[key] = value
        except Exception as e:
            if not isinstance(value, dict):  # a dict's leaves that missed the queue are counted from self.assigned
                self._note_unwritten(key, e)
            self._skip(("assign", key), f"could not set {key} ({describe(e)}); skipped")

    # run state, for a resumed training

    def _read_run_state(self) -> dict | None:
        try:
            state = json.loads(self.state_file.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            self._skip("resume", f"could not read {self.state_file} ({e}); this resumed training starts a new run")
            return None
        return state if isinstance(state, dict) and "custom_run_id" in state else None

    def _save_run_state(self) -> None:
        """Write the state over the file kept open for the run, in one write, padded with spaces (valid JSON) to the
        length of what was there: never shorter, so a reader sees whole JSON whenever a crash comes. A new file and
        a rename per epoch cost fifty times more, more than parity mode's whole epoch."""
        try:
            if self._state_handle is None:
                self.state_file.parent.mkdir(parents=True, exist_ok=True)
                self._state_handle = os.open(self.state_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                self._state_length = 0
            data = json.dumps(self.state).encode()
            self._state_length = max(self._state_length, len(data))
            os.pwrite(self._state_handle, data.ljust(self._state_length), 0)
        except OSError as e:
            self._skip("state", f"could not save {self.state_file} ({e}); a resumed training would start a new run")

    def _close_run_state(self) -> None:
        if self._state_handle is not None:
            os.close(self._state_handle)
            self._state_handle = None

    def _init_arguments(self, trainer, parity_arguments: dict) -> dict:
        """Parity's project, name and tags, then extended mode's: the project rule, defaults, a resumable id."""
        given = self.init_run_kwargs
        parity_arguments = era_arguments(parity_arguments, self.era, bool(getattr(trainer.args, "project", None)))
        arguments = {**parity_arguments, **INIT_DEFAULTS, **given}
        arguments["project"] = given.get("project") or os.environ.get("NEPTUNE_PROJECT") or self.era.default_name
        weights = getattr(trainer, "wdir", None) or Path(trainer.save_dir) / "weights"
        self.state_file = Path(weights) / RUN_STATE_FILE
        self.state, self.resumed = {"last_steps": {}}, False
        previous = self._read_run_state() if getattr(trainer.args, "resume", False) else None
        if previous and "custom_run_id" not in given and "with_id" not in given:
            self.state, self.resumed = {**self.state, **previous}, True
            arguments["custom_run_id"] = previous["custom_run_id"]
        elif "with_id" not in given:  # the user resumes a run by its Neptune id: no custom id beside it
            arguments.setdefault("custom_run_id", uuid.uuid4().hex)
        self.state["custom_run_id"] = arguments.get("custom_run_id")
        return arguments

    def _stop(self, failed: bool) -> None:
        """Flush and stop the run, so nothing is lost and later events are harmless."""
        self._close_run_state()
        run, self.run = self.run, None
        try:
            if failed:
                run["sys/failed"] = True
            if isinstance(run, StartingRun):
                run.stop(seconds=STOP_TIMEOUT)
            else:
                stop_client_run(run, seconds=STOP_TIMEOUT)
        except Exception as e:
            ledger = ledger_of(run)
            if ledger and ledger.is_reported(e):
                return  # the write fault the closing warning named: its last flush failed as well
            lost = "; what it still held was not written to disk" if isinstance(e, OSError) else ""
            self._skip("stop", f"could not stop the Neptune run cleanly ({describe(e)}){lost}")

    def _note_unwritten(self, key: str, error: Exception) -> None:
        """Count an operation that failed before the client queued it, when it was a write fault."""
        ledger = ledger_of(self.run)
        if ledger:
            ledger.note(key, error)

    def _report_unwritten(self) -> bool:
        """One warning with how many operations, and of which namespaces, did not reach disk when the client could
        not write (disk full, read-only, folder gone); whether it warned."""
        ledger = ledger_of(self.run)
        try:
            message = ledger.message(self.run, describe, tuple(self.assigned)) if ledger else None
        except Exception as e:
            message = f"could not count the operations not written to disk ({describe(e)})"
        if message:
            self.module.LOGGER.warning(f"{PREFIX}{message}")
        return bool(message)

    # events

    def on_pretrain_routine_start(self, trainer) -> None:
        """Start the run (or continue a resumed training's) and log the hyperparameters and versions."""
        if self.run is not None:
            if self.trainer_id == id(trainer):
                return  # this training's run is open already: the event came twice
            self._stop(failed=False)  # a run left open by an earlier training that never ended
        self.problems, self._fields, self.assigned = {}, {}, []
        self.client.last_run = None
        self.module.on_pretrain_routine_start(trainer)
        recording = self.client.last_run
        try:
            if recording is None:
                raise RuntimeError("the module started no run")
            arguments = self._init_arguments(trainer, recording.arguments)
        except Exception as e:
            self._skip("start", f"could not prepare the run ({describe(e)}); this training is not logged")
            return
        self.run = self.last_start = StartingRun(arguments, self.warn, on_start=watch_writes, backend=self.backend)
        self.trainer_id = id(trainer)
        self._send_recorded()
        self._assign("Configuration/Versions", _versions(self.backend))
        if self.resumed:
            self._assign("sys/failed", False)  # the run an interrupted training marked failed goes on
        self._save_run_state()

    def _send_recorded(self, bump: bool = False) -> None:
        """Send what the module logged to the recording run, through extended mode's checks."""
        recording = self.client.last_run
        operations, recording.operations = recording.operations, []
        for method, key, value, step in operations:
            if method == "append":
                self._append(key, value, step, bump)
            elif method == "upload":
                self._upload(key, value.path if isinstance(value, PendingFile) else value)
            else:
                self._assign(key, value)

    def _parity(self, event: str, trainer, bump: bool = False) -> None:
        """The module's event, then what it logged, sent through extended mode's checks."""
        try:
            getattr(self.module, event)(trainer)
        except Exception as e:
            self._skip(("parity", event), f"could not read what {event} logs ({describe(e)}); skipped")
        self._send_recorded(bump)

    def on_train_start(self, trainer) -> None:
        """Start the client on its thread now that the trainer is set up (what was logged waits for it, in order)."""
        if isinstance(self.run, StartingRun):
            self.run.launch()

    def on_train_epoch_end(self, trainer) -> None:
        """Log the losses and learning rates; the mosaics after the second epoch."""
        if self._logging():
            self._parity("on_train_epoch_end", trainer)

    def on_fit_epoch_end(self, trainer) -> None:
        """Log the metrics, past the last step where the release repeated it; the model summary after epoch 1."""
        if not self._logging():
            return
        self._parity("on_fit_epoch_end", trainer, bump=True)
        self._save_run_state()
        self._make_durable()

    def _logging(self) -> bool:
        """Whether this training has a run to log to. Once the client's run exists, operations go to it directly
        rather than through the proxy that held them while it started."""
        if isinstance(self.run, StartingRun) and self.run.run is not None:
            self.run, self._fields = self.run.run, {}
        return bool(self.run)

    def _make_durable(self) -> None:
        """Write what the client holds in memory to its disk queue: a training killed later loses at most the epoch in
        progress (offline, a write of the buffer; async, no wait for the server)."""
        try:
            write_queue_to_disk(self.run)
        except Exception as e:
            self._skip("flush", f"could not write the queued operations to disk ({describe(e)})")

    def on_val_end(self, validator) -> None:
        """Upload the validation label and prediction images."""
        if self._logging():
            self._parity("on_val_end", validator)

    def on_train_end(self, trainer) -> None:
        """Upload every plot file and the best weights, then stop the run."""
        if isinstance(self.run, StartingRun) and not self.run.wait_for_start():
            self.run = None
        if not self._logging():
            return
        self._uploaded_plots = set()
        self._parity("on_train_end", as_era_sees_it(trainer, self.era))
        try:
            for plot in self._unlisted_plots(trainer):
                self._upload(f"Plots/{plot.stem}", plot)
        except Exception as e:
            self._skip("plots", f"could not list the plots ({describe(e)}); only the release's were uploaded")
        if not self._report_unwritten() and sum(self.problems.values()) > len(self.problems):
            total = sum(self.problems.values())
            self.module.LOGGER.warning(f"{PREFIX}in all, {total} problems while logging (warnings above)")
        self._save_run_state()
        self._stop(failed=False)

    def teardown(self, trainer) -> None:
        """A training that ends without reaching train end (an exception, Ctrl-C) stops its run as failed."""
        if self.run:
            self._save_run_state()
            self._stop(failed=True)

    def _unlisted_plots(self, trainer) -> list:
        """Every plot image the run saved that the release's callback did not upload (renamed or de-duplicated)."""
        return [
            path
            for path in sorted(Path(trainer.save_dir).iterdir())
            if path.suffix.lower() in PLOT_SUFFIXES
            and "batch" not in path.name
            and f"Plots/{path.stem}" not in self._uploaded_plots
        ]


def _versions(backend=None) -> dict:
    """The versions that logged this run, as installed (the client's read without importing it)."""
    from importlib import metadata

    import ultralytics

    from ultralytics_neptune import __version__

    neptune = sys.modules.get("neptune")
    try:
        client = getattr(neptune, "__version__", None) or metadata.version("neptune")
    except metadata.PackageNotFoundError:
        client = "unknown"
    versions = {
        "ultralytics-neptune": __version__,
        "ultralytics": ultralytics.__version__,
        "neptune": client,
        "python": platform.python_version(),
    }
    if getattr(backend, "name", None) == "scale":  # the 3.x client logs: its release, not the 1.x one's
        versions.pop("neptune")
        versions["neptune-scale"] = _distribution_version("neptune-scale") or "unknown"
    if "torch" in sys.modules:
        versions["torch"] = str(sys.modules["torch"].__version__)
    return versions


def _distribution_version(name: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
