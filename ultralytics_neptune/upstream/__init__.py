"""The ``upstream`` command: write our Neptune callback into an Ultralytics source tree, as a contribution to it.

``ultralytics-neptune upstream DIR`` prints every change as one unified diff, then writes them; ``--check`` prints
the diff and writes nothing. DIR is the folder that holds the ``ultralytics`` package (a git checkout or an unpacked
wheel) of release 8.4.132 or later. The changes: ``ultralytics/utils/callbacks/neptune.py`` (our drop-in module under
Ultralytics' header), a ``"neptune"`` settings key defaulting to off, its entry in ``add_integration_callbacks``, the
docs page ``docs/en/integrations/neptune.md`` and the test file ``tests/test_neptune.py``. A tree that cannot take
them is refused with one message and exit code 2, and nothing is written.
"""

from __future__ import annotations

import argparse
import sys

HELP = "write the Neptune callback into an Ultralytics source tree (a contribution to Ultralytics)"
DESCRIPTION = (
    "Write our Neptune callback into the Ultralytics source tree in DIR (a git checkout or an unpacked wheel of "
    "Ultralytics 8.4.132 or later): the module ultralytics/utils/callbacks/neptune.py, a 'neptune' settings key "
    "(off by default; turn it on with `yolo settings neptune=True`), its entry in add_integration_callbacks, the docs "
    "page docs/en/integrations/neptune.md and the test file tests/test_neptune.py. The changes are printed as one "
    "unified diff before they are written."
)
REFUSED = 2  # exit code of a tree that cannot take the contribution


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", metavar="DIR", help="the folder that holds the ultralytics package")
    parser.add_argument("--check", action="store_true", help="print the diff and write nothing")


def run(args: argparse.Namespace) -> int:
    from ultralytics_neptune.upstream.contribution import Refusal, plan, unified_diff, write

    try:
        changes = plan(args.directory)
    except Refusal as refusal:
        print(f"ultralytics-neptune upstream: refused: {refusal}", file=sys.stderr)
        return REFUSED
    sys.stdout.write(unified_diff(changes))  # stdout holds the patch alone, so it can go to `git apply`
    sys.stdout.flush()
    if args.check:
        print(f"ultralytics-neptune upstream: --check, {len(changes)} files left unchanged", file=sys.stderr)
        return 0
    try:
        write(args.directory, changes)
    except OSError as error:  # every staged file was removed: the tree is as it was
        print(f"ultralytics-neptune upstream: nothing written: {error}", file=sys.stderr)
        return 1
    print(
        f"ultralytics-neptune upstream: wrote {len(changes)} files under {args.directory}; the callback is off until "
        "`yolo settings neptune=True`",
        file=sys.stderr,
    )
    return 0
