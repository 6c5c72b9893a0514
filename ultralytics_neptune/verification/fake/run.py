"""A fake run: its fields, the real client's rules for each value, and the operations it records.

Operations use the real client's own vocabulary (the ``obj`` of an offline ``data-*.log`` line). What the fake adds
to an operation: uploads carry ``content``, a digest of what would be sent (the file's bytes at upload time, or the
pixels a figure shows). Every rule here is pinned by a contract test against the real client in offline mode.
"""

from __future__ import annotations

import io
import math
import os
import warnings
from collections.abc import Mapping

from ultralytics_neptune.trace import file_digest, image_digest
from ultralytics_neptune.verification.fake.errors import (
    InactiveRunException,
    MetadataInconsistency,
    NeptuneUnsupportedType,
    NeptuneUnsupportedValue,
    NeptuneUserApiInputException,
    TypeDoesNotSupportAttributeException,
)

MAX_STRING_LENGTH = 16384
INT32_RANGE = (-(2**31), 2**31 - 1)


def _verify_type(name: str, value, expected: tuple) -> None:
    if not isinstance(value, expected):
        names = " or ".join(t.__name__ for t in expected)
        raise TypeError(f"{name} must be a {names} (was {type(value)})")


def _parse_path(path) -> tuple:
    return tuple(part for part in str(path).split("/") if part)


def _is_figure(value) -> bool:
    return value.__class__.__module__.startswith("matplotlib.") and value.__class__.__name__ in ("Figure", "Axes")


def _is_pil_image(value) -> bool:
    return value.__class__.__module__.startswith("PIL.") and hasattr(value, "getpixel")


def _is_float_like(value) -> bool:
    try:
        float(value)
        return True
    except (TypeError, ValueError):
        return False


def _is_unsupported_float(value) -> bool:
    return isinstance(value, float) and (math.isnan(value) or math.isinf(value))


class File:
    """``neptune.types.File``: a file by path, or image content converted at creation."""

    def __init__(self, path: str | None = None):
        _verify_type("path", path, (str, type(None)))
        self.path = path
        self.extension = os.path.splitext(path)[1][1:] if path else ""
        self.content: bytes | None = None

    @staticmethod
    def as_image(image) -> File:
        """Render a matplotlib figure or PIL image to PNG now, as the real client does."""
        buffer = io.BytesIO()
        if _is_figure(image):
            figure = image.figure if image.__class__.__name__ == "Axes" else image
            figure.savefig(buffer, format="png", bbox_inches="tight")
        elif _is_pil_image(image):
            image.save(buffer, format="PNG")
        else:
            raise TypeError(f"Value of type {type(image)} is not supported.")
        file = File()
        file.content, file.extension = buffer.getvalue(), "png"
        return file

    @staticmethod
    def create_from(value) -> File:
        """What ``handler.upload(value)`` accepts: a path string, a File, a figure or a PIL image."""
        if isinstance(value, str):
            return File(path=value)
        if _is_figure(value) or _is_pil_image(value):
            return File.as_image(value)
        if isinstance(value, File):
            return value
        if value.__class__.__module__ == "numpy" and value.__class__.__name__ == "ndarray":
            raise TypeError(f"Value of type {type(value)} is not supported. Please use File.as_image().")
        raise TypeError(f"Value of type {type(value)} is not supported.")


# field types, named as the real client names its attributes
ATOM_TYPES = {"AssignFloat": "Float", "AssignInt": "Integer", "AssignBool": "Boolean", "AssignString": "String"}
SERIES_TYPES = ("FloatSeries", "StringSeries")


