"""How long ``ultralytics-neptune export`` takes to bring many long runs with their uploads into MLflow.

    python -m benchmarks.export [--runs 20] [--epochs 100] [--workdir DIR] [--markdown]

Writes RUNS offline runs through the real ``neptune`` client (offline mode, nothing captured), each holding what a
parity run of EPOCHS epochs holds (the series, hyperparameters and model summary of ``benchmarks.report_speed``) and
its uploads: three mosaics and two validation images (640x640 JPEG files), eight plots uploaded as figures (PNG bytes
the client keeps in the run folder) and two 6 MB weights files. Then it times ``ultralytics-neptune export`` into a
fresh local MLflow store (SQLite) in a fresh process (what a user waits for: interpreter, imports, store creation,
export; wall and CPU time), then again (every run skipped), reads the store back to count what it holds, and prints
one JSON line (``--markdown``: the RESULTS.md section instead). The target: under 30 s for 20 runs of 100 epochs on
2 cores.

``measure`` and ``results_section`` are what the suite's RESULTS.md writer calls.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from unittest import mock

from benchmarks.report_speed import log_run

MOSAICS = ("train_batch0", "train_batch1", "train_batch2")
VALIDATION = ("val_batch0_labels", "val_batch0_pred")
PLOTS = ("results", "labels", "confusion_matrix", "confusion_matrix_normalized")
CURVES = ("BoxPR_curve", "BoxF1_curve", "BoxP_curve", "BoxR_curve")
WEIGHTS_BYTES = 6_200_000  # yolov8n's best.pt
TARGET_RUNS, TARGET_EPOCHS, TARGET_SECONDS = 20, 100, 30.0
TARGET = f"{TARGET_RUNS} runs \u00d7 {TARGET_EPOCHS} epochs with uploads under {TARGET_SECONDS:.0f} s"
ROOT = Path(__file__).resolve().parent.parent


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
    import neptune

    quiet = logging.getLogger("neptune")
    level = quiet.level
    quiet.setLevel(logging.WARNING)  # not two lines of notices per run
    uploading = UploadingNeptune(neptune, workdir / "files")
    try:
        with mock.patch.dict(os.environ, {"NEPTUNE_DATA_DIRECTORY": str(data_directory)}):
            for index in range(runs):
                log_run(uploading, index, epochs)
    finally:
        quiet.setLevel(level)
    return data_directory


def export_environment() -> dict:
    """The caller's environment without MLflow settings (the command's defaults are measured), with this checkout's
    package first on the path."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("MLFLOW_")}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environment.get("PYTHONPATH")]))
    return environment


def timed_export(data_directory: Path, workdir: Path) -> tuple:
    """(wall seconds, CPU seconds, summary line) of the command in a fresh process, into workdir/mlflow.db (artifacts
    in workdir/mlruns, MLflow's default next to a SQLite store)."""
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
    result = subprocess.run(command, capture_output=True, text=True, cwd=workdir, env=export_environment())
    seconds = time.perf_counter() - start
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {result.returncode}: {result.stderr[-2000:]}")
    return seconds, used.ru_utime - children.ru_utime + used.ru_stime - children.ru_stime, result.stdout.strip()


def read_back(workdir: Path) -> dict:
    """What the store holds, counted through MLflow's own client: runs, params, tags, metric points, artifacts."""
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{workdir / 'mlflow.db'}")
    runs = client.search_runs([experiment.experiment_id for experiment in client.search_experiments()])
    points = sum(len(client.get_metric_history(run.info.run_id, key)) for run in runs for key in run.data.metrics)
    artifacts = [path for path in (workdir / "mlruns").rglob("*") if path.is_file()]
    return {
        "mlflow_runs": len(runs),
        "params": sum(len(run.data.params) for run in runs),
        "tags": sum(len(run.data.tags) for run in runs),
        "metric_points": points,
        "artifacts": len(artifacts),
        "artifact_bytes": sum(path.stat().st_size for path in artifacts),
    }


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def measure(runs: int, epochs: int, workdir: Path) -> dict:
    """Write ``runs`` runs of ``epochs`` epochs with their uploads under workdir, time their export into a fresh
    local store in a fresh process, then the export again (every run skipped), and count what the store holds.

    Returns:
        (dict): ``wall_s`` and ``cpu_s`` of the export, ``second_wall_s`` and ``second_cpu_s`` of the one again,
            their summary lines, what the store holds (``metric_points``, ``params``, ``artifacts``,
            ``artifact_bytes``...), the bytes uploaded, and the machine and versions.
    """
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    data_directory = make_runs(workdir, runs, epochs)
    logged = time.perf_counter() - start
    load = os.getloadavg()[0]
    wall, cpu, summary = timed_export(data_directory, workdir)
    second_wall, second_cpu, second_summary = timed_export(data_directory, workdir)
    uploads = [path for path in (workdir / "files").rglob("*") if path.is_file()]
    figures = [path for path in data_directory.rglob("upload_path/*") if path.is_file()]
    return {
        "runs": runs,
        "epochs": epochs,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),  # less sensitive than wall time to other work on the machine
        "second_wall_s": round(second_wall, 2),
        "second_cpu_s": round(second_cpu, 2),
        "summary": summary,
        "second_summary": second_summary,
        **read_back(workdir),
        "upload_bytes": sum(path.stat().st_size for path in (*uploads, *figures)),
        "logging_s": round(logged, 1),
        "load_average": round(load, 2),  # the machine's 1-minute load when the export started
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "mlflow": _version("mlflow"),
        "neptune": _version("neptune"),
    }


