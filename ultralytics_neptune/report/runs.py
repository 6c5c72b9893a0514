"""Runs as the report shows them: the final state of every field, grouped as a reader thinks of them, with warnings.

Built on the offline reader (``ultralytics_neptune.offline``): it replays each field's operations in the client's
own vocabulary (assignments, series and their clears, string sets, files, deletions) and sorts the result into the
header, tables, series, uploads and the rest. An operation type the report does not interpret is listed as written,
never dropped.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ultralytics_neptune.offline import OfflineRun, offline_run_folders, read_offline_run
from ultralytics_neptune.offline_scale import ClientMissing
from ultralytics_neptune.trace import ENVIRONMENT_NAMESPACES, Trace

IMAGE_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "bmp": "image/bmp",
}
#: operation types of the neptune 1.x client that the report shows as written (it does not interpret them)
LISTED_AS_WRITTEN = frozenset({"AssignArtifact", "TrackFilesToArtifact", "ClearArtifact", "CopyAttribute"})
TABLE_TITLES = {"Configuration/Model": "Model summary", "Configuration/Hyperparameters": "Hyperparameters"}
VERSIONS = "Configuration/Versions"


@dataclass
class Upload:
    """One file of a run: where its bytes are (a path, or data from the operation log), and how it is described."""

    field: str
    name: str
    ext: str = ""
    path: Path | None = None
    data: bytes | None = None
    origin: str = ""  # where the file was when it was logged
    missing: str = ""  # why its bytes cannot be shown, or ""
    size: int | None = None
    sha256: str = ""

    @property
    def image(self) -> bool:
        return self.ext.lower() in IMAGE_TYPES and not self.missing


@dataclass
class RunView:
    """What the report shows of one run."""

    run: OfflineRun
    label: str = ""
    failed: bool | None = None  # sys/failed; None when the run has none
    header: list = field(default_factory=list)  # (label, text)
    tables: dict = field(default_factory=dict)  # title -> {key: value}
    series: dict = field(default_factory=dict)  # field -> [(step, value)]
    units: dict = field(default_factory=dict)  # field -> unit (ConfigFloatSeries)
    texts: dict = field(default_factory=dict)  # field -> [line] (string series)
    uploads: dict = field(default_factory=dict)  # namespace -> [Upload]
    others: list = field(default_factory=list)  # (field, kind, text)
    warnings: list = field(default_factory=list)

    @property
    def run_id(self) -> str:
        return self.run.run_id


def _created(folder: Path) -> float:
    """When a run was created: its metadata's createdAt, else the folder's modification time."""
    try:
        text = json.loads((folder / "metadata.json").read_text())["createdAt"]
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return folder.stat().st_mtime


def find_runs(paths: list, last: int | None = None) -> list:
    """The offline run folders under paths (data folders, ``.neptune`` folders or run folders), newest first."""
    folders: dict = {}
    for path in paths:
        for folder in offline_run_folders(path):
            folders.setdefault(folder.resolve(), None)
    ordered = sorted(folders, key=lambda folder: (_created(folder), folder.name), reverse=True)
    return ordered[:last] if last else ordered


def _utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def _image_ext(data: bytes) -> str:
    """The image type of some bytes, by their signature (a file series holds PNG or JPEG data); PNG if unknown."""
    signatures = {b"\x89PNG": "png", b"\xff\xd8": "jpg", b"GIF8": "gif", b"BM": "bmp"}
    found = next((ext for signature, ext in signatures.items() if data.startswith(signature)), None)
    return "webp" if data[8:12] == b"WEBP" else found or "png"


def _decoded(text) -> bytes | None:
    try:
        return base64.b64decode(text or "", validate=True)
    except (binascii.Error, ValueError, TypeError):
        return None


class _Fields:
    """The state of every field after replaying the run's operations, in the order fields first appeared."""

    SERIES = {"LogFloats": "floats", "LogStrings": "strings", "LogImages": "images"}
    CLEARS = {"ClearFloatLog": "floats", "ClearStringLog": "strings", "ClearImageLog": "images"}

    def __init__(self, run: OfflineRun):
        self.state: dict = {}  # field -> (kind, value)
        self.units: dict = {}  # field -> unit of a float series (ConfigFloatSeries)
        self.raw: list = []  # (field, operation) of the operations listed as written
        for op in run.trace.operations:
            self.apply(op)

    def _current(self, path: str, kind: str, empty):
        current = self.state.get(path)
        return current[1] if current and current[0] == kind else empty

    def apply(self, op: dict) -> None:
        kind, path = op["type"], "/".join(str(part) for part in op["path"])
        if kind.startswith("Assign") and kind not in LISTED_AS_WRITTEN:
            value = op["value"]
            if kind == "AssignDatetime" and isinstance(value, (int, float)):
                value = _utc(value / 1000)  # the client writes milliseconds since the epoch
            self.state[path] = ("atom", value)
        elif kind in self.SERIES:
            points = self._current(path, self.SERIES[kind], [])
            for value in op["values"]:
                step = value.get("step")
                if not isinstance(step, (int, float)):  # no step: the server takes the previous one plus 1
                    step = points[-1][0] + 1 if points else 0
                points.append((step, value["value"]))
            self.state[path] = (self.SERIES[kind], points)
        elif kind in self.CLEARS:
            self.state[path] = (self.CLEARS[kind], [])
        elif kind == "ConfigFloatSeries":
            self.state[path] = ("floats", self._current(path, "floats", []))
            self.units[path] = op.get("unit") or ""
        elif kind == "AddStrings":
            self.state[path] = ("set", self._current(path, "set", set()) | set(op["values"]))
        elif kind == "RemoveStrings":
            self.state[path] = ("set", self._current(path, "set", set()) - set(op["values"]))
        elif kind == "ClearStringSet":
            self.state[path] = ("set", set())
        elif kind in ("UploadFile", "UploadFileContent"):
            self.state[path] = ("file", op)
        elif kind == "UploadFileSet":
            kept = [] if op.get("reset") not in ("False", False) else self._current(path, "fileset", [])
            self.state[path] = ("fileset", [*kept, *op.get("file_globs", [])])
        elif kind == "DeleteFiles":
            deleted = set(op.get("file_paths", []))
            self.state[path] = ("fileset", [glob for glob in self._current(path, "fileset", []) if glob not in deleted])
        elif kind == "DeleteAttribute":
            self.state.pop(path, None)
        else:
            self.raw.append((path, op))


