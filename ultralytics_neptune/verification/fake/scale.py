"""A fake Neptune 3.x client (``neptune_scale``, release 0.30.0): a ``Run`` that keeps state, enforces the real
client's rules, and records what the real client would write to its SQLite file, in the form
``offline_scale.read_scale_run`` reads that file back (so a fake run and a real one compare directly).

Every rule here is pinned by ``tests/test_scale_fake_contract.py`` against the real client in offline mode:

- ``Run``: a project is required (argument or ``NEPTUNE_PROJECT``) and must be ``workspace/name``; a run id is a
  non-empty string without "/" of at most 128 bytes (one is generated when none is given); async mode needs an API
  token; an experiment name, when given, is not empty; a mode that is neither offline nor async logs nothing;
- ``log_configs``: floats, ints, bools, strings and datetimes are kept; a list, set or tuple of strings becomes a
  string set; one with another item raises TypeError and the whole call is lost; anything else (None, a path, a
  dict without ``flatten``) is dropped with a warning;
- ``log_metrics``: the step is an int or float (TypeError) within the client's range (ValueError); a value float()
  refuses is dropped with a warning; NaN is kept; steps are not checked against earlier ones (the server checks);
- ``add_tags`` / ``remove_tags``: a list, set or tuple of strings, else dropped with a warning;
- ``assign_files``: a path that does not exist is skipped with a warning; bytes are kept in the run's folder;
- after ``close()`` every call is ignored.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import os
import sys
import types
import uuid
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from ultralytics_neptune.trace import file_digest, image_digest

CLIENT_VERSION = "0.30.0"
MAX_RUN_ID_BYTES = 128
MAX_STEP = 1e12  # the client's upper bound is far above any epoch; the lower bound is 0
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DEFAULT_MIME_TYPE = "application/octet-stream"
_KEPT = (float, bool, int, str, datetime)
logger = logging.getLogger("neptune")


class NeptuneProjectNotProvided(Exception):
    """No project given and ``NEPTUNE_PROJECT`` unset."""


class NeptuneApiTokenNotProvided(Exception):
    """Async mode without an API token."""


def _drop(message: str) -> None:
    logger.warning(f"Dropping value. {message}.")


def _mime_of_path(path: Path) -> str:
    return mimetypes.guess_type(str(path))[0] or DEFAULT_MIME_TYPE


class Run:
    """The fake ``neptune_scale.Run``; ``operations`` and ``init_run`` are what the real SQLite file reads back as."""

    def __init__(
        self,
        *,
        run_id=None,
        project=None,
        api_token=None,
        mode=None,
        experiment_name=None,
        log_directory=None,
        enable_console_log_capture=True,
        source_tracking_config=None,
        **kwargs,
    ):
        run_id = uuid.uuid4().hex if run_id is None else run_id
        if not isinstance(run_id, str):
            raise TypeError(f"run_id must be a str (was {type(run_id)})")
        project = project or os.environ.get("NEPTUNE_PROJECT")
        if project is None:
            raise NeptuneProjectNotProvided()
        if not isinstance(project, str) or not project or len(project.split("/")) != 2:
            raise ValueError("project is not in expected format, should be 'workspace-name/project-name")
        mode = mode or os.environ.get("NEPTUNE_MODE", "async")
        if not run_id or len(run_id.encode()) > MAX_RUN_ID_BYTES or "/" in run_id:
            raise ValueError("run_id is not in expected format")
        if experiment_name is not None and not experiment_name:
            raise ValueError("experiment_name must not be empty")
        self.api_token = api_token or os.environ.get("NEPTUNE_API_TOKEN")
        if mode == "async" and self.api_token is None:
            raise NeptuneApiTokenNotProvided()
        self.project, self.run_id, self.mode, self.experiment_name = project, run_id, mode, experiment_name
        self.logging = mode in ("offline", "async")
        self.closed = False
        self.close_timeout = None
        self.folder = Path(log_directory or Path.cwd() / ".neptune") / f"fake_{run_id}"
        self.init_run = {"project": project, "run_id": run_id}
        self.operations: list = []
        self.calls = {"log_metrics": 0, "log_configs": 0, "assign_files": 0, "add_tags": 0}
        if self.logging and experiment_name:
            self.init_run["name"] = experiment_name
            self.operations.append({"type": "AssignString", "path": ["sys", "name"], "value": experiment_name})

    def _active(self, call: str) -> bool:
        self.calls[call] = self.calls.get(call, 0) + 1
        return self.logging and not self.closed

    def log_configs(self, data=None, flatten=False, cast_unsupported=False) -> None:
        if data is None:
            return
        if not isinstance(data, Mapping):
            raise TypeError(f"configs must be a mapping-like object (was {type(data)})")
        if flatten:
            data = _flatten(data)
        if cast_unsupported:
            data = {k: v if isinstance(v, _KEPT) else "" if v is None else str(v) for k, v in data.items()}
        if not self._active("log_configs"):
            return
        kept = []
        for key, value in data.items():
            if not isinstance(key, str):
                _drop(f"Field paths must be strings (got `{key}`)")
            elif isinstance(value, float):
                kept.append({"type": "AssignFloat", "path": key.split("/"), "value": value})
            elif isinstance(value, bool):
                kept.append({"type": "AssignBool", "path": key.split("/"), "value": value})
            elif isinstance(value, int):
                kept.append({"type": "AssignInt", "path": key.split("/"), "value": value})
            elif isinstance(value, str):
                kept.append({"type": "AssignString", "path": key.split("/"), "value": value})
            elif isinstance(value, datetime):
                milliseconds = int(value.timestamp() * 1000)
                kept.append({"type": "AssignDatetime", "path": key.split("/"), "value": milliseconds})
            elif isinstance(value, (list, set, tuple)):
                if not all(isinstance(item, str) for item in value):
                    raise TypeError("bad argument type for built-in operation")
                kept.append({"type": "AssignStringSet", "path": key.split("/"), "value": sorted(set(value))})
            else:
                _drop(f"Config values must be float, bool, int, str, datetime, list, set or tuple (got `{key}`)")
        self.operations.extend(sorted(kept, key=lambda op: op["path"]))

    def log_metrics(self, data, step, *, timestamp=None, preview=False, preview_completion=None) -> None:
        if not isinstance(step, (int, float)) or step is None:
            raise TypeError(f"step must be a float or int (was {type(step)})")
        if not 0 <= step < MAX_STEP:
            raise ValueError(f"step must have a value between 0 and {MAX_STEP}")
        if not isinstance(data, dict):
            raise TypeError(f"metrics must be a dict (was {type(data)})")
        if not self._active("log_metrics"):
            return
        points = []
        for key in sorted(data, key=str):
            try:
                value = float(data[key])
            except (TypeError, ValueError, OverflowError):
                _drop(f"Metrics' values must be float or int (got `{key}`:`{data[key]}`)")
                continue
            points.append({"type": "LogFloats", "path": key.split("/"), "values": [{"value": value, "step": step}]})
        self.operations.extend(points)

    def _tags(self, kind: str, tags) -> None:
        if not self._active("add_tags"):
            return
        if not isinstance(tags, (list, set, tuple)) or not all(isinstance(tag, str) for tag in tags):
            _drop(f"Tags must be a list, set or tuple of strings (got `sys/tags`:`{tags}`)")
            return
        if tags:
            self.operations.append({"type": kind, "path": ["sys", "tags"], "values": sorted(set(tags))})
            if kind == "AddStrings":  # as the reader gives the tags added among init_run's arguments
                self.init_run.setdefault("tags", []).extend(sorted(set(tags)))

    def add_tags(self, tags, group_tags=False) -> None:
        self._tags("AddStrings", tags)

    def remove_tags(self, tags, group_tags=False) -> None:
        self._tags("RemoveStrings", tags)

    def assign_files(self, files: dict) -> None:
        if not isinstance(files, dict):
            raise TypeError(f"files must be a dict (was {type(files)})")
        if not self._active("assign_files"):
            return
        kept = []
        for key, source in files.items():
            if isinstance(source, bytes):
                mime = "image/png" if source.startswith(PNG_SIGNATURE) else DEFAULT_MIME_TYPE
                name = hashlib.sha256(source).hexdigest()[:16] + (".png" if mime == "image/png" else "")
                content = {"image": image_digest(source)} if mime == "image/png" else _digest(source)
                op = {"type": "UploadFile", "path": key.split("/"), "ext": Path(name).suffix.lstrip(".")}
                kept.append({**op, "mime_type": mime, "file_path": str(self.folder / name), "content": content})
            elif isinstance(source, (str, Path)):
                path = Path(source)
                if not path.exists():
                    logger.warning(f"Skipping file attribute `{key}`: [Errno 2] No such file or directory: '{source}'")
                    continue
                op = {"type": "UploadFile", "path": key.split("/"), "ext": path.suffix.lstrip(".")}
                kept.append({**op, "mime_type": _mime_of_path(path), "file_path": str(path.absolute())})
                kept[-1]["content"] = file_digest(str(path))
            else:
                logger.warning(f"Skipping file attribute `{key}`: Unsupported type {type(source)}")
        self.operations.extend(sorted(kept, key=lambda op: op["path"]))

    def close(self, timeout=None) -> None:
        self.closed = True
        self.close_timeout = timeout

    def terminate(self) -> None:
        self.closed = True

    def wait_for_submission(self, timeout=None, verbose=True) -> bool:
        return True

    def wait_for_processing(self, timeout=None, verbose=True) -> bool:
        return True


def _digest(data: bytes) -> dict:
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _flatten(data: Mapping, prefix: str = "") -> dict:
    flat = {}
    for key, value in data.items():
        name = f"{prefix}/{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            flat.update(_flatten(value, name))
        else:
            flat[name] = value
    return flat


class FakeScale:
    """The fake ``neptune_scale`` package: ``install()`` puts it in ``sys.modules``; ``runs`` holds every run."""

    def __init__(self):
        self.runs: list = []
        fake = self

        class _Run(Run):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                fake.runs.append(self)

        self.module = types.ModuleType("neptune_scale")
        self.module.Run = _Run
        self.module.__version__ = CLIENT_VERSION

    @property
    def last_run(self) -> Run | None:
        return self.runs[-1] if self.runs else None

    def install(self):
        """Take ``neptune_scale`` in ``sys.modules``; return what was there (for ``uninstall``)."""
        previous = sys.modules.get("neptune_scale")
        sys.modules["neptune_scale"] = self.module
        return previous

    @staticmethod
    def uninstall(previous) -> None:
        if previous is None:
            sys.modules.pop("neptune_scale", None)
        else:
            sys.modules["neptune_scale"] = previous
