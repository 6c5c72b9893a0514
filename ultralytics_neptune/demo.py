"""The demo: a real tiny YOLO training logged to Neptune (offline by default), then what was logged.

Everything lives in the output folder: the synthetic dataset, Ultralytics' runs (``runs/detect/train``,
``train2``... so a second demo never overwrites the first), its settings, and Neptune's ``.neptune`` data.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ultralytics_neptune.client import CONNECTION_MODES

HELP = "train a tiny YOLO model on CPU, log it to Neptune and show what was logged"
DESCRIPTION = (
    "Train yolov8n.yaml from scratch on a generated dataset (CPU, no network), log the run to Neptune with the "
    "parity callbacks, then print what the run holds and where it lies."
)

QUIET_CAPTURE = {"capture_stdout": False, "capture_stderr": False, "capture_hardware_metrics": False}


def _print(text: str = "") -> None:
    print(text, flush=True)


def run_demo(
    out: Path, epochs: int = 3, imgsz: int = 64, mode: str = "offline", images: int = 8, extended: bool = False
) -> int:
    """Train, log, and print what reached Neptune; return a process exit code."""
    from ultralytics_neptune.offline import format_summary, offline_run_folders, read_offline_run
    from ultralytics_neptune.synthetic import apply_offline_environment, make_detection_dataset

    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    apply_offline_environment(out, settings=True)
    neptune_data = out / ".neptune"
    os.environ["NEPTUNE_DATA_DIRECTORY"] = str(neptune_data)
    data = out / "dataset" / "data.yaml"
    if not data.exists():
        make_detection_dataset(data.parent, images=images)
    before = set(offline_run_folders(neptune_data))
    os.chdir(out)  # Ultralytics puts runs/ under the working directory it starts in

    _print(f"ultralytics-neptune demo: training yolov8n.yaml for {epochs} epochs at imgsz {imgsz} on CPU")
    _print(f"  output folder: {out}")
    _print(f"  Neptune mode:  {mode}, {'extended' if extended else 'parity'} logging\n")
    from ultralytics import YOLO

    from ultralytics_neptune import add_neptune_callbacks
    from ultralytics_neptune.utils.callbacks import neptune as parity_module

    model = YOLO("yolov8n.yaml")
    add_neptune_callbacks(model, extended=extended, mode=mode, **QUIET_CAPTURE)
    model.train(data=str(data), epochs=epochs, imgsz=imgsz, batch=4, workers=0, device="cpu", plots=True)
    save_dir = Path(model.trainer.save_dir)
    if parity_module.run is not None:
        parity_module.run.stop()  # parity mode leaves the run open, as upstream did; extended stopped it

    _print(f"\nUltralytics run folder: {save_dir}")
    if mode == "debug":
        _print("Debug mode keeps nothing: the callbacks ran, but there is no run to show.")
        return 0
    if mode != "offline":
        _print(f"The run was sent in {mode} mode to the Neptune server of NEPTUNE_API_TOKEN / NEPTUNE_PROJECT.")
        return 0
    new_runs = [folder for folder in offline_run_folders(neptune_data) if folder not in before]
    if not new_runs:
        _print(f"\nNo offline run appeared under {neptune_data}: see the warnings above.")
        return 1
    run = read_offline_run(new_runs[-1])
    _print("\n" + format_summary(run))
    _print(f"\nOffline run: {run.folder}")
    _print("To upload it to a self-hosted Neptune server (the neptune CLI needs setuptools<82):")
    _print(f"  NEPTUNE_API_TOKEN=<token> neptune sync --path {out} --project <workspace>/<project> --offline-only")
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--epochs", type=_positive, default=3, help="epochs to train (default: 3)")
    parser.add_argument("--imgsz", type=_positive, default=64, help="image size (default: 64)")
    parser.add_argument("--out", type=Path, default=Path("ultralytics-neptune-demo"), help="output folder")
    parser.add_argument(
        "--mode",
        choices=[mode for mode in CONNECTION_MODES if mode in ("offline", "async", "debug")],
        default="offline",
        help="Neptune connection mode (default: offline, which needs no account)",
    )
    parser.add_argument("--extended", action="store_true", help="log in extended mode (plots as files, and more)")


def run(args: argparse.Namespace) -> int:
    return run_demo(args.out, epochs=args.epochs, imgsz=args.imgsz, mode=args.mode, extended=args.extended)