class Handler:
    """``run[path]``: a field, or a namespace of fields."""

    def __init__(self, run: Run, path: str):
        self._run = run
        self._path = "/".join(_parse_path(path))

    def __getitem__(self, path: str) -> Handler:
        return Handler(self._run, f"{self._path}/{path}")

    def __setitem__(self, path: str, value) -> None:
        self[path].assign(value)

    def assign(self, value, *, wait: bool = False) -> None:
        """Set a field (or, from a dict, a namespace of fields)."""
        self._run._assign(_parse_path(self._path), value)

    def append(self, value, *, step=None, timestamp=None, wait: bool = False) -> None:
        """Append to a series; the first value decides the series type."""
        _verify_type("step", step, (int, float, type(None)))
        _verify_type("timestamp", timestamp, (int, float, type(None)))
        self._run._append(_parse_path(self._path), value, step)

    def extend(self, values, *, steps=None, timestamps=None, wait: bool = False) -> None:
        """Append several values to a series in one operation; steps and timestamps, if given, one per value."""
        if not isinstance(values, (Mapping, list, set, tuple)):
            raise NeptuneUserApiInputException("Values must be a collection or namespace leafs must be collections")
        for name, given in (("steps", steps), ("timestamps", timestamps)):
            if given is not None and not isinstance(values, Mapping) and len(given) != len(values):
                raise NeptuneUserApiInputException(f"Number of {name} must be equal to the number of values")
        self._run._extend(_parse_path(self._path), values, steps)

    def log(self, value, *, step=None, timestamp=None, wait: bool = False) -> None:
        """Deprecated alias of append, kept by the 1.x client."""
        self.append(value, step=step, timestamp=timestamp, wait=wait)

    def upload(self, value, *, wait: bool = False) -> None:
        """Upload a file by path (str or File) or image content (figure, PIL image)."""
        self._run._upload(_parse_path(self._path), File.create_from(value))

    def add(self, values, *, wait: bool = False) -> None:
        """Add strings to a string set (tags)."""
        self._run._add_strings(_parse_path(self._path), [values] if isinstance(values, str) else list(values))

    def fetch(self):
        """The last assigned value of an atom field."""
        return self._run._fetch(_parse_path(self._path))