def _upload(path: str, op: dict, folder: Path) -> Upload:
    """An UploadFile or UploadFileContent operation as a file of the report."""
    ext = str(op.get("ext") or "")
    leaf = path.split("/", 1)[-1]
    name = leaf if not ext or leaf.endswith("." + ext) else f"{leaf}.{ext}"
    content = op.get("content", {})
    upload = Upload(path, name, ext, size=content.get("size"), sha256=content.get("sha256", ""))
    if op["type"] == "UploadFileContent":
        upload.data, upload.origin = _decoded(op.get("file_content")), "in the operation log"
        if upload.data is None:
            upload.missing = "its content in the operation log is not valid base64"
        else:
            upload.size = len(upload.data)
    elif op.get("tmp_file_name"):
        upload.path = folder / "upload_path" / op["tmp_file_name"]
        upload.origin = "in the run folder (upload_path)"
        image = content.get("image")
        if image:
            upload.name = f"{leaf} ({image['width']}x{image['height']} figure)"
    else:
        upload.path = Path(op["file_path"]) if op.get("file_path") else None
        upload.origin = op.get("file_path") or "no file reference"
    if content.get("missing") and not upload.missing:
        where = upload.path or "the operation"
        upload.missing = f"{where} does not exist any more" if upload.path else f"{where} names no file"
    return upload


def _image_series(path: str, points: list) -> list:
    uploads = []
    for index, (step, value) in enumerate(points):
        value = value if isinstance(value, dict) else {"data": value}
        data = _decoded(value.get("data"))
        name = value.get("name") or f"{path.split('/')[-1]} step {step:g}"
        upload = Upload(path, name, "png", data=data, origin=f"file series, entry {index + 1}")
        if data is None:
            upload.missing = "its data in the operation log is not valid base64"
        else:
            upload.ext, upload.size = _image_ext(data), len(data)
        uploads.append(upload)
    return uploads


def _table_key(parts: list) -> str:
    if parts[0] == "Configuration" and len(parts) > 2:
        return "/".join(parts[:2])
    return "/".join(parts[:-1]) or "(top level)"


def _series_warnings(series: dict) -> list:
    warnings, bad_steps = [], []
    for path, points in series.items():
        not_finite = sum(1 for _, value in points if not (isinstance(value, (int, float)) and math.isfinite(value)))
        if not_finite:
            warnings.append(f"{path}: {not_finite} NaN or infinite value(s) left out of its chart")
        repeated = next(((a, b) for (a, _), (b, _) in zip(points, points[1:]) if b <= a), None)
        if repeated:
            bad_steps.append(f"{path} (step {repeated[1]:g} after {repeated[0]:g})")
    if bad_steps:
        warnings.append(
            f"{len(bad_steps)} series repeat or go back a step: {', '.join(bad_steps[:4])}"
            f"{' ...' if len(bad_steps) > 4 else ''}; a Neptune server refuses such points, so neptune sync would "
            "drop them (the charts show them as logged)"
        )
    return warnings


def _rank(namespace: str) -> int:
    """Where a table or upload group goes: the model summary, hyperparameters and other configuration first, what
    the client records about the machine (monitoring, source code) last."""
    order = [*TABLE_TITLES, "Configuration"]
    first = next((index for index, prefix in enumerate(order) if namespace.startswith(prefix)), len(order))
    return len(order) + 1 if namespace.split("/")[0] in ENVIRONMENT_NAMESPACES else first


def _namespace(parts: list) -> str:
    return parts[0] if len(parts) > 1 else "(top level)"


