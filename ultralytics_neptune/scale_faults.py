"""What goes wrong with the Neptune 3.x client, and what the adapter (``scale.ScaleRun``) makes of it.

Faults (the README's fault table, 3.x rows). The client writes each call to its SQLite file at once, in a transaction,
and sends it from a process of its own (async mode). So: a token the client cannot read starts the run offline (one
warning with the ``neptune sync`` line; async mode would start a process that dies on it); the first error its
process reports (a token the server refuses, a server it cannot reach) is one warning, what is logged staying in the
SQLite file; a call the file cannot take (disk full) raises here, not dropped with a traceback as the client does by
default, so that it is counted per field (``ScaleWriteLedger``); after ``close`` waited its timeout, a send process
still retrying a silent server is ended, which the interpreter's exit would otherwise wait for (60 s and more); and
the send process is spawned without running the main script again (a training outside a ``__main__`` guard would
run twice).
"""

from __future__ import annotations

import contextlib
import errno
import re
import sqlite3
from collections import Counter
from pathlib import Path

from ultralytics_neptune.unwritten import closing_message

WRITE_FAULTS = (OSError, sqlite3.Error)  # a SQLite file that cannot be written (disk full, read-only, gone)
SEND_PROCESS_END_WAIT = 5  # seconds to wait for the client's send process to end once killed
SEND_PROCESS = "SyncProcess"  # the name the client gives its send process


def client_cause(error: BaseException) -> str:
    """An error of the 3.x client as its type and the first line of its message (the client repeats the type inside
    its message, between colour codes)."""
    name = type(error).__name__
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = lines[0].removeprefix(f"{name}:").strip() if lines else ""
    reasons = [line.removeprefix("Reason:").strip(" `") for line in lines if line.startswith("Reason:")]
    if reasons and reasons[-1]:  # an error the client wraps as "unexpected" names the one it wraps here
        first = f"{first} {reasons[-1]}"
    return f"{name}: {first}" if first else name


def write_fault(error: BaseException) -> BaseException | None:
    """The write error (an ``OSError`` or a SQLite error) behind error, if any: the client wraps it."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, WRITE_FAULTS):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def token_problem(token: str | None) -> str | None:
    """Why the 3.x client cannot read an API token (its own parser says), or None."""
    if not token:
        return None
    try:
        from neptune_api.credentials import Credentials

        Credentials.from_api_key(api_key=token)
    except ImportError:
        return None
    except Exception as error:
        return client_cause(error)
    return None


class ClientReports:
    """The 3.x client's ``on_error_callback``, ``on_network_error_callback`` and ``on_warning_callback`` for one run:
    the first error its send process reports (a token refused, a server out of reach) is one warning naming it; what
    follows from it (retries, the process stopping) is not repeated."""

    def __init__(self, warn, database: Path | None = None):
        self._warn = warn
        self.database = database
        self.first: str | None = None

    def __call__(self, error: BaseException, last_seen_at=None) -> None:
        if self.first is not None:
            return
        self.first = client_cause(error)
        kept = f"; what is logged stays in {self.database} for `neptune sync`" if self.database else ""
        self._warn("server", f"the Neptune 3.x client cannot send this run ({self.first}){kept}")


class ScaleWriteLedger:
    """What a ``ScaleRun`` gave the client per field, and what its SQLite file lacks, for extended mode's closing line
    (the interface of ``unwritten.WriteLedger``). A call the file refuses raises (counted here); once one has, an
    offline run's file is read back at the end and compared, which also counts what the client dropped without
    raising. In async mode the client deletes what it has sent from the file: there the count is of the calls that
    raised, a lower bound. A folder removed takes everything given."""

    def __init__(self, folder: Path | None, offline: bool):
        self.folder = folder
        self.offline = offline
        self.given: Counter = Counter()
        self.refused: Counter = Counter()
        self.error: BaseException | None = None
        self.reported = False

    def note(self, field: str, error: Exception) -> None:
        """A failure a caller saw: counted already, at the client call it came from."""

    def refuse(self, fields: list, error: BaseException) -> None:
        self.refused.update(fields)
        self.error = self.error or error

    def unwritten(self) -> Counter:
        """{field: values not in the SQLite file}, once a write failed (else empty)."""
        if self.folder is not None and not self.folder.is_dir():
            self.error = FileNotFoundError(errno.ENOENT, "the run's data folder no longer exists", str(self.folder))
            return Counter(self.given)
        if self.error is None:
            return Counter()
        if not self.offline:
            return Counter(self.refused)
        from ultralytics_neptune.offline_scale import read_scale_run

        on_disk = Counter("/".join(op["path"]) for op in read_scale_run(self.folder).trace.operations)
        return self.given - on_disk

    def message(self, run, describe, assigned: tuple = ()) -> str | None:
        """The closing warning (one line) when values did not reach the SQLite file, else None."""
        try:
            run.wait(disk_only=True)
        except Exception as error:  # the last step's values: counted already if the file refused them
            if write_fault(error) is None:
                raise
        missing = self.unwritten()
        if not missing:
            return None
        self.reported = True
        return closing_message(missing, self.offline, describe(self.error))

    def is_reported(self, error: Exception) -> bool:
        """Whether error is the write fault the closing warning already named."""
        return self.reported and write_fault(error) is not None


def database_of(client_run) -> Path | None:
    """The client run's SQLite file (None in disabled mode)."""
    path = getattr(client_run, "_operations_repository_path", None)
    return Path(path) if path is not None and getattr(client_run, "_operations_repo", None) is not None else None


@contextlib.contextmanager
def send_process_without_the_main_script():
    """While the client starts its send process (async mode): multiprocessing's "spawn" would run the main script
    again in it, and a script that trains outside ``if __name__ == "__main__":`` would train a second time there. The
    send process needs nothing of it (its target is the client's own function), so its preparation leaves it out;
    any other process started meanwhile is prepared as before."""
    from multiprocessing import spawn

    prepare = spawn.get_preparation_data

    def prepared(name):
        data = prepare(name)
        if name == SEND_PROCESS:
            data.pop("init_main_from_path", None)
            data.pop("init_main_from_name", None)
        return data

    spawn.get_preparation_data = prepared
    try:
        yield
    finally:
        spawn.get_preparation_data = prepare


def raise_write_faults(client_run) -> None:
    """Make the client raise a call its SQLite file cannot take, rather than log it dropped with a traceback (its
    default, ``NEPTUNE_LOG_FAILURE_ACTION=drop``), so that it is counted and warned about once."""
    repository = getattr(client_run, "_operations_repo", None)
    if repository is not None and hasattr(repository, "_log_failure_action"):
        repository._log_failure_action = "raise"
