"""The ``ultralytics-neptune`` command (also ``python -m ultralytics_neptune``).

Each command is a module with ``HELP``, ``DESCRIPTION``, ``add_arguments(parser)`` and ``run(args) -> exit code``.
The product's commands are listed here; other packages, the verification subpackage among them, add theirs through
the ``ultralytics_neptune.commands`` entry point group, so this front end never imports them until one is run.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from importlib import metadata
from pathlib import Path

COMMANDS = {
    "demo": "ultralytics_neptune.demo",
    "status": "ultralytics_neptune.status",
    "enable": "ultralytics_neptune.status:ENABLE",
    "disable": "ultralytics_neptune.status:DISABLE",
    "upstream": "ultralytics_neptune.upstream",
    "report": "ultralytics_neptune.report",
    "export": "ultralytics_neptune.export",
}
ENTRY_POINT_GROUP = "ultralytics_neptune.commands"


def add_run_selection(parser: argparse.ArgumentParser) -> None:
    """The arguments that choose offline runs, the same for every command that reads them: PATH ... and --last."""
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        default=[Path(".")],
        metavar="PATH",
        help="a folder holding .neptune, a .neptune folder or a run folder (default: .)",
    )
    parser.add_argument("--last", type=_positive, metavar="N", help="only the newest N runs")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def _load(target: str):
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute) if attribute else module


def commands(wanted: str | None = None) -> dict:
    """{name: command} of the product's commands and those other installed packages add (only ``wanted``, if it is
    one of the product's: running ``status`` loads no other package's command)."""
    if wanted in COMMANDS:
        return {wanted: _load(COMMANDS[wanted])}
    found = {name: _load(target) for name, target in COMMANDS.items()}
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(entry_point.name, entry_point.load())
    return found


def build_parser(wanted: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ultralytics-neptune",
        description="Neptune logging for Ultralytics YOLO, as the removed built-in callback did it.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in commands(wanted).items():
        subparser = subparsers.add_parser(name, help=command.HELP, description=command.DESCRIPTION)
        command.add_arguments(subparser)
        subparser.set_defaults(handler=command.run)
    return parser


def main(argv: list | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv[0] if argv else None).parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