def view_of(run: OfflineRun) -> RunView:
    """Sort what a run holds into what the report shows."""
    fields = _Fields(run)
    view = RunView(run=run, warnings=list(run.problems), units=fields.units)
    sys_fields, versions = {}, {}
    for path, (kind, value) in fields.state.items():
        parts = path.split("/")
        if kind == "atom" and parts[0] == "sys":
            sys_fields[path[4:]] = value
        elif kind == "atom" and path.startswith(VERSIONS + "/"):
            versions[path[len(VERSIONS) + 1 :]] = value
        elif kind == "atom":
            key = _table_key(parts)
            view.tables.setdefault(key, {})[path[len(key) + 1 :] if len(parts) > 1 else path] = value
        elif kind == "floats" and value:
            view.series[path] = value
        elif kind == "floats":
            view.others.append((path, "float series", "no points"))
        elif kind == "strings":
            view.texts[path] = [str(text) for _, text in value]
        elif kind == "set" and path == "sys/tags":
            sys_fields["tags"] = ", ".join(sorted(value))
        elif kind == "set":
            view.others.append((path, "string set", ", ".join(sorted(value)) or "(empty)"))
        elif kind == "file":
            view.uploads.setdefault(_namespace(parts), []).append(_upload(path, value, run.folder))
        elif kind == "images":
            view.uploads.setdefault(_namespace(parts), []).extend(_image_series(path, value))
        elif kind == "fileset":
            files = Upload(path, ", ".join(value) or "(no files)", origin="file set: read when the run is synced")
            view.uploads.setdefault(_namespace(parts), []).append(files)
    for path, op in fields.raw:
        details = json.dumps({k: v for k, v in op.items() if k not in ("type", "path")}, default=str)
        view.others.append((path, op["type"], details[:300] + ("..." if len(details) > 300 else "")))
        if op["type"] not in LISTED_AS_WRITTEN:
            view.warnings.append(f"{path}: operation type {op['type']} is unknown to the report; listed as written")
    tables = sorted(view.tables.items(), key=lambda item: _rank(item[0]))
    view.tables = {TABLE_TITLES.get(key, key): values for key, values in tables}
    view.uploads = dict(sorted(view.uploads.items(), key=lambda item: _rank(item[0])))
    for uploads in view.uploads.values():
        view.warnings.extend(f"{upload.field}: {upload.missing}; not shown" for upload in uploads if upload.missing)
    view.warnings.extend(_series_warnings(view.series))
    _fill_header(view, sys_fields, versions)
    return view


def _versions(metadata: dict, logged: dict) -> str:
    """The versions that wrote the run: the client's metadata, then what the run logged (extended mode)."""
    versions = {
        "python": str(metadata.get("pythonVersion") or "").split(" ")[0],
        "neptune": metadata.get("neptuneClientVersion"),
    }
    versions.update(logged)
    names = {"python": "Python", "neptune": "neptune client", "ultralytics": "Ultralytics"}
    return ", ".join(f"{names.get(key, key)} {value}" for key, value in versions.items() if value) or "-"


def _fill_header(view: RunView, sys_fields: dict, versions: dict) -> None:
    run, metadata = view.run, view.run.metadata
    view.failed = sys_fields.pop("failed", None)
    created = _created(run.folder)
    name = sys_fields.pop("name", "")
    view.label = name if name and name != "Untitled" else run.run_id[:8]
    mode = metadata.get("mode") or "offline"
    header = [("Run id", run.run_id), ("Name", name or "-")]
    header += [("Description", sys_fields.pop("description"))] if sys_fields.get("description") else []
    sys_fields.pop("description", None)
    header += [
        ("Tags", sys_fields.pop("tags", "") or "-"),
        ("Status", f"{mode} run, not synced" if mode == "offline" else f"{mode} run"),
        ("Failed", {True: "yes (sys/failed)", False: "no"}.get(view.failed, "not recorded")),
        ("Created", _utc(created)),
    ]
    if run.span:
        header.append(
            ("Last operation", f"{_utc(run.span[1])}, {_duration(run.span[1] - run.span[0])} after the first")
        )
    header += [("Operations", str(len(run.trace.operations))), ("Folder", str(run.folder))]
    header += [("Versions", _versions(metadata, versions))]
    header += [("Host", str(sys_fields.pop("hostname")))] if "hostname" in sys_fields else []
    header += [(f"sys/{key}", str(value)) for key, value in sys_fields.items()]
    view.header = header


def unique_labels(views: list) -> None:
    """Make run labels unique by adding the short run id where names repeat."""
    counts: dict = {}
    for view in views:
        counts[view.label] = counts.get(view.label, 0) + 1
    for view in views:
        if counts[view.label] > 1:
            view.label = f"{view.label} ({view.run_id[:8]})"


def read_views(folders: list, progress=None) -> list:
    """Read run folders into views, reporting progress as ("reading runs", done, total)."""
    views = []
    for index, folder in enumerate(folders, start=1):
        try:
            run = read_offline_run(folder)
        except ClientMissing as error:  # the run is listed, with what it takes to read it
            run = OfflineRun(folder=Path(folder), metadata={}, trace=Trace({}, [], {}), problems=[str(error)])
        views.append(view_of(run))
        if progress:
            progress("reading runs", index, len(folders))
    unique_labels(views)
    return views