class Run:
    """A run that records operations and enforces the client's structure and value rules."""

    def __init__(self, client, init_kwargs: dict, mode: str, continues: Run | None = None):
        self.client = client
        self.init_kwargs = init_kwargs
        self.mode = mode
        self.operations: list[dict] = []
        self.warnings: list[str] = []
        self.stopped = False
        self.continues = continues  # the earlier session of the same server-side run (custom_run_id), if any
        # the run's structure is the server's: a resumed session shares it
        self._fields: dict[tuple, str] = continues._fields if continues else {}  # path -> field type
        self._values: dict[tuple, object] = continues._values if continues else {}  # path -> last atom value
        self._namespaces: set[tuple] = continues._namespaces if continues else set()

    # public surface of neptune.Run used by callbacks
    def __getitem__(self, path: str) -> Handler:
        return Handler(self, path)

    def __setitem__(self, path: str, value) -> None:
        Handler(self, path).assign(value)

    def exists(self, path: str) -> bool:
        """Whether a field or namespace exists at path."""
        parts = _parse_path(path)
        return parts in self._fields or parts in self._namespaces

    def stop(self, seconds=None) -> None:
        """Stop the run; later operations raise InactiveRunException."""
        self.stopped = True

    def wait(self, disk_only: bool = False) -> None:
        """Wait for queued operations (nothing is queued in the fake)."""
        self._check_active()

    def sync(self, wait: bool = True) -> None:
        """Synchronise with the server (nothing to do in the fake)."""
        self._check_active()

    # rules
    def _check_active(self) -> None:
        if self.stopped:
            raise InactiveRunException(f"Run {self.init_kwargs.get('name')!r} is stopped; it cannot be logged to")

    def _define(self, path: tuple, field_type: str) -> None:
        """Give path a field type, enforcing that fields and namespaces never overlap."""
        self._check_active()
        for depth in range(1, len(path)):
            if path[:depth] in self._fields:
                raise MetadataInconsistency(
                    f"Cannot access path '{'/'.join(path)}': '{'/'.join(path[:depth])}' is already defined as an "
                    "attribute, not a namespace"
                )
        if path in self._namespaces:
            raise MetadataInconsistency(f"Attribute or namespace {'/'.join(path)} is already defined")
        self._fields[path] = field_type
        self._namespaces.update(path[:depth] for depth in range(1, len(path)))

    def _record(self, operation: str, path: tuple, **fields) -> None:
        self.client._raise_injected_fault(operation, path)
        self.operations.append({"type": operation, "path": list(path), **fields})

    def _warn(self, category: type, message: str) -> None:
        self.warnings.append(message)
        warnings.warn(message, category, stacklevel=5)

    def _assign(self, path: tuple, value) -> None:
        self._check_active()
        existing = self._fields.get(path)
        if (existing is None and path in self._namespaces) or isinstance(value, Mapping) or _is_namespace(value):
            items = vars(value) if _is_namespace(value) else value
            if not isinstance(items, Mapping):
                raise AttributeError(f"'{type(value).__name__}' object has no attribute 'keys'")
            for key, item in items.items():
                if not _parse_path(key):
                    self._warn(NeptuneUnsupportedType, f'Key "{key}" can\'t be used in Namespaces; it is dropped')
                    continue
                self._assign(path + _parse_path(key), item)
            return
        if existing in SERIES_TYPES:
            raise TypeError("`values` is not a collection")
        if isinstance(value, File) or _is_figure(value) or _is_pil_image(value):
            self._upload(path, value if isinstance(value, File) else File.as_image(value))
            return
        operation = _assignment_for(value) if existing is None else _reassignment_for(existing)
        if operation is None:
            self._warn(NeptuneUnsupportedType, f"unsupported type {type(value)} at {'/'.join(path)}; dropped")
            return
        if existing is None:
            self._define(path, ATOM_TYPES.get(operation, operation))
        converted = _convert_atom(operation, value)
        if operation == "AssignFloat" and _is_unsupported_float(converted):
            self._warn(NeptuneUnsupportedValue, f"nonstandard float value ({converted}) at {'/'.join(path)}; skipped")
            return
        if operation == "AssignInt" and not INT32_RANGE[0] <= converted <= INT32_RANGE[1]:
            self._warn(NeptuneUnsupportedValue, f"{converted} is outside the 32-bit integer range; skipped")
            return
        if operation == "AssignString" and len(converted) > MAX_STRING_LENGTH:
            converted = converted[:MAX_STRING_LENGTH]
        self._values[path] = converted
        self._record(operation, path, value=converted)

    def _append(self, path: tuple, value, step) -> None:
        self._check_active()
        if isinstance(value, Mapping):
            if path in self._fields:
                raise TypeDoesNotSupportAttributeException(f"{self._fields[path]} field at '{'/'.join(path)}'")
            for key, item in value.items():
                self._append(path + _parse_path(key), item, step)
            return
        if path in self._namespaces:
            raise AttributeError(f"'{type(value).__name__}' object has no attribute 'keys'")
        existing = self._fields.get(path)
        if existing is None:
            if isinstance(value, str):
                series = "StringSeries"
            elif _is_float_like(value) or isinstance(value, (int, float)):
                series = "FloatSeries"
            elif isinstance(value, File) or _is_figure(value) or _is_pil_image(value):
                raise NotImplementedError("the fake client does not model FileSeries (append of files or images)")
            else:
                self._warn(NeptuneUnsupportedType, f"unsupported type {type(value)} at {'/'.join(path)}; dropped")
                return
            self._define(path, series)
            existing = series
        if existing == "FloatSeries":
            if _is_unsupported_float(value):
                self._warn(NeptuneUnsupportedValue, f"A value you're trying to log (`{value}`) will be skipped")
                return
            self._record("LogFloats", path, values=[{"value": float(value), "step": step}])
        elif existing == "StringSeries":
            self._record("LogStrings", path, values=[{"value": str(value), "step": step}])
        else:
            raise TypeDoesNotSupportAttributeException(f"{existing} field at '{'/'.join(path)}' has no append")

    def _extend(self, path: tuple, values, steps) -> None:
        self._check_active()
        if not isinstance(values, (list, tuple)) or not values or path in self._namespaces:
            raise NotImplementedError("the fake client models extend of a non-empty list or tuple to a series only")
        existing = self._fields.get(path)
        if existing is None:
            if isinstance(values[0], str):
                existing = "StringSeries"
            elif _is_float_like(values[0]):
                existing = "FloatSeries"
            else:
                raise NotImplementedError(f"the fake client does not model extend of {type(values[0]).__name__}")
            self._define(path, existing)
        if existing not in SERIES_TYPES or not all(
            isinstance(value, str) if existing == "StringSeries" else _is_float_like(value) for value in values
        ):
            raise NotImplementedError(f"the fake client does not model extend of these values to a {existing}")
        if steps is not None:
            _verify_type("steps", steps, (list, set, tuple))
            for step in steps:
                _verify_type("elements of collection 'steps'", step, (float, int))
        points = []
        for value, step in zip(values, steps if steps is not None else [None] * len(values)):
            if existing == "FloatSeries" and _is_unsupported_float(value):
                self._warn(NeptuneUnsupportedValue, f"A value you're trying to log (`{value}`) will be skipped")
                continue
            points.append({"value": str(value) if existing == "StringSeries" else float(value), "step": step})
        if points:
            self._record("LogStrings" if existing == "StringSeries" else "LogFloats", path, values=points)

    def _upload(self, path: tuple, file: File) -> None:
        self._check_active()
        if path in self._namespaces:
            raise TypeDoesNotSupportAttributeException(f"namespace '{'/'.join(path)}' has no upload")
        existing = self._fields.get(path)
        if existing is None:
            self._define(path, "File")
        elif existing != "File":
            raise TypeDoesNotSupportAttributeException(f"{existing} field at '{'/'.join(path)}' has no upload")
        if file.content is not None:
            self._record(
                "UploadFile", path, ext=file.extension, file_path=None, content={"image": image_digest(file.content)}
            )
        else:
            file_path = os.path.abspath(file.path)
            self._record("UploadFile", path, ext=file.extension, file_path=file_path, content=file_digest(file_path))

    def _add_strings(self, path: tuple, values: list) -> None:
        self._check_active()
        for value in values:
            _verify_type("values", value, (str,))
        if path not in self._fields:
            self._define(path, "StringSet")
        elif self._fields[path] != "StringSet":
            raise TypeDoesNotSupportAttributeException(f"{self._fields[path]} field at '{'/'.join(path)}' has no add")
        self._record("AddStrings", path, values=sorted(set(values)))  # a set: the real client's order is arbitrary

    def _fetch(self, path: tuple):
        if path not in self._values:
            raise MetadataInconsistency(f"no value at {'/'.join(path)}")
        return self._values[path]


def _is_namespace(value) -> bool:
    return type(value).__name__ == "Namespace" and type(value).__module__ == "argparse"


def _assignment_for(value) -> str | None:
    """The operation of a first assignment, in the real client's order of type checks."""
    if isinstance(value, bool):
        return "AssignBool"
    if isinstance(value, int):
        return "AssignInt"
    if isinstance(value, float):
        return "AssignFloat"
    if isinstance(value, str):
        return "AssignString"
    if _is_float_like(value):
        return "AssignFloat"
    return None


def _reassignment_for(field_type: str) -> str | None:
    return {atom: operation for operation, atom in ATOM_TYPES.items()}.get(field_type)


def _convert_atom(operation: str, value):
    if operation == "AssignFloat":
        return float(value)
    if operation == "AssignInt":
        return int(value)
    if operation == "AssignBool":
        return bool(value)
    _verify_type("value", value, (str, type(None)))
    return value
