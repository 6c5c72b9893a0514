"""Traces: what a run received (init_run arguments and operations), normalised so two runs can be compared.

Neptune stores each field on its own, so two traces are equal when ``init_run`` got the same arguments and every
field got the same operations in the same order; the order between fields does not matter (upstream uploads in
``glob`` order, which the file system decides).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

FORMAT = 1
SAVE_DIR = "{save_dir}"
#: what the real client writes about the machine at start; traces are compared without it
ENVIRONMENT_NAMESPACES = ("monitoring", "source_code", "sys/hostname")


def image_digest(png: bytes) -> dict:
    """Describe a PNG by what it shows: its size and a digest of its decoded RGBA pixels."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        rgba = image.convert("RGBA")
        return {"width": rgba.width, "height": rgba.height, "pixels_sha256": hashlib.sha256(rgba.tobytes()).hexdigest()}


def file_digest(path: str) -> dict:
    """Describe a file by its size and the sha256 of its bytes now, or say that it is missing."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        return {"missing": True, "error": type(error).__name__}
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


@dataclass
class Trace:
    """The arguments a run was started with and the operations it received, in the real client's vocabulary."""

    init_run: dict
    operations: list
    meta: dict = field(default_factory=dict)

    @classmethod
    def from_run(cls, run, save_dir: Path | str | None = None, **meta) -> Trace:
        """Build the trace of a fake run; file paths under save_dir become relative to ``{save_dir}``."""
        return cls(
            init_run=dict(run.init_kwargs), operations=[dict(op) for op in run.operations], meta=meta
        ).relative_to(save_dir)

    def relative_to(self, save_dir: Path | str | None) -> Trace:
        """Replace the save_dir prefix of uploaded file paths by ``{save_dir}``."""
        if save_dir is None:
            return self
        prefix = str(Path(save_dir).resolve())
        operations = []
        for op in self.operations:
            file_path = op.get("file_path")
            if file_path and (file_path == prefix or file_path.startswith(prefix + "/")):
                op = {**op, "file_path": SAVE_DIR + file_path[len(prefix) :]}
            operations.append(op)
        return Trace(self.init_run, operations, dict(self.meta))

    def without_environment(self) -> Trace:
        """Drop the operations the real client writes about the machine (hostname, monitoring, source code)."""
        kept = [op for op in self.operations if not _in_environment(op["path"])]
        return Trace(self.init_run, kept, dict(self.meta))

    def by_field(self) -> dict:
        """Map each field path ("a/b") to its operations, in order."""
        fields: dict = {}
        for op in self.operations:
            fields.setdefault("/".join(op["path"]), []).append(op)
        return fields

    def namespaces(self) -> set:
        """The top-level namespace of every field (e.g. "Mosaic", "train", "metrics")."""
        return {op["path"][0] for op in self.operations}

    def to_json(self) -> str:
        return json.dumps(
            {"format": FORMAT, "meta": self.meta, "init_run": _jsonable(self.init_run), "operations": self.operations},
            indent=1,
            sort_keys=True,
            default=str,
        )

    @classmethod
    def from_json(cls, text: str) -> Trace:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError(f"unknown trace format {data.get('format')!r} (this version reads {FORMAT})")
        return cls(init_run=data["init_run"], operations=data["operations"], meta=data.get("meta", {}))

    def save(self, path: Path | str) -> None:
        Path(path).write_text(self.to_json() + "\n")

    @classmethod
    def load(cls, path: Path | str) -> Trace:
        return cls.from_json(Path(path).read_text())


def _in_environment(path: list) -> bool:
    joined = "/".join(path)
    return any(joined == ns or joined.startswith(ns + "/") for ns in ENVIRONMENT_NAMESPACES)


def _jsonable(value):
    """init_run arguments as JSON keeps them (callables and other objects become their repr)."""
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def _same_value(expected, actual) -> bool:
    if isinstance(expected, float) and isinstance(actual, float) and math.isnan(expected) and math.isnan(actual):
        return True
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(_same_value(expected[k], actual[k]) for k in expected)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(map(_same_value, expected, actual))
    return type(expected) is type(actual) and expected == actual


def _comparable(op: dict) -> dict:
    """An operation without what differs between identical runs (temporary file names)."""
    return {key: value for key, value in op.items() if key != "tmp_file_name"}


def describe(op: dict | None) -> str:
    """One line for an operation, as shown in a diff."""
    if op is None:
        return "nothing"
    details = {key: value for key, value in _comparable(op).items() if key not in ("type", "path")}
    if op["type"].startswith("Log") and len(details.get("values", [])) == 1:  # one point of a series
        value = details.pop("values")[0]
        details = {"value": value.get("value"), "step": value.get("step"), **details}
    text = ", ".join(f"{key}={value!r}" for key, value in details.items())
    return f"{op['type']}({text})"


def diff_traces(expected: Trace, actual: Trace) -> list:
    """Every difference between two traces, one readable line each: namespace, expected, got."""
    expected, actual = expected.without_environment(), actual.without_environment()
    lines = []
    expected_init, actual_init = _jsonable(expected.init_run), _jsonable(actual.init_run)
    for key in sorted(set(expected_init) | set(actual_init)):
        if not _same_value(expected_init.get(key), actual_init.get(key)):
            lines.append(f"init_run {key}: expected {expected_init.get(key)!r}, got {actual_init.get(key)!r}")
    expected_fields, actual_fields = expected.by_field(), actual.by_field()
    for path in sorted(set(expected_fields) | set(actual_fields)):
        wanted, got = expected_fields.get(path, []), actual_fields.get(path, [])
        for index in range(max(len(wanted), len(got))):
            want = wanted[index] if index < len(wanted) else None
            have = got[index] if index < len(got) else None
            if want is None or have is None or not _same_value(_comparable(want), _comparable(have)):
                position = f" (operation {index + 1} of {len(wanted)})" if len(wanted) > 1 else ""
                lines.append(f"{path}{position}: expected {describe(want)}, got {describe(have)}")
    return lines


class TraceMismatch(AssertionError):
    """Two traces differ; the message lists every difference."""


def assert_traces_equal(expected: Trace, actual: Trace, limit: int = 40) -> None:
    """Raise TraceMismatch naming each differing namespace with what was expected and what was got."""
    differences = diff_traces(expected, actual)
    if differences:
        shown = differences[:limit]
        more = f"\n... and {len(differences) - limit} more" if len(differences) > limit else ""
        raise TraceMismatch(f"{len(differences)} difference(s) between the traces:\n" + "\n".join(shown) + more)


def step_violations(trace: Trace) -> list:
    """Series appends the Neptune server would reject: a step not greater than the field's previous one."""
    problems = []
    for path, ops in trace.by_field().items():
        last = None
        for op in ops:
            for value in op.get("values", []) if op["type"].startswith("Log") else []:
                step = value.get("step")
                if step is not None and last is not None and step <= last:
                    problems.append(f"{path}: step {step} after step {last}")
                last = step if step is not None else last
    return problems
