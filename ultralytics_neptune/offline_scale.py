"""Reading back what the Neptune 3.x client (``neptune-scale``) wrote: its SQLite file, in the trace form.

The 3.x client keeps each run in ``.neptune/<project>_<run_id>_<ns>/run_operations.sqlite3``: table
``run_operations`` holds one protobuf message per row (``operation_type`` 1: a ``Run``, the creation, with ``family``
= run id and ``experiment_id``; 0: an ``UpdateRunSnapshot`` with a ``step``, ``assign``, ``append`` and
``modify_sets`` maps), parsed here with the client's own message classes
(``neptune_api.proto.neptune_pb.ingest.v1.common_pb2``); ``file_upload_requests`` lists each file to upload (source
path, destination); ``metadata`` the project and run id.

The operations are given in the 1.x vocabulary the rest of the package reads (``LogFloats``, ``Assign*``,
``AddStrings``, ``UploadFile``), so that the report, the demo and the cross-client check read both clients' runs
alike: a run's creation becomes its ``init_run`` (project, run id, experiment name) and an ``AssignString`` of
``sys/name`` (the field where Neptune 3.x shows the experiment name); a file becomes an ``UploadFile`` whose
``content`` is read now (a figure the adapter gave as bytes, kept by the client in the run folder, as its pixels).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ultralytics_neptune.offline import OfflineRun
from ultralytics_neptune.trace import Trace, file_digest, image_digest

DATABASE = "run_operations.sqlite3"
CREATE_RUN, UPDATE_SNAPSHOT = 1, 0
CLIENT = "neptune-scale>=0.30,<0.31"  # whose protobuf message classes (its neptune-api) decode the operations


class ClientMissing(ImportError):
    """A 3.x run was found, and the 3.x client that decodes its operations is not installed."""


ASSIGN_TYPES = {
    "float64": "AssignFloat",
    "int64": "AssignInt",
    "bool": "AssignBool",
    "string": "AssignString",
    "timestamp": "AssignDatetime",
}


def is_scale_run(location: Path | str) -> bool:
    """Whether location is a 3.x run folder or its SQLite file."""
    location = Path(location)
    return location.name == DATABASE or (location / DATABASE).is_file()


def scale_run_folders(location: Path | str) -> list:
    """The 3.x run folders under a ``.neptune`` directory (or the folder holding it, or one run folder)."""
    location = Path(location)
    if is_scale_run(location):
        return [location.parent if location.name == DATABASE else location]
    for candidate in (location, location / ".neptune"):
        if candidate.is_dir():
            folders = [path.parent for path in candidate.glob(f"*/{DATABASE}")]
            if folders:
                return sorted(folders, key=lambda p: ((p / DATABASE).stat().st_mtime, p.name))
    return []


def _step(step) -> float | int:
    return step.whole + step.micro / 1e6 if step.micro else step.whole


def _value(value):
    """(1.x assignment type, Python value) of a protobuf ``Value``."""
    kind = value.WhichOneof("value")
    if kind == "timestamp":
        return "AssignDatetime", value.timestamp.seconds * 1000 + value.timestamp.nanos // 1_000_000
    if kind == "string_set":
        return "AssignStringSet", sorted(value.string_set.values)
    if kind == "file_ref":
        return "file", value.file_ref
    return ASSIGN_TYPES.get(kind, f"Assign_{kind}"), getattr(value, kind)


def _upload(path: list, reference, requests: dict) -> dict:
    source, temporary = requests.get(reference.path, (None, False))
    ext = Path(source or reference.path).suffix.lstrip(".")
    op = {"type": "UploadFile", "path": path, "ext": ext, "mime_type": reference.mime_type}
    if source is None:
        op["content"] = {"missing": True, "error": "no file upload request for this file"}
        return op
    op["file_path"] = source
    if temporary and reference.mime_type == "image/png":  # bytes the adapter drew from a figure
        try:
            op["content"] = {"image": image_digest(Path(source).read_bytes())}
        except OSError as error:
            op["content"] = {"missing": True, "error": type(error).__name__}
    else:
        op["content"] = file_digest(source)
    return op


def _operations(snapshot, requests: dict, ts: float | None = None) -> list:
    operations = []
    stamp = {} if ts is None else {"ts": ts}
    step = _step(snapshot.step) if snapshot.HasField("step") else None
    for key in sorted(snapshot.append):
        value = snapshot.append[key]
        kind = value.WhichOneof("value")
        if kind in ("float64", "int64"):
            point = {"value": getattr(value, kind), "step": step, **stamp}
            operations.append({"type": "LogFloats", "path": key.split("/"), "values": [point]})
        elif kind == "string":  # a string series: the client's console capture (runtime/stdout)
            point = {"value": value.string, "step": step, **stamp}
            operations.append({"type": "LogStrings", "path": key.split("/"), "values": [point]})
        else:
            operations.append({"type": f"Log_{kind}", "path": key.split("/"), "step": step})
    for key in sorted(snapshot.assign):
        kind, value = _value(snapshot.assign[key])
        if kind == "file":
            operations.append(_upload(key.split("/"), value, requests))
        else:
            operations.append({"type": kind, "path": key.split("/"), "value": value})
    for key in sorted(snapshot.modify_sets):
        changes = snapshot.modify_sets[key].string.values
        for change, name in ((1, "AddStrings"), (2, "RemoveStrings")):
            values = sorted(tag for tag, how in changes.items() if how == change)
            if values:
                operations.append({"type": name, "path": key.split("/"), "values": values})
    return operations


def read_scale_run(location: Path | str, timestamps: bool = False) -> OfflineRun:
    """Read one 3.x run (its folder or its SQLite file); unreadable rows are reported in ``problems``. With
    ``timestamps``, each series point has its ``ts``: when the client wrote it to the file (seconds since the epoch).

    Raises:
        ClientMissing: where the 3.x client is not installed.
    """
    location = Path(location)
    folder = location.parent if location.name == DATABASE else location
    try:
        from neptune_api.proto.neptune_pb.ingest.v1 import common_pb2
    except ImportError as error:
        raise ClientMissing(
            f"{folder / DATABASE} is a Neptune 3.x run: reading it needs the 3.x client "
            f'(python3 -m pip install "{CLIENT}")'
        ) from error
    problems: list = []
    connection = sqlite3.connect(f"file:{folder / DATABASE}?mode=ro", uri=True)
    try:
        rows = connection.execute(
            "SELECT sequence_id, timestamp, operation_type, operation FROM run_operations ORDER BY sequence_id"
        ).fetchall()
        requests = {
            destination: (source, bool(temporary))
            for source, destination, temporary in connection.execute(
                "SELECT source_path, destination, is_temporary FROM file_upload_requests"
            )
        }
        stored = connection.execute("SELECT project, run_id FROM metadata ORDER BY id LIMIT 1").fetchone()
    finally:
        connection.close()
    project, run_id = stored or (None, None)
    init_run: dict = {"project": project, "run_id": run_id}
    operations, times = [], []
    for sequence_id, timestamp, kind, blob in rows:
        times.append(timestamp / 1000)
        message = common_pb2.Run() if kind == CREATE_RUN else common_pb2.UpdateRunSnapshot()
        try:
            message.ParseFromString(blob)
        except Exception as error:
            problems.append(f"{folder / DATABASE} operation {sequence_id} unreadable ({type(error).__name__})")
            continue
        if kind == CREATE_RUN:
            init_run["run_id"] = message.family or run_id
            if message.experiment_id:
                init_run["name"] = message.experiment_id
                operations.append({"type": "AssignString", "path": ["sys", "name"], "value": message.experiment_id})
        else:
            operations.extend(_operations(message, requests, timestamp / 1000 if timestamps else None))
    tags = [
        tag for op in operations if op["type"] == "AddStrings" and op["path"] == ["sys", "tags"] for tag in op["values"]
    ]
    if tags:
        init_run["tags"] = tags
    metadata = {
        "mode": "offline",
        "containerId": init_run.get("run_id"),
        "project": project,
        "neptuneClientVersion": "neptune-scale",
        "client": "neptune-scale",
    }
    trace = Trace(init_run, operations, {"mode": "offline", "client": "neptune-scale", "folder": str(folder)})
    span = (min(times), max(times)) if times else ()
    return OfflineRun(folder=folder, metadata=metadata, trace=trace, problems=problems, span=span)
