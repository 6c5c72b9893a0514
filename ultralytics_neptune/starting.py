"""The Neptune run, started off the training's critical path.

Importing the ``neptune`` client costs more than a second and ``init_run`` may wait for a server, so a run is started
on a thread of its own once the trainer is set up, and what the training logs meanwhile waits, in order, until the run
exists. Every wait for it is bounded by ``START_TIMEOUT``: at train end, at teardown and at interpreter exit.
"""

from __future__ import annotations

import atexit
import importlib
import random
import re
import sys
import threading
import time
import weakref

PREFIX = "Neptune: "  # of the package's warnings (plain: they are read in logs and tests alike)
START_TIMEOUT = 120  # seconds any wait for a run still starting lasts at most; what waits for it is dropped after that
STOP_TIMEOUT = 60  # seconds a stop of the package's waits for queued operations; the rest stays on disk for sync
# modules of the ``neptune`` client that draw from Python's global random generator
CLIENT_RANDOM_USERS = (
    "neptune.internal.operation_processors.utils",
    "neptune.common.websockets.reconnecting_websocket",
)
_unfinished = weakref.WeakSet()  # runs whose start an interpreter exit must still see through
_client_imported = threading.Event()  # set once the client's import, on a start thread, has completed
_exit_handler_registered = False


def describe(error: BaseException) -> str:
    """Return an exception as its type and the first line of its message, without colour codes or banner rules."""
    name = type(error).__name__
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("----")]
    first = lines[0].removeprefix(f"{name}:").strip() if lines else ""  # the 3.x client repeats the type
    return f"{name}: {first}" if first else name


class PendingFile:
    """A file to upload to a run whose client is not imported yet: it becomes ``neptune.types.File`` when sent."""

    def __init__(self, path: str):
        self.path = path


def client_file(path: str):
    """``neptune.types.File(path)`` once the client's import has completed, else a ``PendingFile``: importing the
    client here, on the training's thread, would cost the training the import it was started on another thread to
    avoid, and a module the start thread is still importing is in ``sys.modules`` half made."""
    types = sys.modules.get("neptune.types") if _client_imported.is_set() else None
    return types.File(path) if types is not None else PendingFile(path)


def _client_file_of(value):
    """A value to send to the client: a ``PendingFile`` made while the client was not imported becomes its File."""
    if isinstance(value, PendingFile):
        return importlib.import_module("neptune.types").File(value.path)
    return value


def import_client():
    """Import the ``neptune`` client, and give its modules that draw from Python's global random generator one of
    their own: it draws (a run folder's key, reconnection delays) on the start thread, amid the training's
    augmentation draws, which would otherwise change from run to run and the training with them.

    The client imports ``jsonschema``, which builds an IRI grammar at import when ``rfc3987_syntax`` is installed, for
    a format check the client never makes: more than half of the import's CPU time, taken from the training even on
    this thread (the GIL). ``jsonschema`` does without it when it cannot be imported, so where ``jsonschema`` is not
    imported yet it is hidden while the client imports: ``jsonschema`` then checks no "iri" format in this process.
    """
    hidden = "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules
    if hidden:
        sys.modules["rfc3987_syntax"] = None
    try:
        import neptune
    finally:
        if hidden and sys.modules.get("rfc3987_syntax", False) is None:
            del sys.modules["rfc3987_syntax"]
    _client_imported.set()

    for name in CLIENT_RANDOM_USERS:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if getattr(module, "random", None) is random:
            module.random = random.Random()
    return neptune


def stop_client_run(started, seconds=None) -> None:
    """Stop a client run. A client whose stop fails part-way (a full disk) is left "stopping", and until that ends it
    holds every fork of the process (dataloader workers, subprocesses): end it before the error goes on."""
    try:
        started.stop(seconds=seconds)
    except BaseException:
        state, forking = getattr(started, "_state", None), getattr(started, "_forking_cond", None)
        if getattr(state, "name", None) == "STOPPING" and forking is not None:
            with forking:
                started._state = type(state).STOPPED
                forking.notify_all()
        raise


class NeptuneBackend:
    """How ``StartingRun`` starts a run with the 1.x client (``neptune``) and hands it files; ``scale.ScaleBackend``
    does the same with the 3.x client."""

    name = "neptune"

    @staticmethod
    def start(arguments: dict, warn=None):
        return import_client().init_run(**arguments)

    @staticmethod
    def file(value):
        return _client_file_of(value)


class _Field:
    """A field of a run that is still starting: its operations wait in the run's queue."""

    def __init__(self, starting: StartingRun, key: str):
        self._starting, self._key = starting, key

    def append(self, *args, **kwargs) -> None:
        self._starting._send(self._key, "append", args, kwargs)

    def extend(self, *args, **kwargs) -> None:
        self._starting._send(self._key, "extend", args, kwargs)

    def upload(self, *args, **kwargs) -> None:
        self._starting._send(self._key, "upload", args, kwargs)