def _status(measured: dict) -> str:
    if (measured["runs"], measured["epochs"]) != (TARGET_RUNS, TARGET_EPOCHS):
        return f"not measured ({measured['runs']} runs \u00d7 {measured['epochs']} epochs)"
    return "met" if measured["wall_s"] < TARGET_SECONDS else "**missed**"


def results_section(measured: dict) -> str:
    """The RESULTS.md section of a ``measure`` result: what was measured, the two exports, and the target."""
    megabytes = measured["upload_bytes"] / 1e6
    paragraph = (
        f"`ultralytics-neptune export` of {measured['runs']} offline runs of {measured['epochs']} epochs each, written "
        "through the real `neptune` client (offline) as a parity training logs them: hyperparameters, model summary, "
        "losses, learning rates and metrics per epoch, three mosaics, two validation images, eight plots uploaded as "
        f"figures and two weights files per run ({megabytes:,.0f} MB of uploads). Exported into a fresh local MLflow "
        "store (SQLite, artifacts on disk) by the command in a fresh process: the wall time is what a user waits for, "
        "from interpreter start to the summary line (imports, store creation and its migrations, reading, writing); "
        "CPU time is the process's user and system time, which other work on a shared machine changes less. Then the "
        "same command again, every run already exported. Read back with MLflow's client: "
        f"{measured['mlflow_runs']} runs, {measured['params']:,} params, {measured['metric_points']:,} metric points, "
        f"{measured['artifacts']} artifacts ({measured['artifact_bytes'] / 1e6:,.0f} MB). {measured['cpus']} CPUs, "
        f"load average {measured['load_average']} at the start; Python {measured['python']}, "
        f"mlflow {measured['mlflow']}, neptune {measured['neptune']}."
    )
    said = {key: measured[key].split(": MLflow experiment")[0] for key in ("summary", "second_summary")}
    lines = [
        "## Export to MLflow",
        "",
        paragraph,
        "",
        "| export | wall | CPU time | the command's summary |",
        "| --- | --- | --- | --- |",
        f"| first: every run new | {measured['wall_s']:.1f} s | {measured['cpu_s']:.1f} s | {said['summary']} |",
        f"| again: every run skipped | {measured['second_wall_s']:.1f} s | {measured['second_cpu_s']:.1f} s "
        f"| {said['second_summary']} |",
        "",
        "| target | measured | status |",
        "| --- | --- | --- |",
        f"| {TARGET} | {measured['wall_s']:.1f} s (CPU {measured['cpu_s']:.1f} s) | {_status(measured)} |",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=TARGET_RUNS)
    parser.add_argument("--epochs", type=int, default=TARGET_EPOCHS)
    parser.add_argument(
        "--workdir", type=Path, help="keep the runs and the MLflow store here (default: a temporary folder)"
    )
    parser.add_argument("--markdown", action="store_true", help="print the RESULTS.md section instead of JSON")
    args = parser.parse_args(argv)
    if args.workdir:
        measured = measure(args.runs, args.epochs, args.workdir)
    else:
        with tempfile.TemporaryDirectory(prefix="ultralytics-neptune-export-bench-") as workdir:
            measured = measure(args.runs, args.epochs, Path(workdir))
    print(results_section(measured) if args.markdown else json.dumps(measured))
    return 0


if __name__ == "__main__":
    sys.exit(main())
