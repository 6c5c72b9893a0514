"""Replaying a recording through the Neptune 3.x adapter, with the real ``neptune-scale`` client offline or the fake
one, and reading back what it wrote: the actual side of the cross-client check (``tests/test_scale_cross_client.py``),
whose expected side is the 1.x parity trace and the README's mapping table.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ultralytics_neptune.composed import ParityLogger
from ultralytics_neptune.extended import ExtendedLogger
from ultralytics_neptune.offline_scale import read_scale_run, scale_run_folders
from ultralytics_neptune.scale import flush_after_events
from ultralytics_neptune.trace import Trace
from ultralytics_neptune.verification.parity import closing_new_figures
from ultralytics_neptune.verification.recording import Recording
from ultralytics_neptune.verification.replay import replay


def scale_callbacks(release: str, log_directory: Path, extended: bool = False) -> tuple:
    """(logger, callbacks) as a registration with ``client="scale"`` makes them, offline into log_directory."""
    kind = ExtendedLogger if extended else ParityLogger
    logger = kind(release=release, client="scale", mode="offline", log_directory=str(log_directory))
    return logger, flush_after_events(logger.callbacks(), lambda: logger.run)


def scale_replay(recording: Recording, workdir: Path | str, extended: bool = False) -> tuple:
    """Replay a recording through the 3.x adapter and the installed client, offline; return (trace of the SQLite
    file read back, with upload paths relative to the replay's save_dir, number of run folders written)."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="scale-", dir=workdir))
    save_dir, log_directory = root / "save_dir", root / "neptune-scale"
    logger, callbacks = scale_callbacks(recording.ultralytics_version, log_directory, extended)
    with closing_new_figures():
        replay(recording, callbacks, save_dir)
    run = getattr(logger, "run", None)
    if run is not None:  # a recording without teardown leaves its run open
        run.stop(seconds=10)
    folders = scale_run_folders(log_directory)
    if not folders:
        return Trace({}, [], {"runs": 0}), 0
    trace = read_scale_run(folders[-1]).trace.relative_to(save_dir)
    trace.meta["runs"] = len(folders)
    return trace, len(folders)
