"""Reading back what the real ``neptune`` client wrote in offline mode.

Offline mode keeps each run in ``.neptune/offline/run__<id>__<pid>__<rand>/``: ``metadata.json`` and the operations
as JSON lines in ``data-1.log``, ``data-2.log``... (the client rolls over to a new file as one grows). This reads
them into the trace form the fake client records, so a real run and a mocked one compare directly. A file
referenced by an upload is read now, not at upload time: offline mode keeps only its path until sync.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ultralytics_neptune.trace import Trace, file_digest, image_digest

RUN_FOLDER = re.compile(r"^run__(?P<id>[^_]+(?:-[^_]+)*)__(?P<pid>\d+)__(?P<rand>\w+)$")


@dataclass
class OfflineRun:
    """One offline run: where it lies, its metadata, its operations as a trace, and any problems reading it."""

    folder: Path
    metadata: dict
    trace: Trace
    problems: list = field(default_factory=list)
    span: tuple = ()  # (first, last) time an operation was written, in seconds since the epoch; () when none

    @property
    def run_id(self) -> str:
        return self.metadata.get("containerId") or self.folder.name

    def series(self) -> dict:
        """{field: [(step, value), ...]} of every float series."""
        found: dict = {}
        for op in self.trace.operations:
            if op["type"] == "LogFloats":
                found.setdefault("/".join(op["path"]), []).extend((v.get("step"), v["value"]) for v in op["values"])
        return found

    def uploads(self) -> dict:
        """{field: last upload operation} of every file field."""
        return {"/".join(op["path"]): op for op in self.trace.operations if op["type"] == "UploadFile"}

    def atoms(self) -> dict:
        """{field: last assigned value} of every atom field."""
        operations = self.trace.operations
        return {
            "/".join(op["path"]): op.get("value", op.get("hash"))
            for op in operations
            if op["type"].startswith("Assign")
        }


def offline_run_folders(location: Path | str) -> list:
    """The run folders under a ``.neptune`` directory, its ``offline`` folder, or one run folder; oldest first; then
    the Neptune 3.x client's run folders there (``offline_scale``)."""
    from ultralytics_neptune.offline_scale import scale_run_folders

    return _run_folders_1x(location) + scale_run_folders(location)


def _run_folders_1x(location: Path | str) -> list:
    location = Path(location)
    if RUN_FOLDER.match(location.name) and location.is_dir():
        return [location]
    for candidate in (location / "offline", location, location / ".neptune" / "offline"):
        if candidate.is_dir():
            folders = [p for p in candidate.iterdir() if p.is_dir() and RUN_FOLDER.match(p.name)]
            if folders:
                return sorted(folders, key=lambda p: (p.stat().st_mtime, p.name))
    return []


def _log_number(path: Path) -> int:
    match = re.match(r"data-(\d+)\.log$", path.name)
    return int(match.group(1)) if match else -1


def _operation(entry) -> dict:
    """The operation of one log entry; raise ValueError when the entry holds none the reader can use."""
    obj = entry["obj"]
    kind = obj.get("type") if isinstance(obj, dict) else None
    if not (isinstance(kind, str) and isinstance(obj.get("path"), list)):
        raise ValueError("no operation type and path")
    values = obj.get("values")
    if kind.startswith("Log"):
        if not isinstance(values, list) or not all(isinstance(value, dict) and "value" in value for value in values):
            raise ValueError(f"{kind} without a list of values")
    elif kind.startswith("Assign"):
        if "value" not in obj and "hash" not in obj:  # AssignArtifact has a hash
            raise ValueError(f"{kind} without a value")
    elif kind in ("AddStrings", "RemoveStrings") and not all(isinstance(value, str) for value in values or [None]):
        raise ValueError(f"{kind} without a list of strings")
    return obj


