"""Regenerate golden traces: run the installed Ultralytics' own Neptune callback on bundled recordings.

    python -m ultralytics_neptune.verification.golden [NAME ...]

Run it in an environment with the Ultralytics release that logged the recording (or 8.4.131, the last release
with the callback, for recordings of later releases). Recordings that need another release are listed, not
touched.
"""

from __future__ import annotations

import argparse
import sys
import tempfile

from ultralytics_neptune.synthetic import apply_offline_environment
from ultralytics_neptune.verification.parity import (
    golden_source,
    installed_ultralytics,
    upstream_applies,
    upstream_trace,
)
from ultralytics_neptune.verification.recording import Recording, bundled_recordings, golden_trace_path


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="recordings to regenerate (default: every one this release can)")
    args = parser.parse_args(argv)
    apply_offline_environment(tempfile.mkdtemp(prefix="ultralytics-neptune-golden-"))
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


if __name__ == "__main__":
    sys.exit(main())
