"""How long ``ultralytics-neptune export`` takes to bring many long runs with their uploads into MLflow.

    python -m benchmarks.export [--runs 20] [--epochs 100] [--workdir DIR]

Writes RUNS offline runs through the real ``neptune`` client (offline mode, nothing captured), each holding what a
parity run of EPOCHS epochs holds (the series, hyperparameters and model summary of ``benchmarks.report_speed``) and
its uploads: three mosaics and two validation images (640x640 JPEG files), eight plots uploaded as figures (PNG bytes
the client keeps in the run folder) and two 6 MB weights files. Then it times ``ultralytics-neptune export`` into a
fresh local MLflow store (SQLite) in a fresh process (what a user waits for: interpreter, imports, store creation,
export; wall and CPU time), then again (every run skipped), and prints one JSON line. The target: under 30 s for 20
runs of 100 epochs on 2 cores.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.report_speed import log_run

MOSAICS = ("train_batch0", "train_batch1", "train_batch2")
VALIDATION = ("val_batch0_labels", "val_batch0_pred")
PLOTS = ("results", "labels", "confusion_matrix", "confusion_matrix_normalized")
CURVES = ("BoxPR_curve", "BoxF1_curve", "BoxP_curve", "BoxR_curve")
WEIGHTS_BYTES = 6_200_000  # yolov8n's best.pt


def write_pictures(folder: Path, index: int) -> dict:
    """{name: path} of the run's mosaic and validation JPEG files, with noise so that they compress as photos do."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    pictures = {}
    for number, name in enumerate((*MOSAICS, *VALIDATION)):
        path = folder / f"{name}.jpg"
        Image.effect_noise((640, 640), 40 + index + number).convert("RGB").save(path, quality=75)
        pictures[name] = path
    return pictures


def figure_png(width: int, height: int) -> bytes:
    """A PNG the size of a re-drawn plot (a gradient: what matters here is its size, not what it shows)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((width, height)).convert("RGBA").save(buffer, format="PNG")
    return buffer.getvalue()


def log_uploads(neptune, run, folder: Path, index: int) -> None:
    """Upload what a parity run uploads, as it uploads it: files by path, plots as PNG bytes, the weights."""
    for name, path in write_pictures(folder, index).items():
        run[f"{'Mosaic' if name in MOSAICS else 'Validation'}/{name}"].upload(neptune.types.File(str(path)))
    for name in (*PLOTS, *CURVES):
        png = figure_png(660, 446 if name in CURVES else 500)
        run[f"Plots/{name}"].upload(neptune.types.File.from_content(png, extension="png"))
    for weights in ("best.pt", "last.pt"):
        path = folder / weights
        path.write_bytes(os.urandom(WEIGHTS_BYTES))
        run[f"weights/train{index}/{weights}"].upload(neptune.types.File(str(path)))


class UploadingNeptune:
    """``neptune`` as ``report_speed.log_run`` uses it, its runs uploading a parity run's files before they stop (the
    series are ``report_speed``'s, so the two benchmarks read the same runs)."""

    def __init__(self, neptune, files: Path):
        self.neptune, self.files, self.started = neptune, files, 0

    def init_run(self, **kwargs):
        run, index = self.neptune.init_run(**kwargs), self.started
        self.started += 1
        stop = run.stop

        def upload_then_stop():
            run.stop = stop  # once: the client's exit handler stops every run again
            log_uploads(self.neptune, run, self.files / str(index), index)
            stop()

        run.stop = upload_then_stop
        return run


def make_runs(workdir: Path, runs: int, epochs: int) -> Path:
    """Write the runs under workdir/.neptune, their files under workdir/files; return the ``.neptune`` folder."""
    data_directory = workdir / ".neptune"
    os.environ["NEPTUNE_DATA_DIRECTORY"] = str(data_directory)
    import neptune

    logging.getLogger("neptune").setLevel(logging.WARNING)  # not two lines of notices per run
    uploading = UploadingNeptune(neptune, workdir / "files")
    for index in range(runs):
        log_run(uploading, index, epochs)
    return data_directory


def timed_export(data_directory: Path, workdir: Path) -> tuple:
    """(wall seconds, CPU seconds, stdout) of the command in a fresh process, into workdir/mlflow.db."""
    command = [
        sys.executable,
        "-m",
        "ultralytics_neptune",
        "export",
        str(data_directory),
        "--tracking-uri",
        f"sqlite:///{workdir / 'mlflow.db'}",
    ]
    start, children = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(command, check=True, capture_output=True, text=True, cwd=workdir)
    seconds = time.perf_counter() - start
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, used.ru_utime - children.ru_utime + used.ru_stime - children.ru_stime, result.stdout.strip()


def measure(workdir: Path, runs: int, epochs: int) -> dict:
    start = time.perf_counter()
    data_directory = make_runs(workdir, runs, epochs)
    logged = time.perf_counter() - start
    first, first_cpu, summary = timed_export(data_directory, workdir)
    again, again_cpu, skipped = timed_export(data_directory, workdir)
    artifacts = [path for path in (workdir / "mlruns").rglob("*") if path.is_file()]
    return {
        "runs": runs,
        "epochs": epochs,
        "export_seconds": round(first, 2),
        "export_cpu_seconds": round(first_cpu, 2),  # less sensitive than wall time to other work on the machine
        "again_seconds": round(again, 2),
        "again_cpu_seconds": round(again_cpu, 2),
        "artifacts": len(artifacts),
        "artifact_megabytes": round(sum(path.stat().st_size for path in artifacts) / 1e6, 1),
        "summary": summary,
        "again_summary": skipped,
        "logging_seconds": round(logged, 1),
    }


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument(
        "--workdir", type=Path, help="keep the runs and the MLflow store here (default: a temporary folder)"
    )
    args = parser.parse_args(argv)
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        result = measure(args.workdir.resolve(), args.runs, args.epochs)
    else:
        with tempfile.TemporaryDirectory(prefix="ultralytics-neptune-export-bench-") as workdir:
            result = measure(Path(workdir), args.runs, args.epochs)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