def _read_operations(folder: Path, problems: list) -> tuple:
    """(operations in version order, (first, last) time written) of every data-*.log file of a run folder."""
    entries, times = [], []
    logs = sorted((p for p in folder.glob("data-*.log") if _log_number(p) >= 0), key=_log_number)
    if not logs:
        problems.append(f"{folder}: no data-*.log file (nothing logged yet)")
    missing = sorted(set(range(1, _log_number(logs[-1]) + 1)) - {_log_number(log) for log in logs}) if logs else []
    for number in missing:
        problems.append(f"{folder / f'data-{number}.log'} is missing: the operations it held are lost")
    for log in logs:
        try:
            lines = log.read_bytes().decode("utf-8", "replace").split("\n")
        except OSError as error:
            problems.append(f"{log} unreadable ({type(error).__name__}) and skipped")
            continue
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                entry = json.loads(raw)
                entries.append((entry.get("version", 0), _operation(entry)))
                if isinstance(entry.get("at"), (int, float)):
                    times.append(entry["at"])
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                last = all(not rest.strip() for rest in lines[number:])
                where = "last line" if last else "line"
                problems.append(
                    f"{log} {where} {number} is {'truncated' if last else 'corrupt'} and was skipped "
                    f"({type(error).__name__}: {str(error)[:80]}); everything before it was kept"
                )
    entries.sort(key=lambda item: item[0] if isinstance(item[0], (int, float)) else 0)
    return [obj for _, obj in entries], (min(times), max(times)) if times else ()


def _normalise(obj: dict, folder: Path, timestamps: bool = False) -> dict:
    op = dict(obj)
    if "values" in op and op["type"].startswith("Log"):
        untimed = [{k: v for k, v in value.items() if k != "ts"} for value in op["values"]]
        if timestamps:
            untimed = [{**point, "ts": value.get("ts")} for point, value in zip(untimed, op["values"])]
        op["values"] = untimed
    if op["type"] == "AddStrings":
        op["values"] = sorted(set(op["values"]))
    if op["type"] == "UploadFile":
        if op.get("tmp_file_name"):
            stored = folder / "upload_path" / op["tmp_file_name"]
            try:
                op["content"] = (
                    {"image": image_digest(stored.read_bytes())}
                    if op.get("ext") == "png"
                    else (file_digest(str(stored)))
                )
            except OSError:
                op["content"] = {"missing": True, "error": "FileNotFoundError"}
        elif op.get("file_path"):
            op["content"] = file_digest(op["file_path"])
        else:
            op["content"] = {"missing": True, "error": "no file_path or tmp_file_name"}
        for key in ("clean_after_upload",):
            op.pop(key, None)
        if op.get("tmp_file_name") is None:
            op.pop("tmp_file_name", None)
    return op