class StartingRun:
    """A run while the client is imported and ``init_run`` runs on another thread, then the run itself.

    Operations on it wait in order and go to the run once it exists; if the start fails they are dropped, and one
    warning says why. ``warn(kind, message)`` reports a failure (its owner's warnings); ``on_start(run)`` is the
    owner's look at the client's run before what waited is written to it; ``backend`` imports and starts the client
    (default: the 1.x client, ``NeptuneBackend``).
    """

    def __init__(self, arguments: dict, warn, on_start=None, backend=None):
        self._arguments = arguments
        self._backend = backend or NeptuneBackend
        self._warn = warn
        self._on_start = on_start
        self._imported = threading.Event()
        self._lock = threading.Lock()
        self._queue = []  # (field, method, args, kwargs), in the order they were logged
        self.run = None  # the client's run, once started
        self.failed = False
        self.stopped = False
        # a daemon: a server that never answers must not keep the process from ending
        self._thread = threading.Thread(target=self._start, name="neptune-start", daemon=True)
        self._launched = False
        _see_through_at_exit(self)

    def launch(self) -> None:
        """Start the client on its thread, once: when the trainer is set up, or as soon as the run is waited for."""
        with self._lock:
            if self._launched:
                return
            self._launched = True
        self._thread.start()

    def __bool__(self) -> bool:
        return not self.failed and not self.stopped

    def __getitem__(self, key: str):
        run = self.run
        return run[key] if run is not None else _Field(self, key)

    def __setitem__(self, key: str, value) -> None:
        self._send(key, "assign", (value,), {})

    def _send(self, key: str, method: str, args: tuple, kwargs: dict) -> None:
        with self._lock:
            if self.run is None:
                if not self.failed:
                    self._queue.append((key, method, args, kwargs))
                return
        self._apply(self.run, key, method, args, kwargs)

    def _apply(self, started, key: str, method: str, args: tuple, kwargs: dict) -> None:
        """Send one operation that waited to the started run; a failure is a warning, as when it is sent at once."""
        args = tuple(self._backend.file(arg) for arg in args)
        try:
            if method == "assign":
                started[key] = args[0]
            else:
                getattr(started[key], method)(*args, **kwargs)
        except Exception as e:
            self._warn(method, f"could not {method} {key} ({describe(e)}); skipped")

    def _start(self) -> None:
        try:
            try:
                new_run = self._backend.start(self._arguments, self._warn)
            finally:
                self._imported.set()
            if self._on_start:
                self._on_start(new_run)
        except Exception as e:
            waiting = self.abandon()
            self._warn(
                "start",
                f"could not start a run ({describe(e)}); training goes on without Neptune logging"
                + (f"; {waiting} logged operations dropped" if waiting else ""),
            )
            return
        with self._lock:
            if self.failed:  # given up on while it started: nothing was promised to it
                stop_client_run(new_run)
                return
            for operation in self._queue:
                self._apply(new_run, *operation)
            self._queue, self.run = [], new_run
        _unfinished.discard(self)

    def abandon(self) -> int:
        """Give up on the start: nothing is sent to it from now on; return how many operations waited for it."""
        with self._lock:
            waiting, self.failed, self._queue = len(self._queue), True, []
        _unfinished.discard(self)
        return waiting

    def started(self, timeout: float | None = None):
        """The client's run once started, waiting at most timeout seconds (default START_TIMEOUT; None if it failed
        or is still starting)."""
        self.launch()
        self._thread.join(START_TIMEOUT if timeout is None else timeout)
        return self.run

    def wait_for_start(self) -> bool:
        """Wait (at most START_TIMEOUT seconds) for the start; give up on it with a warning if it is still starting;
        whether there is a run."""
        if self.run is None and not self.failed and self.started() is None and not self.failed:
            waiting = self.abandon()
            self._warn(
                "start",
                f"the run had not started after {START_TIMEOUT} s; the {waiting} operations waiting for it and what "
                "the training logs from now on are not logged",
            )
        return bool(self)

    def wait(self, disk_only: bool = False) -> None:
        """The run's ``wait``, once it has started (what still waits for the start is in memory only)."""
        if self.run is not None:
            self.run.wait(disk_only=disk_only)

    def stop(self, seconds=None) -> None:
        """Stop the run, waiting for its start at most START_TIMEOUT seconds; later operations are dropped."""
        if self.stopped:
            return
        self.wait_for_start()
        self.stopped = True
        if self.run is not None:
            stop_client_run(self.run, seconds=seconds)


def _see_through_at_exit(run: StartingRun) -> None:
    """Remember a run whose start an interpreter exit must still see through (one handler for the process)."""
    global _exit_handler_registered
    _unfinished.add(run)
    if not _exit_handler_registered:
        atexit.register(_finish_starts)
        _exit_handler_registered = True


def _finish_starts() -> None:
    """At interpreter exit, finish the starts still unfinished that hold what a training logged (a DDP worker that
    only logged its start, a training that failed in its set-up before teardown): at most START_TIMEOUT seconds for all
    of them, and STOP_TIMEOUT for each stop. A run that starts only now is stopped here, as the client's own exit
    handler, registered by ``init_run``, would come too late to run."""
    deadline = time.monotonic() + START_TIMEOUT
    for run in list(_unfinished):
        if run.failed or run.stopped or not run._queue:
            continue
        if run.started(max(0.0, deadline - time.monotonic())) is not None:
            stop_client_run(run.run, seconds=STOP_TIMEOUT)
