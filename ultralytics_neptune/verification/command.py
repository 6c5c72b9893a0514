"""``ultralytics-neptune parity``: replay the bundled recordings against the installed Ultralytics and report.

For every bundled recording (a real tiny training of one task on one Ultralytics release: detect, segment, pose,
classify or obb) two checks can run:

- golden: our callbacks, behaving as that recording's release, against the trace the real upstream module of that
  release produced on it (8.4.131's module for releases that have none);
- live: where the installed Ultralytics still ships its own Neptune callback, our callbacks behaving as the
  installed release against that module, both replaying the recording.

The table shows one row per check, so per release and task, with the first difference; ``--task`` narrows it to
some tasks. The exit code is 1 when any check differs or fails.

``--live`` trains instead (``ultralytics_neptune.verification.live``): a row per task, the same table and exit codes.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

PASS, FAIL, ERROR = "pass", "FAIL", "ERROR"
HELP = "check that Neptune logging matches the upstream callback on the installed Ultralytics"
DESCRIPTION = (
    "Replay the bundled recordings of real trainings (every release of the matrix, each task: detect, segment, pose, "
    "classify, obb) through our callbacks and compare what reaches Neptune with the golden traces of the upstream "
    "callback and, where the installed Ultralytics still ships it, with the live upstream callback. Prints a table "
    "with a row per check and the first difference of each; exits 1 on any difference, 2 on a bad argument. With "
    "--live, trains each task for real on the installed Ultralytics instead and checks what reached an offline "
    "Neptune run against the files the trainer wrote (results.csv, args.yaml, plots, best.pt)."
)


class UnknownRecordingError(ValueError):
    """A recording name that is not bundled; the message lists the bundled ones."""


@dataclass
class Check:
    """One comparison of our trace with a reference trace, on one recording."""

    recording: str
    task: str
    version: str  # the Ultralytics release our module behaved as
    reference: str
    status: str = PASS
    differences: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def first_difference(self) -> str:
        if not self.differences:
            return ""
        more = len(self.differences) - 1
        return self.differences[0] + (f" (+{more} more)" if more else "")


def describe_era(version: str) -> str:
    """What the callback of a release does differently, e.g. '"YOLOv8", fixed plot list'.

    Trainer behaviour (which plots exist, the final evaluation's step) comes with each recording, not the release.
    """
    from ultralytics_neptune.releases import era_of, has_upstream_module

    era = era_of(version)
    plots = "fixed plot list" if era.plots == "fixed" else "trainer plots"
    upstream = "" if has_upstream_module(version) else ", no upstream module"
    return f'"{era.default_name}", {plots}{upstream}'


def _run_check(check: Check, compare) -> Check:
    try:
        result = compare()
    except Exception as error:  # a replay that crashes is a failed check, reported like a difference
        check.status, check.differences = ERROR, [f"{type(error).__name__}: {error}"]
        return check
    check.status = PASS if result.passed else FAIL
    check.differences, check.notes = list(result.differences), list(result.notes)
    return check


def golden_check(recording, workdir: Path, other_matplotlib: bool = False) -> Check:
    """Our module as the recording's release against the recording's golden trace."""
    from ultralytics_neptune.verification import parity

    reference = f"golden (upstream {parity.golden_source(recording)})"
    check = Check(recording.name, recording.task, recording.ultralytics_version, reference)

    def compare():
        return parity.check_against_golden(recording, workdir, allow_other_matplotlib=other_matplotlib)

    return _run_check(check, compare)


def live_check(recording, workdir: Path, other_matplotlib: bool = False) -> Check:
    """Our module as the installed release against the installed upstream module, on the recording."""
    from ultralytics_neptune.verification import parity

    installed = parity.installed_ultralytics()
    check = Check(recording.name, recording.task, installed, f"live upstream {installed}")

    def compare():
        reference = parity.upstream_trace(recording, workdir)
        ours = parity.our_trace(recording, workdir, version=installed)
        return parity.compare(reference, ours, recording.name, check.reference, allow_other_matplotlib=other_matplotlib)

    return _run_check(check, compare)


def run_checks(
    names: list | None = None, live: bool = True, tasks: list | None = None, other_matplotlib: bool = False
) -> list:
    """Run the golden check of every bundled recording (or those named, or those of the tasks given), and the live
    ones where upstream exists.

    Each check replays into its own temporary folder, deleted when it ends (a replay writes tens of MB of images).
    """
    from ultralytics_neptune.verification.parity import upstream_module_path
    from ultralytics_neptune.verification.recording import Recording, bundled_recordings

    recordings = bundled_recordings()
    unknown = [name for name in names or [] if name not in recordings]
    if unknown:
        raise UnknownRecordingError(f"no bundled recording {', '.join(unknown)}; there are: {', '.join(recordings)}")
    kinds = [golden_check, live_check] if live and upstream_module_path() is not None else [golden_check]
    checks = []
    for name in names or recordings:
        recording = Recording.load(recordings[name])
        if tasks and recording.task not in tasks:
            continue
        for check in kinds:
            with tempfile.TemporaryDirectory(prefix="ultralytics-neptune-parity-") as workdir:
                checks.append(check(recording, Path(workdir), other_matplotlib))
    return checks


def format_table(checks: list) -> str:
    """The checks as a table: recording, task, release our module behaved as, its era, reference, result, first
    difference."""
    header = ("recording", "task", "as release", "era of that release", "reference", "result", "first difference")
    rows = [
        (c.recording, c.task, c.version, describe_era(c.version), c.reference, c.status, c.first_difference)
        for c in checks
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in [header, *rows]]
    lines.insert(1, "-" * sum(widths[:-1], 2 * (len(widths) - 1) + len(header[-1])))
    return "\n".join(lines)


def print_checks(checks: list, out, verbose: bool, heading) -> None:
    """The table of checks, then (verbose) each failed check's differences under heading(check)."""
    print(file=out)
    print(format_table(checks), file=out)
    for check in checks:
        if check.status != PASS and verbose:
            print(f"\n{heading(check)}:", file=out)
            print("\n".join(f"  {line}" for line in check.differences), file=out)


def summary(checks: list) -> str:
    passed = sum(check.status == PASS for check in checks)
    return f"parity: {passed} passed, {len(checks) - passed} failed"


def run_parity(
    names: list | None = None,
    live: bool = True,
    verbose: bool = False,
    out=None,
    tasks: list | None = None,
    other_matplotlib: bool = False,
) -> int:
    """Print the parity table for the installed Ultralytics; return 0 when every check passed, else 1."""
    import sys

    from ultralytics_neptune.synthetic import apply_offline_environment

    out = out or sys.stdout
    if "ultralytics" not in sys.modules:  # a fresh process: no network, and the user's settings stay untouched
        settings = tempfile.mkdtemp(prefix="ultralytics-neptune-parity-settings-")
        atexit.register(shutil.rmtree, settings, ignore_errors=True)
        apply_offline_environment(settings)
        os.environ["YOLO_VERBOSE"] = "False"  # no "Creating new Ultralytics Settings" lines above the table
    from ultralytics_neptune.verification.parity import installed_ultralytics, upstream_module_path

    installed = installed_ultralytics()
    has_upstream = upstream_module_path() is not None
    reference = (
        "its own Neptune callback and the golden traces"
        if has_upstream
        else "the golden traces (it has no Neptune callback of its own)"
    )
    print(f"Ultralytics {installed} installed ({describe_era(installed)}); references: {reference}", file=out)
    checks = run_checks(names, live=live, tasks=tasks, other_matplotlib=other_matplotlib)
    print_checks(checks, out, verbose, lambda check: f"{check.recording} against {check.reference}")
    notes = sorted({note for check in checks for note in check.notes})
    if notes:
        print("\n" + "\n".join(f"note: {note}" for note in notes), file=out)
    print(f"\n{summary(checks)}", file=out)
    return 0 if all(check.status == PASS for check in checks) else 1


def add_arguments(parser) -> None:
    from ultralytics_neptune.synthetic import TASKS

    parser.add_argument(
        "recordings",
        nargs="*",
        help="bundled recordings to replay (default: all), e.g. ultralytics-8.4.131 (detect), ultralytics-8.4.131-pose",
    )
    parser.add_argument(
        "--task", action="append", choices=TASKS, help="only the recordings of this task (repeat for more)"
    )
    parser.add_argument("--golden-only", action="store_true", help="skip the live upstream module even if installed")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every difference of a failed check")
    parser.add_argument(
        "--other-matplotlib",
        action="store_true",
        help="where matplotlib is not the release the golden traces were drawn with, compare re-drawn plots by size "
        "only (by default that is a difference)",
    )
    parser.add_argument(
        "--live",
        action="store_true",
        help="train each task for real on the installed Ultralytics (about 20 s a task) and check what reached an "
        "offline Neptune run against the files the trainer wrote",
    )
    parser.add_argument("--extended", action="store_true", help="with --live: check extended mode too")


def run(args) -> int:
    import sys

    if args.live or args.extended:
        return run_live_command(args)
    try:
        return run_parity(
            args.recordings or None,
            live=not args.golden_only,
            verbose=args.verbose,
            tasks=args.task,
            other_matplotlib=args.other_matplotlib,
        )
    except UnknownRecordingError as error:
        print(f"ultralytics-neptune parity: {error}", file=sys.stderr)
        return 2


def run_live_command(args) -> int:
    """``parity --live``: real trainings, checked by ``ultralytics_neptune.verification.live``; 2 on a bad argument."""
    import sys

    problem = (
        "--extended needs --live"
        if not args.live
        else "--live trains on the installed release; it takes no recording names"
        if args.recordings
        else "--live and --golden-only do not go together"
        if args.golden_only
        else None
    )
    if problem:
        print(f"ultralytics-neptune parity: {problem}", file=sys.stderr)
        return 2
    if "ultralytics" not in sys.modules:  # a fresh process: no network, and the user's settings stay untouched
        settings = tempfile.mkdtemp(prefix="ultralytics-neptune-parity-settings-")
        atexit.register(shutil.rmtree, settings, ignore_errors=True)
        from ultralytics_neptune.synthetic import apply_offline_environment

        apply_offline_environment(settings)
        os.environ["YOLO_VERBOSE"] = "False"
    from ultralytics_neptune.verification.live import run_live

    return run_live(tasks=args.task, extended=args.extended, verbose=args.verbose)
