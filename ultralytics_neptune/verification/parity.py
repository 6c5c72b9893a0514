"""The parity check: replay a recording through a callback module against the fake client, and compare what our
module logs with what the upstream module logs (live where Ultralytics still ships it, else its golden trace).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ultralytics_neptune.composed import ParityLogger
from ultralytics_neptune.extended import ExtendedLogger
from ultralytics_neptune.releases import LAST_UPSTREAM, has_upstream_module, parse_version
from ultralytics_neptune.trace import Trace, diff_traces
from ultralytics_neptune.verification.fake import FakeNeptune
from ultralytics_neptune.verification.recording import (
    Recording,
    boundary_golden_path,
    golden_trace_path,
)
from ultralytics_neptune.verification.replay import replay
from ultralytics_neptune.verification.upstream import (
    _load_copy,
    _open_upstream_gates,
    load_upstream_module,
    upstream_module_path,
)

RELEASED_MODULE = "ultralytics/utils/callbacks/neptune.py"  # in every wheel from 8.0.136 to 8.4.131


@contextmanager
def fake_client(fake: FakeNeptune | None = None):
    """Install a fake ``neptune`` in sys.modules (offline mode unless NEPTUNE_MODE says otherwise)."""
    fake = fake or FakeNeptune()
    previous = fake.install()
    saved_mode = os.environ.get("NEPTUNE_MODE")
    os.environ.setdefault("NEPTUNE_MODE", "offline")
    try:
        yield fake
    finally:
        FakeNeptune.uninstall(previous)
        if saved_mode is None:
            os.environ.pop("NEPTUNE_MODE", None)


def installed_ultralytics() -> str:
    import ultralytics

    return ultralytics.__version__


def _matplotlib_version() -> str | None:
    try:
        import matplotlib
    except ImportError:
        return None
    return matplotlib.__version__


def trace_of(fake: FakeNeptune, save_dir: Path, **meta) -> Trace:
    """The trace of the run a replay started (empty when none started); meta records how many started."""
    meta = {**meta, "runs": len(fake.runs), "matplotlib": _matplotlib_version()}
    if not fake.runs:
        return Trace(init_run={}, operations=[], meta=meta)
    return Trace.from_run(fake.last_run, save_dir, **meta)


def replay_trace(recording: Recording, make_callbacks, workdir: Path | str, *, label: str = "") -> Trace:
    """Replay a recording through the callbacks ``make_callbacks()`` returns, made once the fake client is installed;
    return what its run received."""
    Path(workdir).mkdir(parents=True, exist_ok=True)
    save_dir = Path(tempfile.mkdtemp(prefix=f"{label or 'replay'}-", dir=workdir)) / "save_dir"
    with fake_client() as fake, closing_new_figures():
        replay(recording, make_callbacks(), save_dir)
        for run in fake.runs:
            run.stop()
    return trace_of(fake, save_dir, recording=recording.name, module=label)


@contextmanager
def closing_new_figures():
    """Close the matplotlib figures opened inside (upstream and parity mode leave theirs open)."""
    import matplotlib.pyplot as plt

    before = set(plt.get_fignums())
    try:
        yield
    finally:
        for number in set(plt.get_fignums()) - before:
            plt.close(number)


def parity_logger(release: str) -> ParityLogger:
    """Parity mode as a registration makes it, behaving as the callback of a release (tests change its module)."""
    return ParityLogger(release=release)


def parity_callbacks(release: str) -> dict:
    """Our callbacks in parity mode as a registration makes them, behaving as the callback of a release."""
    return parity_logger(release).callbacks()


def extended_callbacks(release: str) -> dict:
    """Our callbacks in extended mode as a registration makes them, on the parity of a release."""
    return ExtendedLogger(release=release).callbacks()


def our_trace(recording: Recording, workdir: Path | str, version: str | None = None, extended: bool = False) -> Trace:
    """What our callbacks log on a recording, in parity mode or extended mode, as the recording's release (or
    ``version``)."""
    release = version or recording.ultralytics_version
    label, make = ("extended", extended_callbacks) if extended else ("ours", parity_callbacks)
    return replay_trace(recording, lambda: make(release), workdir, label=label)


def upstream_trace(recording: Recording, workdir: Path | str) -> Trace:
    """The trace of the installed upstream module (raise LookupError where there is none)."""
    if upstream_module_path() is None:
        raise LookupError(f"Ultralytics {installed_ultralytics()} has no Neptune callback of its own")
    trace = replay_trace(recording, lambda: load_upstream_module().callbacks, workdir, label="upstream")
    trace.meta["upstream"] = installed_ultralytics()
    return trace


def released_module_path(version: str, folder: Path | str) -> Path:
    """The Neptune callback file of an Ultralytics release, taken from the release's wheel on the package index
    (``pip download --no-deps``) into folder, once; nothing of it is kept in this project."""
    target = Path(folder) / f"neptune-{version}.py"
    if not target.exists():
        Path(folder).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as wheels:
            command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
            subprocess.run([*command, f"ultralytics=={version}", "-d", wheels], check=True)
            [wheel] = Path(wheels).glob("ultralytics-*.whl")
            with zipfile.ZipFile(wheel) as archive:
                target.write_bytes(archive.read(RELEASED_MODULE))
    return target


def released_callbacks(version: str, module_path: Path | str) -> dict:
    """A fresh copy of a release's upstream module file (``released_module_path``) loaded with its gates open, as the
    installed upstream module is, in whatever Ultralytics is installed (the module reads only its logger, settings and
    ``model_info_for_loggers`` from it; a replay answers the last from the recording): its callbacks. Load it once the
    fake client is installed."""
    with _open_upstream_gates():
        module = _load_copy(Path(module_path), "released")
    if not module.callbacks:
        raise RuntimeError(f"the Neptune callback of Ultralytics {version} stayed disabled")
    return module.callbacks


def released_trace(recording: Recording, version: str, module_path: Path | str, workdir: Path | str) -> Trace:
    """The trace of a release's upstream module file on a recording (see ``released_callbacks``)."""
    trace = replay_trace(recording, lambda: released_callbacks(version, module_path), workdir, label="upstream")
    trace.meta["upstream"] = version
    return trace


