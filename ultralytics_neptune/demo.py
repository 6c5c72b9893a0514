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

SYNC_SCALE = "NEPTUNE_API_TOKEN=<token> neptune sync {path}"  # the 3.x client's command (``neptune-scale``)
SYNC = "NEPTUNE_API_TOKEN=<token> neptune sync --path {path} --project <workspace>/<project> --offline-only"


def _print(text: str = "") -> None:
    print(text, flush=True)


def _run_started(model) -> bool:
    """Whether our callbacks started a Neptune run for this model's training (both modes stop it when it ends)."""
    from ultralytics_neptune.composed import ParityLogger
    from ultralytics_neptune.extended import ExtendedLogger

    for callback in model.callbacks["on_train_start"]:
        callback = getattr(callback, "__wrapped__", callback)  # the 3.x client's events are wrapped (a flush after)
        logger = getattr(callback, "__self__", None)
        if isinstance(logger, (ParityLogger, ExtendedLogger)):
            return logger.last_start is not None and logger.last_start.run is not None
    return False


def run_demo(
    out: Path,
    epochs: int = 3,
    imgsz: int = 64,
    mode: str = "offline",
    images: int = 8,
    extended: bool = False,
    client: str | None = None,
) -> int:
    """Train, log like a user's training does, and say what happened to the run; return a process exit code."""
    from ultralytics_neptune.offline import format_summary, offline_run_folders, read_offline_run
    from ultralytics_neptune.registration import missing_token
    from ultralytics_neptune.synthetic import apply_offline_environment, make_detection_dataset

    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    apply_offline_environment(out, settings=True)
    neptune_data = out / ".neptune"
    os.environ["NEPTUNE_DATA_DIRECTORY"] = str(neptune_data)
    os.environ["NEPTUNE_LOG_DIRECTORY"] = str(neptune_data)  # the 3.x client's data folder
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

    model = YOLO("yolov8n.yaml")
    add_neptune_callbacks(model, extended=extended, client=client, mode=mode)
    model.train(data=str(data), epochs=epochs, imgsz=imgsz, batch=4, workers=0, device="cpu", plots=True)
    started = _run_started(model)

    _print(f"\nUltralytics run folder: {model.trainer.save_dir}")
    if not started:
        why = missing_token({"mode": mode}) or "the run could not start (the warning above says why)"
        _print(f"Nothing was logged to Neptune: {why}.")
        return 1
    if mode == "debug":
        _print("Logged in debug mode, which keeps nothing: there is no run to show.")
        return 0
    if mode != "offline":
        _print(f"Sent in {mode} mode to the Neptune server of your NEPTUNE_API_TOKEN (the client says above if any")
        _print("operations could not be sent and stay on disk for `neptune sync`).")
        return 0
    new_runs = [folder for folder in offline_run_folders(neptune_data) if folder not in before]
    offline_run = read_offline_run(new_runs[-1])
    _print("\n" + format_summary(offline_run))
    _print(f"\nLogged offline: {offline_run.folder}")
    _print("To upload it to a self-hosted Neptune server:")
    scale = offline_run.metadata.get("client") == "neptune-scale"
    _print(
        f"  {SYNC_SCALE.format(path=offline_run.folder / 'run_operations.sqlite3') if scale else SYNC.format(path=out)}"
    )
    from ultralytics_neptune.report import write_report

    page = write_report([offline_run.folder], out / "neptune-report.html")
    _print(f"\nReport (opens from disk, no server or network): {page}")
    _print(f"  every run in {out.name}, compared, in your browser: ultralytics-neptune report {out} -o {out} --open")
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
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
    parser.add_argument(
        "--client",
        choices=("neptune", "scale"),
        default=None,
        help="the Neptune client: neptune (1.x) or scale (3.x, neptune-scale); default: ULTRALYTICS_NEPTUNE_CLIENT, "
        "else scale when only neptune-scale is installed",
    )


def run(args: argparse.Namespace) -> int:
    return run_demo(
        args.out, epochs=args.epochs, imgsz=args.imgsz, mode=args.mode, extended=args.extended, client=args.client
    )
