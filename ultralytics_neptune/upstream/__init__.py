"""The ``upstream`` command: write our Neptune callback into an Ultralytics source tree, as a contribution to it.

``ultralytics-neptune upstream DIR`` prints every change as one unified diff, then writes them; ``--check`` prints
the diff and writes nothing; ``--pr-body FILE`` also writes the pull request's description to FILE. DIR is the folder
that holds the ``ultralytics`` package (a git checkout or an unpacked wheel) of release 8.4.132 or later. The changes:
``ultralytics/utils/callbacks/neptune.py`` (our module under Ultralytics' header), a ``"neptune"`` settings key
defaulting to off with the settings schema version bumped, its entry in ``add_integration_callbacks``, the test file
``tests/test_neptune.py``, upstream's settings test, and the docs: the Neptune page, its nav entry, the integrations
index and the quickstart settings table. What the tree has no file for is listed on stderr. A tree that cannot take the
code is refused with one message and exit code 2, and nothing is written.
"""

from __future__ import annotations

import argparse
import sys

HELP = "write the Neptune callback into an Ultralytics source tree (a contribution to Ultralytics)"
DESCRIPTION = (
    "Write our Neptune callback into the Ultralytics source tree in DIR (a git checkout or an unpacked wheel of "
    "Ultralytics 8.4.132 or later): the module ultralytics/utils/callbacks/neptune.py, a 'neptune' settings key "
    "(off by default; turn it on with `yolo settings neptune=True`) with the settings schema version bumped, its entry "
    "in add_integration_callbacks, the test file tests/test_neptune.py, upstream's settings test, and the docs (the "
    "Neptune page, mkdocs.yml nav, integrations index, quickstart settings table) where the tree has them. The changes "
    "are printed as one unified diff before they are written."
)
REFUSED = 2  # exit code of a tree that cannot take the contribution


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments to parser."""
    parser.add_argument("directory", metavar="DIR", help="the folder that holds the ultralytics package")
    parser.add_argument("--check", action="store_true", help="print the diff and write nothing in DIR")
    parser.add_argument("--pr-body", metavar="FILE", help="also write the pull request's description to FILE")


def run(args: argparse.Namespace) -> int:
    """Run the command; return its exit code."""
    from pathlib import Path

    from ultralytics_neptune.upstream.contribution import Refusal, plan, unified_diff, write
    from ultralytics_neptune.upstream.pr_body import pr_body

    try:
        contribution = plan(args.directory)
    except Refusal as refusal:
        print(f"ultralytics-neptune upstream: refused: {refusal}", file=sys.stderr)
        return REFUSED
    changes = contribution.changes
    sys.stdout.write(unified_diff(changes))  # stdout holds the patch alone, so it can go to `git apply`
    sys.stdout.flush()
    for line in contribution.unwritten:
        print(f"ultralytics-neptune upstream: unwritten: {line}", file=sys.stderr)
    if args.pr_body:
        Path(args.pr_body).write_text(pr_body(contribution), encoding="utf-8")
        print(f"ultralytics-neptune upstream: wrote the pull request's description to {args.pr_body}", file=sys.stderr)
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