def load_boundary_golden(recording: Recording, release: str) -> Trace:
    """The stored trace of release's upstream module on a recording of the release before its era boundary."""
    return Trace.load(boundary_golden_path(recording.name, release))


def golden_source(recording: Recording) -> str:
    """The release whose upstream module made this recording's golden trace."""
    version = recording.ultralytics_version
    return version if has_upstream_module(version) else LAST_UPSTREAM


def load_golden(recording: Recording) -> Trace:
    path = golden_trace_path(recording.name)
    if not path.exists():
        raise FileNotFoundError(f"no golden trace for {recording.name} at {path}")
    return Trace.load(path)


@dataclass
class ParityResult:
    """The outcome of comparing our trace with one reference trace."""

    recording: str
    reference: str  # e.g. "live upstream 8.4.131" or "golden trace (upstream 8.4.131)"
    differences: list
    notes: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.differences


def compare(
    reference: Trace, ours: Trace, recording: str, reference_name: str, *, allow_other_matplotlib: bool = False
) -> ParityResult:
    """Compare two traces, figure pixels included. Traces drawn by different matplotlib releases cannot have equal
    pixels: that is a difference unless the caller asks for the weaker check, ``allow_other_matplotlib=True``, which
    compares the figures' sizes only and says so in the notes."""
    notes, differences = [], []
    drawn_by = reference.meta.get("matplotlib"), ours.meta.get("matplotlib")
    if drawn_by[0] != drawn_by[1]:
        said = f"the reference was drawn with matplotlib {drawn_by[0]}, this replay with {drawn_by[1]}"
        if allow_other_matplotlib:
            reference, ours = without_pixels(reference), without_pixels(ours)
            notes.append(f"figure pixels not compared: {said} (sizes still are)")
        else:
            differences.append(
                f"figure pixels cannot be compared: {said} (install matplotlib {drawn_by[0]}, or ask for the weaker "
                "check, allow_other_matplotlib=True, which compares figure sizes only)"
            )
    differences += diff_traces(reference, ours)
    if reference.meta.get("runs") != ours.meta.get("runs"):
        differences.insert(0, f"runs started: expected {reference.meta.get('runs')}, got {ours.meta.get('runs')}")
    return ParityResult(recording, reference_name, differences, notes)


def without_pixels(trace: Trace) -> Trace:
    """The trace with figure pixel digests removed (their sizes stay)."""
    operations = []
    for op in trace.operations:
        image = op.get("content", {}).get("image")
        if image:
            op = {**op, "content": {"image": {k: v for k, v in image.items() if k != "pixels_sha256"}}}
        operations.append(op)
    return Trace(trace.init_run, operations, dict(trace.meta))


def check_against_upstream(
    recording: Recording, workdir: Path | str, *, allow_other_matplotlib: bool = False
) -> ParityResult:
    """Our module against the installed upstream module, on a recording (both drawn by one matplotlib)."""
    reference = upstream_trace(recording, workdir)
    name = f"live upstream {installed_ultralytics()}"
    ours = our_trace(recording, workdir)
    return compare(reference, ours, recording.name, name, allow_other_matplotlib=allow_other_matplotlib)


def check_against_golden(
    recording: Recording, workdir: Path | str, *, allow_other_matplotlib: bool = False
) -> ParityResult:
    """Our module against the stored trace of the upstream module that logged this recording's release (pixels are
    compared: see ``compare`` for ``allow_other_matplotlib``)."""
    reference = load_golden(recording)
    name = f"golden trace (upstream {reference.meta.get('upstream')})"
    ours = our_trace(recording, workdir)
    return compare(reference, ours, recording.name, name, allow_other_matplotlib=allow_other_matplotlib)


def upstream_applies(recording: Recording) -> bool:
    """Whether the installed upstream module is the reference for this recording (same release, or the last one)."""
    installed = upstream_module_path() is not None and installed_ultralytics()
    return bool(installed) and parse_version(installed) == parse_version(golden_source(recording))