def read_offline_run(folder: Path | str, timestamps: bool = False) -> OfflineRun:
    """Read one offline run folder; a truncated or corrupt line is reported in ``problems``, the rest kept. A Neptune
    3.x run (its folder or SQLite file) is read by ``offline_scale``.

    The series points leave out when they were logged (so that two runs compare equal) unless ``timestamps``: then
    each point has its ``ts`` (seconds since the epoch; None where the file has none).
    """
    from ultralytics_neptune.offline_scale import is_scale_run, read_scale_run

    if is_scale_run(folder):
        return read_scale_run(folder, timestamps)
    folder = Path(folder)
    problems: list = []
    try:
        metadata = json.loads((folder / "metadata.json").read_text())
        if not isinstance(metadata, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as error:
        metadata = {}
        problems.append(f"{folder / 'metadata.json'} unreadable ({type(error).__name__}); run id taken from the folder")
    objects, span = _read_operations(folder, problems)
    operations = [_normalise(obj, folder, timestamps) for obj in objects]
    init_run = {}
    for op in operations:
        if op["path"] == ["sys", "name"]:
            init_run["name"] = op["value"]
        elif op["path"] == ["sys", "tags"]:
            init_run.setdefault("tags", []).extend(op["values"])
    meta = {"mode": metadata.get("mode"), "client": metadata.get("neptuneClientVersion"), "folder": str(folder)}
    trace = Trace(init_run, operations, meta)
    return OfflineRun(folder=folder, metadata=metadata, trace=trace, problems=problems, span=span)


def read_offline_runs(location: Path | str) -> list:
    """Read every offline run under location (a ``.neptune`` directory, its ``offline`` folder, or a run folder)."""
    return [read_offline_run(folder) for folder in offline_run_folders(location)]


def _family(path: list) -> str:
    """Group fields as a reader of the run thinks of them: Configuration/X, weights/..., else the first level."""
    if path[0] in ("Configuration", "sys") and len(path) > 2:
        return "/".join(path[:2])
    if path[0] == "weights":
        return "/".join(path)
    return path[0]


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    return text if len(text) <= 24 else text[:21] + "..."


def _steps(steps: list) -> str:
    known = sorted({s for s in steps if s is not None})
    if not known:
        return "-"
    if known == list(range(int(known[0]), int(known[0]) + len(known))):
        return f"{known[0]:g}..{known[-1]:g}" if len(known) > 1 else f"{known[0]:g}"
    return ",".join(f"{s:g}" for s in known)


def summary_rows(run: OfflineRun) -> list:
    """One row per namespace family: (namespace, what, steps, last values or uploads)."""
    families: dict = {}
    for op in run.trace.without_environment().operations:
        families.setdefault(_family(op["path"]), []).append(op)
    rows = []
    for family in sorted(families, key=lambda name: (name.startswith("sys"), name.lower())):
        ops = families[family]
        series: dict = {}
        atoms: dict = {}
        uploads: dict = {}
        for op in ops:
            leaf = "/".join(op["path"][len(family.split("/")) :]) or op["path"][-1]
            if op["type"] == "LogFloats":
                series.setdefault(leaf, []).extend(op["values"])
            elif op["type"] == "UploadFile":
                uploads[leaf] = op
            elif op["type"].startswith("Assign"):
                atoms[leaf] = op.get("value", op.get("hash"))
            elif op["type"] == "AddStrings":
                atoms[leaf] = ", ".join(op["values"])
        if series:
            steps = [value.get("step") for values in series.values() for value in values]
            last = " ".join(f"{leaf}={_short(values[-1]['value'])}" for leaf, values in series.items())
            rows.append((family, f"{len(series)} series", _steps(steps), last))
        if atoms:
            shown = " ".join(f"{leaf}={_short(value)}" for leaf, value in list(atoms.items())[:4])
            more = f" (+{len(atoms) - 4} more)" if len(atoms) > 4 else ""
            rows.append((family, f"{len(atoms)} values", "-", shown + more))
        if uploads:
            names = []
            for leaf, op in uploads.items():
                content = op.get("content", {})
                if "image" in content:
                    names.append(f"{leaf} ({content['image']['width']}x{content['image']['height']} figure)")
                elif content.get("missing"):
                    names.append(f"{leaf} (file missing!)")
                else:
                    names.append(f"{leaf}.{op.get('ext')}" if op.get("ext") and not leaf.endswith(op["ext"]) else leaf)
            plural = "s" if len(uploads) > 1 else ""
            rows.append((family, f"{len(uploads)} upload{plural}", "-", ", ".join(names)))
    return rows


def format_summary(run: OfflineRun) -> str:
    """A readable table of what a run holds: namespaces, steps, last values, uploads."""
    header = ("namespace", "logged", "steps", "last values / uploads")
    rows = [header, *summary_rows(run)]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  {row[3]}" for row in rows]
    lines.insert(1, "-" * min(120, max(len(line) for line in lines)))
    title = f"Neptune run {run.run_id} ({run.metadata.get('mode', 'offline')}), {len(run.trace.operations)} operations"
    problems = [f"! {problem}" for problem in run.problems]
    return "\n".join([title, *problems, "", *lines])
