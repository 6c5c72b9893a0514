"""The Neptune 3.x client (``neptune-scale``) behind the 1.x run shape the contributed module speaks.

The callbacks never ask which client they talk to: they call ``init_run``, assign dicts, append series points,
upload files and figures and stop the run, as with the 1.x client. ``ScaleRun`` turns each of those into the 3.x
client's calls, as the README's mapping table says (a fact kept here and there only):

- ``init_run(project, name, tags, custom_run_id, with_id, mode, api_token)``: ``Run(project, run_id,
  experiment_name=name, mode)`` then ``add_tags``; a project that is not ``workspace/name`` (parity's default
  "Ultralytics") becomes ``NEPTUNE_PROJECT`` when that is qualified, else ``local/<project>`` (offline data only
  needs a well-formed name; ``neptune sync --project`` can send it elsewhere);
- ``run[key] = dict``: ``log_configs`` of the flattened dict; None, lists, tuples, sets and paths are left out, as
  the 1.x client leaves them out of a dict (the 3.x client drops None and paths itself, and raises on a list that
  is not all strings: a whole call would be lost);
- ``run[key].append(value, step)`` (and ``extend``): one ``log_metrics(values, step)`` call per step and event; the
  values of one step wait until the step changes, another kind of operation comes, or the event ends (``flush``);
  a point at a step its series already has is not sent (the 3.x server refuses steps that do not increase: the
  final evaluation before Ultralytics 8.4.52), with one warning;
- ``upload(File(path))``: ``assign_files({key: path})`` (offline, the path is read at sync time);
  ``upload(figure)``: the figure drawn to PNG as the 1.x client draws it, given to ``assign_files`` as bytes (the
  client keeps them in its run folder);
- ``run["sys/failed"] = True/False``: the tag ``failed`` added or removed (3.x has no failed flag a client sets);
- ``stop(seconds)``: ``close(timeout=seconds)``; ``wait(disk_only)``: pending values written to the SQLite file.

What goes wrong with the 3.x client, and what the adapter makes of it: ``scale_faults``.
"""

from __future__ import annotations

import importlib
import io
import os
import uuid
from collections.abc import Mapping
from pathlib import PurePath

from ultralytics_neptune.scale_faults import (
    SEND_PROCESS_END_WAIT,
    ClientReports,
    ScaleWriteLedger,
    client_cause,
    database_of,
    raise_write_faults,
    send_process_without_the_main_script,
    token_problem,
    write_fault,
)

PREFIX = "Neptune: "
FAILED_TAG = "failed"
FALLBACK_WORKSPACE = "local"
#: 1.x connection modes -> 3.x modes ("read-only" has none: refused)
MODES = {"async": "async", "sync": "async", "offline": "offline", "debug": "disabled"}
LEFT_OUT = (type(None), list, tuple, set, frozenset, PurePath)  # config values the 1.x client leaves out of a dict


def import_scale():
    """Import the 3.x client (``neptune_scale``)."""
    return importlib.import_module("neptune_scale")


def qualified_project(project: str | None) -> str:
    """The ``workspace/name`` the 3.x client needs for a 1.x project argument (see the module's docstring)."""
    if project and project.count("/") == 1 and all(project.split("/")):
        return project
    environment = os.environ.get("NEPTUNE_PROJECT", "")
    if environment.count("/") == 1 and all(environment.split("/")):
        return environment
    name = (project or "Ultralytics").replace("/", "-").strip("-") or "Ultralytics"
    return f"{FALLBACK_WORKSPACE}/{name}"


def run_arguments(arguments: dict) -> dict:
    """The 3.x ``Run`` arguments of 1.x ``init_run`` arguments (tags are added after the start)."""
    mode = arguments.get("mode") or os.environ.get("NEPTUNE_MODE") or "async"
    if mode not in MODES:
        raise ValueError(f"mode={mode!r} has no counterpart in the Neptune 3.x client; use offline, async or debug")
    run_id = arguments.get("with_id") or arguments.get("custom_run_id") or os.environ.get("NEPTUNE_CUSTOM_RUN_ID")
    translated = {
        "project": qualified_project(arguments.get("project")),
        "run_id": str(run_id) if run_id else uuid.uuid4().hex,
        "mode": MODES[mode],
    }
    name = arguments.get("name")
    if name:
        translated["experiment_name"] = str(name)
    if arguments.get("api_token"):
        translated["api_token"] = arguments["api_token"]
    captures = [arguments[key] for key in ("capture_stdout", "capture_stderr") if key in arguments]
    if captures:
        translated["enable_console_log_capture"] = any(captures)
    if arguments.get("source_files") == [] or arguments.get("git_ref") is False:
        translated["source_tracking_config"] = None
    if arguments.get("log_directory"):
        translated["log_directory"] = arguments["log_directory"]
    return translated


