"""Regenerate golden traces: run the installed Ultralytics' own Neptune callback on bundled recordings.

    python -m ultralytics_neptune.verification.golden [NAME ...]
    python -m ultralytics_neptune.verification.golden --boundaries

Run it in an environment with the Ultralytics release that logged the recording (or 8.4.131, the last release
with the callback, for recordings of later releases). Recordings that need another release are listed, not
touched. ``--boundaries`` writes the era-boundary golden traces instead: the recordings (every task) of the last
release before each boundary of the module (``recording.MODULE_BOUNDARIES``), replayed through the Neptune callback file
of the first release after it, taken from that release's wheel on the package index (run it where 8.4.131 is
installed: its settings still know the "neptune" key the old modules read).
"""

from __future__ import annotations

import argparse
import sys
import tempfile

from ultralytics_neptune.synthetic import apply_offline_environment
from ultralytics_neptune.verification.parity import (
    golden_source,
    installed_ultralytics,
    released_module_path,
    released_trace,
    upstream_applies,
    upstream_trace,
)
from ultralytics_neptune.verification.recording import (
    MODULE_BOUNDARIES,
    Recording,
    boundary_golden_path,
    bundled_recordings,
    golden_trace_path,
    load_bundled,
    recording_name,
)


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="recordings to regenerate (default: every one this release can)")
    parser.add_argument("--boundaries", action="store_true", help="write the era-boundary golden traces instead")
    args = parser.parse_args(argv)
    apply_offline_environment(tempfile.mkdtemp(prefix="ultralytics-neptune-golden-"))
    if args.boundaries:
        return write_boundary_goldens()
    recordings = bundled_recordings()
    unknown = sorted(set(args.names) - set(recordings))
    if unknown:
        parser.error(f"no bundled recording {', '.join(unknown)}; there are: {', '.join(recordings)}")
    written = 0
    for name in args.names or recordings:
        recording = Recording.load(recordings[name])
        if not upstream_applies(recording):
            print(
                f"skipped {name}: needs the upstream module of {golden_source(recording)}, "
                f"this environment has Ultralytics {installed_ultralytics()}"
            )
            continue
        with tempfile.TemporaryDirectory() as workdir:
            trace = upstream_trace(recording, workdir)
        trace.meta.pop("module", None)
        trace.save(golden_trace_path(name))
        written += 1
        print(f"wrote {golden_trace_path(name)} ({len(trace.operations)} operations)")
    return 0 if written or not args.names else 1


def write_boundary_goldens() -> int:
    """Write the trace of the first release after each module era boundary on every recording of the last before."""
    from ultralytics_neptune.synthetic import TASKS

    with tempfile.TemporaryDirectory() as workdir:
        for before, after in MODULE_BOUNDARIES:
            module = released_module_path(after, workdir)
            for task in TASKS:
                recording = load_bundled(recording_name(before, task))
                trace = released_trace(recording, after, module, workdir)
                trace.meta.pop("module", None)
                path = boundary_golden_path(recording.name, after)
                trace.save(path)
                print(f"wrote {path} ({len(trace.operations)} operations)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
