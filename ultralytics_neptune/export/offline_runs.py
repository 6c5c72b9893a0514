"""Offline Neptune runs as exportable runs: the 1.x client's folders (``.neptune/offline/run__*``) and the 3.x
client's SQLite files (``.neptune/<project>_<run_id>_<time>/run_operations.sqlite3``).

Built on the offline reader (``ultralytics_neptune.offline``, asked to keep each series point's timestamp), which
gives both in the 1.x client's vocabulary, and the report's reading of uploads; the operations are replayed field by
field, as the report does.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

from ultralytics_neptune.export.contents import ExportFile, Point, RunContents
from ultralytics_neptune.export.names import artifact_path
from ultralytics_neptune.offline import read_offline_run
from ultralytics_neptune.report.runs import _created, _image_series, _upload

#: operations that make a float series, a text series or an image series, and those that clear one
SERIES = {"LogFloats": "floats", "LogStrings": "texts", "LogImages": "images"}
CLEARS = {"ClearFloatLog": "floats", "ClearStringLog": "texts", "ClearImageLog": "images"}
#: how each string set operation changes the set's members
STRING_SET = {
    "AddStrings": lambda members, values: members | values,
    "RemoveStrings": lambda members, values: members - values,
    "ClearStringSet": lambda members, values: set(),
}
#: operations that only configure a field: nothing to export
IGNORED = frozenset({"ConfigFloatSeries"})


class OfflineSourceRun:
    """One offline run (a 1.x folder or a 3.x SQLite file's folder), read once."""

    def __init__(self, folder: Path | str):
        self.run = read_offline_run(folder, timestamps=True)
        self.folder = self.run.folder
        self.location = str(self.folder)
        self.run_id = self.run.run_id
        self.problems = list(self.run.problems)
        self._operations = self.run.trace.operations
        self.operations = len(self._operations)
        self.created_ms = round(_created(self.folder) * 1000)
        self.ended_ms = round(self.run.span[1] * 1000) if self.run.span else self.created_ms
        name = self.run.trace.init_run.get("name") or ""
        self.label = name if name and name != "Untitled" else self.run_id[:8]

    def fingerprint(self, operations: int) -> str:
        text = json.dumps(self._operations[:operations], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def contents(self, operations: int | None = None) -> RunContents:
        state: dict = {}  # field -> (kind, value), in the order fields first appeared
        unknown: dict = {}
        for op in self._operations[:operations]:
            _apply(state, unknown, op)
        return _contents(state, unknown, self.folder)


def _apply(state: dict, unknown: dict, op: dict) -> None:
    """Replay one operation onto the fields' state."""
    kind, path = op["type"], "/".join(str(part) for part in op["path"])
    current = state.get(path, (None, None))
    if kind.startswith("Assign") and "value" in op:
        state[path] = ("value", op["value"])
    elif kind in SERIES:
        points = current[1] if current[0] == SERIES[kind] else []
        state[path] = (SERIES[kind], [*points, *op["values"]])
    elif kind in CLEARS:
        state[path] = (CLEARS[kind], [])
    elif kind in STRING_SET:
        members = current[1] if current[0] == "set" else set()
        state[path] = ("set", STRING_SET[kind](members, set(op.get("values") or [])))
    elif kind in ("UploadFile", "UploadFileContent"):
        state[path] = ("file", op)
    elif kind == "UploadFileSet":
        kept = current[1] if current[0] == "fileset" and op.get("reset") in ("False", False) else []
        state[path] = ("fileset", [*kept, *op.get("file_globs", [])])
    elif kind == "DeleteAttribute":
        state.pop(path, None)
    elif kind not in IGNORED:
        unknown.setdefault(path, []).append({key: value for key, value in op.items() if key != "path"})


def _steps(values: list, field: str, problems: list) -> list:
    """(step, value, ts) of a series' points: a missing step is the previous one plus 1 (the server's rule), a step
    that is not a whole number is rounded, a value that is not a number is left out."""
    points, last, rounded, dropped = [], None, 0, 0
    for value in values:
        step = value.get("step")
        if not isinstance(step, (int, float)) or isinstance(step, bool) or not math.isfinite(step):
            step = last + 1 if last is not None else 0
        if step != int(step):
            rounded += 1
        number = value.get("value")
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            dropped += 1
            continue
        last = step
        points.append((round(step), float(number), value.get("ts")))
    if rounded:
        problems.append(f"{field}: {rounded} step(s) not whole numbers, rounded (MLflow steps are integers)")
    if dropped:
        problems.append(f"{field}: {dropped} value(s) not numbers, left out")
    return points


def _artifact_path(field: str, ext: str) -> str:
    return artifact_path(field if not ext or field.endswith("." + ext) else f"{field}.{ext}")


def _file(field: str, op: dict, folder: Path) -> ExportFile:
    """An upload as a file to export: its bytes wherever they are now (the reader's digest may have failed on bytes
    that are there, such as a PNG it cannot decode)."""
    upload = _upload(field, op, folder)
    path = _artifact_path(field, upload.ext)
    if upload.path is not None and upload.path.is_file():
        return ExportFile(path, field, source=upload.path)
    if upload.data is not None:
        return ExportFile(path, field, data=upload.data)
    return ExportFile(path, field, missing=upload.missing or f"{upload.path or 'the operation'} holds no file")


def _contents(state: dict, unknown: dict, folder: Path) -> RunContents:
    contents = RunContents()
    for field, (kind, value) in state.items():
        if kind == "value":
            (contents.params if field.startswith("Configuration/") else contents.values)[field] = value
        elif kind == "set":
            contents.values[field] = ", ".join(sorted(value))
            contents.listed[field] = sorted(value)
        elif kind == "floats":
            timed = _steps(value, field, contents.problems)
            if timed:  # a series configured but never given a point (the client's monitoring) is no MLflow metric
                contents.series[field] = [Point(step, number, round((ts or 0) * 1000)) for step, number, ts in timed]
        elif kind == "texts":
            lines = "".join(f"{point.get('step')}\t{point['value']}\n" for point in value)
            contents.files.append(ExportFile(artifact_path(field + ".txt"), field, data=lines.encode()))
        elif kind == "images":
            steps = [(point.get("step") or index, point["value"]) for index, point in enumerate(value)]
            for upload in _image_series(field, steps):
                path = f"{field}/{_artifact_path(upload.name, upload.ext)}"
                contents.files.append(ExportFile(path, field, data=upload.data, missing=upload.missing))
        elif kind == "file":
            contents.files.append(_file(field, value, folder))
        elif kind == "fileset":
            contents.listed[field] = {"file set (files read only by neptune sync)": value}
    for field, ops in unknown.items():
        contents.listed[field] = {"operations as written": ops}
        contents.problems.append(f"{field}: operation type {ops[0]['type']} is not exported; listed as written")
    contents.name = str(contents.values.get("sys/name") or "")
    contents.description = str(contents.values.get("sys/description") or "")
    contents.failed = contents.values.get("sys/failed")
    contents.problems.extend(f"{file.field}: {file.missing}; not exported" for file in contents.files if file.missing)
    return contents
