"""How long ``ultralytics-neptune report`` takes on many long runs, and how large the page gets.

    python -m benchmarks.report_speed [--runs 20] [--epochs 100] [--workdir DIR]

Writes RUNS synthetic offline runs through the real ``neptune`` client (offline mode, nothing captured), each
holding what a parity run of EPOCHS epochs holds without its images: the 114 hyperparameters, the model summary,
three training losses, three learning rates, four metrics and three validation losses per epoch, and the final
evaluation's metrics. Then it times ``ultralytics-neptune report`` in a fresh process (what a user waits for:
interpreter, imports, reading, charts, writing; wall and CPU time) and ``write_report`` again in this process
(imports done), and prints one JSON line: seconds, page size, runs, charts. The target: under 5 s and under 20 MB
for 20 runs of 100 epochs.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUIET = {
    "capture_stdout": False,
    "capture_stderr": False,
    "capture_hardware_metrics": False,
    "source_files": [],
    "git_ref": False,
}
LOSSES = ("box_loss", "cls_loss", "dfl_loss")
METRICS = ("precision(B)", "recall(B)", "mAP50(B)", "mAP50-95(B)")


def hyperparameters(index: int) -> dict:
    """114 training arguments of the kinds Ultralytics has (strings, ints, floats, booleans); three differ per run."""
    values = {f"option_{number}": (number % 3 == 0) for number in range(100)}
    values.update(task="detect", mode="train", model="yolov8n.yaml", data="coco8.yaml", epochs=100, batch=16)
    values.update(imgsz=640, lrf=0.01, momentum=0.937, weight_decay=0.0005, optimizer="auto")
    values.update(name=f"train{index}", lr0=0.01 * (1 + index % 4), seed=index)
    return values


def log_run(neptune, index: int, epochs: int) -> None:
    """One run shaped like a parity run of ``epochs`` epochs (no image uploads)."""
    run = neptune.init_run(mode="offline", name=f"train{index}", tags=["Ultralytics"], **QUIET)
    run["Configuration/Hyperparameters"] = hyperparameters(index)
    run["Configuration/Model"] = {"model/parameters": 3011238, "model/GFLOPs": 8.2, "model/speed_PyTorch(ms)": 3.5}
    for epoch in range(1, epochs + 1):
        decay = math.exp(-epoch / (20 + index))
        for number, loss in enumerate(LOSSES):
            run[f"train/{loss}"].append(1.5 * decay + 0.1 * number, step=epoch)
        for group in range(3):
            run[f"lr/pg{group}"].append(0.01 * (1 - epoch / (epochs + 1)), step=epoch)
        for number, metric in enumerate(METRICS):
            run[f"metrics/{metric}"].append((1 - decay) * (0.9 - 0.1 * number), step=epoch)
        for number, loss in enumerate(LOSSES):
            run[f"val/{loss}"].append(1.7 * decay + 0.1 * number, step=epoch)
    for number, metric in enumerate(METRICS):
        run[f"metrics/{metric}"].append(0.9 - 0.1 * number, step=epochs + 1)
    run.stop()


def make_runs(data_directory: Path, runs: int, epochs: int) -> None:
    """Write the runs under data_directory (a ``.neptune`` folder)."""
    os.environ["NEPTUNE_DATA_DIRECTORY"] = str(data_directory)
    import neptune

    logging.getLogger("neptune").setLevel(logging.WARNING)  # not two lines of notices per run

    for index in range(runs):
        log_run(neptune, index, epochs)


def measure(workdir: Path, runs: int, epochs: int) -> dict:
    data_directory = workdir / ".neptune"
    start = time.perf_counter()
    make_runs(data_directory, runs, epochs)
    logged = time.perf_counter() - start

    page = workdir / "report.html"
    command = [sys.executable, "-m", "ultralytics_neptune", "report", str(data_directory), "-o", str(page)]
    start, children = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, check=True, capture_output=True, text=True)
    command_seconds = time.perf_counter() - start
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    command_cpu = used.ru_utime - children.ru_utime + used.ru_stime - children.ru_stime

    from ultralytics_neptune.report import write_report

    write_report([data_directory], workdir / "warm.html")  # imports and caches, untimed
    start = time.perf_counter()
    write_report([data_directory], workdir / "again.html")
    in_process = time.perf_counter() - start

    html = page.read_text()
    return {
        "runs": runs,
        "epochs": epochs,
        "command_seconds": round(command_seconds, 2),
        "command_cpu_seconds": round(command_cpu, 2),  # less sensitive than wall time to other work on the machine
        "in_process_seconds": round(in_process, 2),
        "page_megabytes": round(page.stat().st_size / 1e6, 2),
        "charts": html.count('<figure class="chart"'),
        "lines": html.count('<g class="series"'),
        "logging_seconds": round(logged, 1),
    }


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--workdir", type=Path, help="keep the runs and pages here (default: a temporary folder)")
    args = parser.parse_args(argv)
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        result = measure(args.workdir.resolve(), args.runs, args.epochs)
    else:
        with tempfile.TemporaryDirectory(prefix="ultralytics-neptune-report-bench-") as workdir:
            result = measure(Path(workdir), args.runs, args.epochs)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
