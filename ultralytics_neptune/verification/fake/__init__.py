"""A fake ``neptune`` 1.x client that keeps state and enforces the real client's rules, one concern a module:
``errors`` (what it raises and warns), ``run`` (fields, values and the operations recorded), ``module`` (the
``neptune`` package surface: ``init_run``, modes, tokens, fault injection, ``sys.modules``)."""

from ultralytics_neptune.verification.fake.errors import *  # noqa: F403
from ultralytics_neptune.verification.fake.errors import __all__ as _errors
from ultralytics_neptune.verification.fake.module import CLIENT_VERSION, FakeNeptune, Fault
from ultralytics_neptune.verification.fake.run import File, Handler, Run

__all__ = ["CLIENT_VERSION", "FakeNeptune", "Fault", "File", "Handler", "Run", *_errors]
