"""The fake ``neptune`` package: ``init_run`` with the real client's argument and mode rules, a server that
resumes runs by custom id, fault injection, and the ``sys.modules`` entries it takes.

What it leaves out: the environment-specific operations the real client writes at start (``monitoring/*``,
``sys/hostname``, ``source_code/*``), timestamps, and console or hardware capture.
"""

from __future__ import annotations

import importlib.machinery
import os
import sys
import types
from dataclasses import dataclass

from ultralytics_neptune.client import CONNECTION_MODES, INIT_RUN_ARGUMENTS
from ultralytics_neptune.verification.fake import errors
from ultralytics_neptune.verification.fake.run import File, Run, _verify_type

CLIENT_VERSION = "1.14.0.post2"  # the release whose behaviour this fake reproduces


@dataclass
class Fault:
    """An error the fake raises instead of recording a matching operation, for fault-injection tests."""

    error: Exception
    operation: str = ""  # operation type to match, e.g. "UploadFile"; empty matches every type
    path: str = ""  # field path prefix to match, e.g. "weights"; empty matches every field
    times: int | None = None  # how many operations fail; None: all of them
    raised: int = 0

    def matches(self, operation: str, path: tuple) -> bool:
        joined = "/".join(path)
        return (
            (self.times is None or self.raised < self.times)
            and (not self.operation or self.operation == operation)
            and (not self.path or joined == self.path or joined.startswith(self.path.rstrip("/") + "/"))
        )


class FakeNeptune:
    """A fake ``neptune`` package: ``install()`` puts it in ``sys.modules``; ``runs`` holds every run started.

    In async and sync modes it plays the server too: ``init_run(custom_run_id=...)`` with an id seen before
    continues that run (as Neptune resumes a run by custom id); offline runs are always new, as on disk.
    """

    def __init__(self, api_tokens: tuple = ()):
        self.runs: list[Run] = []
        self.api_tokens = set(api_tokens)  # tokens the fake server accepts in async and sync modes
        self.init_run_error: Exception | None = None  # raised by the next init_run, to inject faults
        self.faults: list[Fault] = []
        self.module = self._build_module()

    def inject(self, error: Exception, operation: str = "", path: str = "", times: int | None = None) -> Fault:
        """Make matching operations raise error (all of them, or the first ``times``)."""
        fault = Fault(error, operation, path, times)
        self.faults.append(fault)
        return fault

    def _raise_injected_fault(self, operation: str, path: tuple) -> None:
        for fault in self.faults:
            if fault.matches(operation, path):
                fault.raised += 1
                raise fault.error

    @property
    def last_run(self) -> Run | None:
        return self.runs[-1] if self.runs else None

    def init_run(self, with_id=None, **kwargs) -> Run:
        """``neptune.init_run``: validate arguments as the real client does and start a recording run."""
        unknown = [key for key in kwargs if key not in INIT_RUN_ARGUMENTS]
        if unknown:
            raise TypeError(f"Run() got an unexpected keyword argument '{unknown[0]}'")
        for name in ("project", "api_token", "custom_run_id", "mode", "name", "description", "monitoring_namespace"):
            _verify_type(name, kwargs.get(name), (str, type(None)))
        _verify_type("with_id", with_id, (str, type(None)))
        for name in ("capture_stdout", "capture_stderr", "capture_hardware_metrics"):
            _verify_type(name, kwargs.get(name), (bool, type(None)))
        tags = kwargs.get("tags")
        tags = [tags] if isinstance(tags, str) else list(tags or [])
        for tag in tags:
            if not isinstance(tag, str):
                raise TypeError(f"elements of collection 'tags' must be a str (was {type(tag)})")
        mode = kwargs.get("mode") or os.environ.get("NEPTUNE_MODE") or "async"
        if mode not in CONNECTION_MODES:
            raise ValueError(f"'{mode}' is not a valid Mode")
        if self.init_run_error is not None:
            error, self.init_run_error = self.init_run_error, None
            raise error
        if mode in ("async", "sync", "read-only"):
            token = kwargs.get("api_token") or os.environ.get("NEPTUNE_API_TOKEN")
            if not token:
                raise errors.NeptuneMissingApiTokenException("Neptune API token is missing")
            if token not in self.api_tokens:
                raise errors.NeptuneInvalidApiTokenException("The provided API token is invalid")
            if not (kwargs.get("project") or os.environ.get("NEPTUNE_PROJECT")):
                raise errors.NeptuneMissingProjectNameException("Neptune project name is missing")
        custom_run_id = kwargs.get("custom_run_id") or os.environ.get("NEPTUNE_CUSTOM_RUN_ID")
        continues = None
        if custom_run_id and mode in ("async", "sync"):
            continues = next((r for r in reversed(self.runs) if r.custom_run_id == custom_run_id), None)
        run = Run(self, {"with_id": with_id, **kwargs} if with_id else dict(kwargs), mode, continues)
        run.custom_run_id = custom_run_id
        self.runs.append(run)
        if continues is None:
            run._assign(("sys", "name"), kwargs.get("name") or "Untitled")
            run._assign(("sys", "description"), kwargs.get("description") or "")
            run._assign(("sys", "failed"), False)
        if tags:
            run._add_strings(("sys", "tags"), tags)
        return run

    def _build_module(self) -> types.ModuleType:
        module = types.ModuleType("neptune", "A fake neptune client (ultralytics_neptune.verification.fake).")
        module.__spec__ = importlib.machinery.ModuleSpec("neptune", loader=None)
        module.__version__ = CLIENT_VERSION
        module.init_run = self.init_run
        module.Run = Run
        module.fake = self
        module.types = types.ModuleType("neptune.types")
        module.types.__spec__ = importlib.machinery.ModuleSpec("neptune.types", loader=None)
        module.types.File = File
        module.exceptions = types.ModuleType("neptune.exceptions")
        module.exceptions.__spec__ = importlib.machinery.ModuleSpec("neptune.exceptions", loader=None)
        for name in errors.__all__:
            setattr(module.exceptions, name, getattr(errors, name))
        return module

    def modules(self) -> dict:
        """The entries this fake takes in ``sys.modules``."""
        return {
            "neptune": self.module,
            "neptune.types": self.module.types,
            "neptune.exceptions": self.module.exceptions,
        }

    def install(self) -> dict:
        """Put the fake in ``sys.modules``; return what was there before, for ``uninstall``."""
        previous = {name: sys.modules.get(name) for name in self.modules()}
        sys.modules.update(self.modules())
        return previous

    @staticmethod
    def uninstall(previous: dict) -> None:
        """Restore the ``sys.modules`` entries that ``install`` replaced."""
        for name, module in previous.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
