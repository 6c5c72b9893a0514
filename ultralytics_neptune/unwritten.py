"""Counting what the ``neptune`` client was given and could not write to disk (disk full, read-only, folder gone).

The client writes each operation to a disk queue through a buffered file: a write that fails raises in the caller
for that operation, but the lines still buffered with it are dropped or never reach disk, and its exit handler
prints a traceback when the last flush fails. So the count of a write fault is taken from the disk itself: a
``WriteLedger`` attached to a run counts the operations the client was given per field, and at train end, when a
write failed, an offline run's queue is read back and compared. Other modes keep their queue only until it is
sent: there the count is of the operations that raised, a lower bound.

The ledger lives on the run's operation processor (``ledger_of``); the client 1.x is frozen at 1.14, and a client
without that processor (a stand-in in tests) simply gets no ledger.
"""

from __future__ import annotations

import contextlib
import errno
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

_ATTRIBUTE = "_ultralytics_neptune_ledger"


def closing_message(missing: Counter, exact: bool, cause: str) -> str:
    """The one closing line of what a run lacks on disk: {field: values} counted by namespace, with the cause; a
    count that is not exact (an async run's, of the calls that raised) is "at least"."""
    namespaces = Counter()
    for field, count in missing.items():
        namespaces[field.split("/")[0]] += count
    listed = ", ".join(f"{name} {count}" for name, count in namespaces.most_common())
    total = sum(missing.values())
    counted = f"{total} operations" if exact else f"at least {total} operations"
    return f"{counted} were not written to disk, so this run lacks them ({listed}): {cause}"


class WriteLedger:
    """Operations given to one run's client per field, those that raised a write error, and the first such error."""

    def __init__(self, folder: Path | None, offline: bool):
        self.folder = folder  # the run's disk queue folder
        self.offline = offline  # the queue stays on disk (offline mode), so it can be read back
        self.given: Counter = Counter()  # field -> operations handed to the client's queue
        self.refused: Counter = Counter()  # field -> operations the client's queue raised a write error for
        self.not_given: Counter = Counter()  # field -> operations that failed to write before reaching the queue
        self.error: Exception | None = None  # the first write error
        self.last_refused: str | None = None  # the field of the latest operation the queue refused
        self.reported = False

    def note(self, field: str, error: Exception) -> None:
        """An operation for field raised before it reached the client's queue (a file the client writes first)."""
        if not isinstance(error, OSError):
            return
        self.error = self.error or error
        if self.last_refused == field:  # it reached the queue, which refused it: counted there
            self.last_refused = None
        else:
            self.not_given[field] += 1

    def _enqueue(self, enqueue):
        def counted(op, *args, **kwargs):
            field = "/".join(op.path)
            self.given[field] += 1
            try:
                return enqueue(op, *args, **kwargs)
            except OSError as error:
                self.refused[field] += 1
                self.last_refused = field
                self.error = self.error or error
                raise

        return counted

    def unwritten(self, run, assigned: tuple = ()) -> Counter:
        """At the end: flush the run's queue, and if any write failed, {field: operations not on disk}. ``assigned``:
        the (field, dict) assignments made, which the client writes leaf by leaf, giving up at the first that fails."""
        try:
            run.wait(disk_only=True)
        except Exception as error:  # only a write error matters here; another is the client's to report
            if isinstance(error, OSError):
                self.error = self.error or error
        gone = self.folder is not None and not self.folder.is_dir()
        if gone:  # the cause of whatever else failed too
            self.error = FileNotFoundError(errno.ENOENT, "the run's data folder no longer exists", str(self.folder))
        if self.error is None:
            return Counter()
        for field, value in assigned:
            self.not_given.update(leaf for leaf in _leaves(field, value) if not self.given[leaf] + self.not_given[leaf])
        if not self.offline:
            return self.refused + self.not_given
        from ultralytics_neptune.offline import _read_operations

        on_disk = Counter()
        if self.folder.is_dir():
            operations, _ = _read_operations(self.folder, [])
            on_disk.update("/".join(op["path"]) for op in operations)
        return (self.given - on_disk) + self.not_given

    def message(self, run, describe, assigned: tuple = ()) -> str | None:
        """The closing warning (one line) when operations did not reach disk, else None; marks the fault reported."""
        missing = self.unwritten(run, assigned)
        if not missing:
            return None
        self.reported = True
        return closing_message(missing, self.offline, describe(self.error))

    def is_reported(self, error: Exception) -> bool:
        """Whether error is the write fault the closing warning already named."""
        return (
            self.reported
            and isinstance(error, OSError)
            and isinstance(self.error, OSError)
            and error.errno == self.error.errno
        )


def _leaves(field: str, value: Mapping):
    """The fields the client writes for a dict: one per value it keeps (it drops None, lists, tuples, paths)."""
    for key, item in value.items():
        if isinstance(item, Mapping):
            yield from _leaves(f"{field}/{key}", item)
        elif isinstance(item, (str, int, float)):
            yield f"{field}/{key}"


def attach(run) -> WriteLedger | None:
    """Count what run's client is given from now on; None for a client without a disk queue to watch."""
    processor = getattr(run, "_op_processor", None)
    enqueue = getattr(processor, "enqueue_operation", None)
    if enqueue is None:
        return None
    try:
        folder = Path(processor.data_path)
    except Exception:  # a processor without a folder (debug mode)
        folder = None
    ledger = WriteLedger(folder, offline=getattr(run, "_mode", None) == "offline")  # Mode is a str enum
    processor.enqueue_operation = ledger._enqueue(enqueue)
    setattr(processor, _ATTRIBUTE, ledger)
    return ledger


def _client_run(run):
    """The client's run: a run still starting holds it once it exists."""
    from ultralytics_neptune.starting import StartingRun

    return (run.run or run) if isinstance(run, StartingRun) else run


def write_queue_to_disk(run) -> None:
    """Write what the client holds in memory to its disk queue. Only the queue: the run's ``wait(disk_only=True)``
    rewrites the run's metadata file as well (about 1 ms, each epoch); a client without that queue gets the wait."""
    started = _client_run(run)
    processor = getattr(started, "_op_processor", None)
    processor = getattr(processor, "_operation_processor", processor)  # the client wraps its processor lazily
    flush = getattr(getattr(processor, "_queue", None), "flush", None)
    if flush is None:
        run.wait(disk_only=True)
        return
    with getattr(started, "_lock", None) or contextlib.nullcontext():  # the lock the client writes under
        flush()


def watch_writes(run) -> None:
    """Attach a ledger to a run the client has just started; a client it cannot watch is logged to as before."""
    try:
        attach(run)
    except Exception as error:  # never a reason not to log
        from ultralytics.utils import LOGGER

        LOGGER.info(f"Neptune: operations not written to disk will not be counted ({type(error).__name__}: {error})")


def ledger_of(run) -> WriteLedger | None:
    """The ledger of a run (or of the run a starting run became), if any: the one an adapter keeps of its own calls
    (the 3.x client's ``scale.ScaleRun``), else the one attached to the 1.x client's queue."""
    started = _client_run(run)
    kept = getattr(started, "write_ledger", None)
    return kept if kept is not None else getattr(getattr(started, "_op_processor", None), _ATTRIBUTE, None)