def config_values(key: str, value) -> tuple:
    """({path: value} the 3.x client takes, [paths left out]) for an assignment of value to key."""
    values, left_out = {}, []

    def walk(prefix: str, item) -> None:
        if isinstance(item, Mapping):
            for name, inner in item.items():
                walk(f"{prefix}/{name}", inner)
        elif isinstance(item, LEFT_OUT):
            left_out.append(prefix)
        elif isinstance(item, (bool, int, float, str)):
            values[prefix] = item
        else:
            try:
                values[prefix] = float(item)  # numpy and torch numbers
            except (TypeError, ValueError):
                values[prefix] = str(item)

    walk(key, value)
    return values, left_out


def render_figure(figure) -> bytes:
    """A matplotlib figure as PNG bytes, drawn as the 1.x client's ``upload(figure)`` draws it."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def _is_figure(value) -> bool:
    return value.__class__.__module__.startswith("matplotlib.") and hasattr(value, "savefig")


def _file_path(value):
    """The path of a file to upload: a path, or anything with ``path`` (1.x ``File``, ``PendingFile``)."""
    path = getattr(value, "path", value)
    if not isinstance(path, (str, PurePath)):
        raise TypeError(f"cannot upload a {type(value).__name__}; give a file path or a matplotlib figure")
    return str(path)


class _Field:
    """A field of a ``ScaleRun``, with the 1.x field methods the callbacks use."""

    def __init__(self, run: ScaleRun, key: str):
        self._run, self._key = run, key

    def append(self, value=None, step=None, **kwargs) -> None:
        self._run.add_point(self._key, value, step)

    def extend(self, values, steps=None, **kwargs) -> None:
        for index, value in enumerate(values):
            self._run.add_point(self._key, value, None if steps is None else steps[index])

    def upload(self, value, **kwargs) -> None:
        self._run.upload(self._key, value)


class ScaleRun:
    """A 3.x ``neptune_scale.Run`` with the 1.x run's shape.

    Args:
        client_run: The started 3.x run.
        warn: ``warn(kind, message)`` of the owner, for what is not sent (once per kind).
    """

    def __init__(self, client_run, warn=None, reports: ClientReports | None = None):
        self.client_run = client_run
        self._warn = warn or (lambda kind, message: None)
        self._pending_step = None
        self._pending: dict = {}
        self._last_steps: dict = {}  # series -> last step sent
        self.stopped = False
        self.metric_calls = 0  # log_metrics calls made (one a step and event)
        self.database = database_of(client_run)
        offline = getattr(client_run, "_sync_process", None) is None
        self.write_ledger = ScaleWriteLedger(self.database.parent if self.database else None, offline)
        self.reports = reports

    def __bool__(self) -> bool:
        return not self.stopped

    def __getitem__(self, key: str) -> _Field:
        return _Field(self, key)

    def __setitem__(self, key: str, value) -> None:
        self._send_pending()
        if key == "sys/failed":
            tags = [FAILED_TAG]
            self._write(self.client_run.add_tags if value else self.client_run.remove_tags, ["sys/tags"], tags)
            return
        values, left_out = config_values(key, value)
        if left_out:
            self._warn(("config", key), f"{len(left_out)} values of {key} left out (None, list or path): {left_out}")
        if values:
            self._write(self.client_run.log_configs, values, values)

    def _write(self, call, fields, *args, **kwargs):
        """A client call that writes fields to the SQLite file, counted per field. A write fault is counted as what
        the file lacks; the run's first is raised to the caller (who warns), later ones are only counted (the
        closing line gives them)."""
        ledger, fields = self.write_ledger, list(fields)  # field names (a dict's keys)
        ledger.given.update(fields)
        try:
            return call(*args, **kwargs)
        except Exception as error:
            fault = write_fault(error)
            if fault is None:
                raise
            ledger.refuse(fields, fault)
            if ledger.error is not fault:
                return None  # counted: the first write fault was raised, and warned about, already
            raise fault from error  # the cause, not the client's "An error occurred, preventing Neptune from logging"

    def _send_pending(self) -> None:
        """Send the values waiting for their step before another kind of operation, which goes on whatever happens
        to them (a failure is one warning)."""
        try:
            self.flush()
        except Exception as error:
            self._warn(("flush", type(error)), f"could not send a step's values ({client_cause(error)}); skipped")

    def add_point(self, key: str, value, step) -> None:
        """Keep a series point for the one ``log_metrics`` call of its step."""
        if step is None:  # as the 1.x client numbers a point without a step: after the series' last
            step = self._last_steps.get(key, -1) + 1
        number = float(value)
        if number - number != 0 and isinstance(value, float):  # NaN or inf, as a Python float
            self._warn(("value", key), f"{key} is {value} at step {step}; not logged (as the 1.x client)")
            return
        pending = self._pending
        if pending and (step != self._pending_step or key in pending):
            self._send_pending()
            pending = self._pending
        last = self._last_steps.get(key)
        if last is not None and step <= last:
            self._warn(
                ("step", key),
                f"{key} already has step {last}; the point at step {step} is not sent (Neptune 3.x refuses "
                "steps that do not increase)",
            )
            return
        self._pending_step = step
        pending[key] = number

    def flush(self) -> None:
        """Send the values waiting for their step's call (the end of an event). Operations come from one thread at a
        time: the training's, or the start thread while the training's wait (``StartingRun``)."""
        pending, step = self._pending, self._pending_step
        if not pending:
            return
        self._pending, self._pending_step = {}, None
        self._write(self.client_run.log_metrics, pending, pending, step=step)
        self.metric_calls += 1
        last_steps = self._last_steps
        for key in pending:
            last_steps[key] = step

    def upload(self, key: str, value) -> None:
        """A file by path, or a figure drawn to PNG, assigned to key."""
        self._send_pending()
        if _is_figure(value):
            self._write(self.client_run.assign_files, [key], {key: render_figure(value)})
        else:
            self._write(self.client_run.assign_files, [key], {key: _file_path(value)})

    def wait(self, disk_only: bool = False) -> None:
        """Write what waits in memory to the client's SQLite file (its calls write there at once)."""
        self.flush()

    def stop(self, seconds=None) -> None:
        """Send what waits, count what the SQLite file lacks (one warning), and close the client's run, waiting at
        most seconds for a server; then end its send process if it still retries (what it did not send stays in the
        SQLite file, with one warning)."""
        if self.stopped:
            return
        self.stopped = True
        try:
            self._send_pending()
            self._report_unwritten()
        finally:
            try:
                self.client_run.close(timeout=seconds)
            finally:
                self._end_send_process(seconds)

    def _report_unwritten(self) -> None:
        """The closing count of what the SQLite file lacks, unless extended mode gave it at train end."""
        ledger = self.write_ledger
        if not ledger.reported:
            message = ledger.message(self, client_cause)
            if message:
                self._warn("unwritten", message)

    def _end_send_process(self, seconds) -> None:
        """End the client's send process if ``close`` left it retrying; say what it did not send."""
        process = getattr(self.client_run, "_sync_process", None)
        if process is None:
            return
        if process.is_alive():
            process.kill()
            process.join(SEND_PROCESS_END_WAIT)
        database = self.database
        if database is not None and database.is_file() and (self.reports is None or self.reports.first is None):
            self._warn(
                "unsent",
                f"the server did not take every operation within {seconds} s; the rest stays in {database}: "
                f"upload it with `neptune sync {database}`",
            )


