"""The ``ultralytics-neptune`` command (also ``python -m ultralytics_neptune``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ultralytics_neptune.client import CONNECTION_MODES


def _demo(args: argparse.Namespace) -> int:
    from ultralytics_neptune.demo import run_demo

    return run_demo(args.out, epochs=args.epochs, imgsz=args.imgsz, mode=args.mode, extended=args.extended)


def _parity(args: argparse.Namespace) -> int:
    from ultralytics_neptune.parity_report import UnknownRecordingError, run_parity

    try:
        return run_parity(args.recordings or None, live=not args.golden_only, verbose=args.verbose)
    except UnknownRecordingError as error:
        print(f"ultralytics-neptune parity: {error}", file=sys.stderr)
        return 2


def _enable(args: argparse.Namespace) -> int:
    from ultralytics_neptune.switch import hook_installed, save_settings

    path = save_settings(enabled=True, extended=args.extended)
    mode = "extended" if args.extended else "parity"
    print(f"automatic registration on ({mode} mode): every Ultralytics trainer will log to Neptune; saved in {path}")
    if hook_installed() is None:
        print("warning: the start-up hook is not installed in this environment (an editable install has none);")
        print("         reinstall with `pip install ultralytics-neptune` for automatic registration to work here")
    return 0


def _disable(args: argparse.Namespace) -> int:
    from ultralytics_neptune.switch import save_settings

    path = save_settings(enabled=False)
    print(f"automatic registration off; saved in {path}")
    return 0


def _status(args: argparse.Namespace) -> int:
    from ultralytics_neptune.switch import format_status, status

    print(format_status(status()))
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ultralytics-neptune",
        description="Neptune logging for Ultralytics YOLO, as the removed built-in callback did it.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="train a tiny YOLO model on CPU, log it to Neptune and show what was logged",
        description="Train yolov8n.yaml from scratch on a generated dataset (CPU, no network), log the run to "
        "Neptune with the parity callbacks, then print what the run holds and where it lies.",
    )
    demo.add_argument("--epochs", type=_positive, default=3, help="epochs to train (default: 3)")
    demo.add_argument("--imgsz", type=_positive, default=64, help="image size (default: 64)")
    demo.add_argument("--out", type=Path, default=Path("ultralytics-neptune-demo"), help="output folder")
    demo.add_argument(
        "--mode",
        choices=[mode for mode in CONNECTION_MODES if mode in ("offline", "async", "debug")],
        default="offline",
        help="Neptune connection mode (default: offline, which needs no account)",
    )
    demo.add_argument("--extended", action="store_true", help="log in extended mode (plots as files, and more)")
    demo.set_defaults(handler=_demo)
    parity = commands.add_parser(
        "parity",
        help="check that Neptune logging matches the upstream callback on the installed Ultralytics",
        description="Replay the bundled recordings of real trainings through our callbacks and compare what reaches "
        "Neptune with the golden traces of the upstream callback and, where the installed Ultralytics still ships "
        "it, with the live upstream callback. Prints a table with the first difference of each check; exits 1 on "
        "any difference, 2 on a bad argument.",
    )
    parity.add_argument(
        "recordings", nargs="*", help="bundled recordings to replay (default: all), e.g. ultralytics-8.4.131"
    )
    parity.add_argument("--golden-only", action="store_true", help="skip the live upstream module even if installed")
    parity.add_argument("-v", "--verbose", action="store_true", help="list every difference of a failed check")
    parity.set_defaults(handler=_parity)
    enable = commands.add_parser(
        "enable",
        help="log every Ultralytics training to Neptune, `yolo train` and DDP workers included",
        description="Switch automatic registration on for this user (a settings file the start-up hook reads; "
        "ULTRALYTICS_NEPTUNE=0 or 1 in the environment wins over it).",
    )
    enable.add_argument("--extended", action="store_true", help="in extended mode")
    enable.set_defaults(handler=_enable)
    commands.add_parser("disable", help="switch automatic registration off").set_defaults(handler=_disable)
    commands.add_parser(
        "status", help="show versions, switches, mode, project and where offline data goes"
    ).set_defaults(handler=_status)
    return parser


def main(argv: list | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
