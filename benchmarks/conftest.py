"""pytest set-up for the benchmark checks: every tracker offline, under a scratch folder (before any import of
Ultralytics)."""

import shutil
import tempfile
from pathlib import Path

from benchmarks.environment import prepare

SCRATCH = Path(tempfile.mkdtemp(prefix="ultralytics-neptune-bench-tests-"))
prepare(SCRATCH)


def pytest_sessionfinish(session, exitstatus) -> None:
    shutil.rmtree(SCRATCH, ignore_errors=True)