class ScaleBackend:
    """How ``StartingRun`` starts a run with the 3.x client and hands it files."""

    name = "scale"

    def start(self, arguments: dict, warn=None) -> ScaleRun:
        warn = warn or (lambda kind, message: None)
        neptune_scale = import_scale()
        translated = run_arguments(arguments)
        unreadable = translated["mode"] == "async" and token_problem(
            translated.get("api_token") or os.environ.get("NEPTUNE_API_TOKEN")
        )
        if unreadable:
            translated["mode"] = "offline"
        reports = ClientReports(warn)
        if translated["mode"] == "async":
            translated.update(on_error_callback=reports, on_network_error_callback=reports, on_warning_callback=reports)
        with send_process_without_the_main_script():
            client_run = neptune_scale.Run(**translated)
        raise_write_faults(client_run)
        run = ScaleRun(client_run, warn, reports)
        reports.database = run.database
        if unreadable:
            warn(
                "token",
                f"the API token cannot be read ({unreadable}); this run is logged offline to {run.database}: upload "
                f"it with a valid token and `neptune sync {run.database}`",
            )
        try:
            if arguments.get("tags"):
                run._write(client_run.add_tags, ["sys/tags"], [str(tag) for tag in arguments["tags"]])
        except Exception:
            client_run.close(timeout=0)
            raise
        return run

    @staticmethod
    def file(value):
        """Files go to the adapter as they are (a ``PendingFile`` or a path)."""
        return value


def flush_after_events(callbacks: dict, run_of) -> dict:
    """The callbacks, each followed by a flush of the values its event left waiting in a ``ScaleRun``."""

    def flushing(callback):
        def event(subject) -> None:
            try:
                callback(subject)
            finally:
                run = run_of()
                run = getattr(run, "run", None) if run is not None and not isinstance(run, ScaleRun) else run
                if isinstance(run, ScaleRun):
                    try:
                        run.flush()
                    except Exception as error:
                        run._warn(
                            ("flush", type(error)), f"could not send a step's values ({client_cause(error)}); skipped"
                        )

        event.__module__ = __name__
        event.__wrapped__ = callback
        return event

    return {name: flushing(callback) for name, callback in callbacks.items()}


def installed_version() -> str | None:
    """The installed ``neptune-scale`` release, or None."""
    from importlib import metadata

    try:
        return metadata.version("neptune-scale")
    except metadata.PackageNotFoundError:
        return None
