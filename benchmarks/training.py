"""A whole real training with and without Neptune: what a user feels when switching it on.

Each sample is a real tiny training (yolov8n.yaml, 3 epochs at 64 px on the synthetic dataset, CPU, plots on, the real
client offline) in a fresh process, so imports count as they do for a user. Modes: ``off`` (no Neptune), ``parity``
and ``extended`` (ours, registered in Python), ``upstream`` (Ultralytics 8.4.131's own callback, switched on by its
setting), ``parity-scale`` and ``extended-scale`` (ours with the Neptune 3.x client, ``client="scale"``, where
``neptune-scale`` is installed). Rounds take the modes in a rotating order; the report gives medians over rounds, and
each mode's cost as its per-round differences from ``off`` (median and quartiles). Wall time is what a user waits; CPU
time (every thread of the process) is what the training and its logging consumed, and varies less on a shared
machine.

Run one sample as ``python -m benchmarks.training MODE WORKDIR``; it prints one JSON line.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

MODES_1X = ("off", "parity", "extended", "upstream")
MODES = (*MODES_1X, "parity-scale", "extended-scale")
SCALE_SUFFIX = "-scale"
PAGE = os.sysconf("SC_PAGE_SIZE")
TRAINING = {"epochs": 3, "imgsz": 64, "batch": 4, "workers": 0, "device": "cpu", "plots": True, "verbose": False}


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


def _trimmed_rss() -> int | None:
    """RSS once the C allocator has handed its free memory back (glibc ``malloc_trim``): what is still live. After a
    large temporary (a decoded plot) glibc keeps up to twice its mmap threshold free for reuse, an amount that
    differs from run to run. None where the C library is not glibc."""
    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
    trim(0)
    return _rss()


def sample(mode: str, workdir: Path) -> dict:
    """Train once in this process in the given mode; return the times (s) and memory (bytes) measured."""
    from ultralytics_neptune.synthetic import apply_offline_environment, make_detection_dataset

    apply_offline_environment(workdir, settings=True)
    data = workdir / "dataset" / "data.yaml"
    if not data.exists():
        make_detection_dataset(data.parent)
    data_directory = str(workdir / f".neptune-{mode}-{os.getpid()}")
    # NEPTUNE_LOG_DIRECTORY: where the 3.x client keeps its offline runs
    os.environ.update(
        NEPTUNE_MODE="offline", NEPTUNE_DATA_DIRECTORY=data_directory, NEPTUNE_LOG_DIRECTORY=data_directory
    )
    if mode == "upstream":
        from ultralytics.utils import SETTINGS

        dict.__setitem__(SETTINGS, "neptune", True)  # in memory: the settings file stays off for the other modes
    from ultralytics import YOLO

    model = YOLO("yolov8n.yaml")
    client_start: list = []
    if mode not in ("off", "upstream"):
        from ultralytics_neptune import add_neptune_callbacks

        client = "scale" if mode.endswith(SCALE_SUFFIX) else "neptune"
        add_neptune_callbacks(model, extended=mode.startswith("extended"), client=client)
        _time_client_start(client_start)
    first_batch: list = []
    model.add_callback("on_train_batch_start", lambda trainer: first_batch or first_batch.append(time.perf_counter()))
    started, cpu_started = time.perf_counter(), time.process_time()
    model.train(data=str(data), **TRAINING)
    ended, cpu_ended = time.perf_counter(), time.process_time()
    import gc

    import matplotlib.pyplot as plt

    gc.collect()
    end_rss = _rss()
    return {
        "mode": mode,
        "total": ended - started,
        "cpu": cpu_ended - cpu_started,
        "first_batch": first_batch[0] - started,
        "client_start": client_start[0] if client_start else None,
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "end_rss": end_rss,
        "end_rss_trimmed": _trimmed_rss(),
        "figures": len(plt.get_fignums()),
    }


def _time_client_start(spent: list) -> None:
    """Have the CPU time of our start thread (the client's import and ``init_run``) appended to spent."""
    from ultralytics_neptune.starting import StartingRun

    start = StartingRun._start

    def timed(starting):
        began = time.thread_time()
        try:
            start(starting)
        finally:
            spent.append(time.thread_time() - began)

    StartingRun._start = timed


def measure(rounds: int, workdir: Path, root: Path, modes: tuple = MODES, log=print) -> dict:
    """{mode: [sample, ...]}, each sample in a fresh process; modes rotate from round to round."""
    results: dict = {mode: [] for mode in modes}
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("NEPTUNE_", "ULTRALYTICS_"))}
    for index in range(rounds):
        order = modes[index % len(modes) :] + modes[: index % len(modes)]
        for mode in order:
            command = [sys.executable, "-m", "benchmarks.training", mode, str(workdir)]
            done = subprocess.run(command, cwd=root, env=environment, capture_output=True, text=True, timeout=900)
            if done.returncode != 0:
                raise RuntimeError(f"training sample {mode} failed:\n{done.stderr[-3000:]}")
            # our line is the last that is JSON: the client prints its own lines when the process ends
            results[mode].append(json.loads([line for line in done.stdout.splitlines() if line.startswith("{")][-1]))
        totals = ", ".join(f"{mode} {results[mode][-1]['total']:.1f} s" for mode in order)
        log(f"  training round {index + 1}/{rounds}: {totals}")
    return results


def median_of(samples: list, key: str) -> float:
    return statistics.median(sample[key] for sample in samples)


def differences(samples: list, baseline: list, key: str) -> list:
    """Per round: this mode's value minus the baseline's (``off``) in the same round, where both have one."""
    return [
        mine[key] - base[key] for mine, base in zip(samples, baseline) if None not in (mine.get(key), base.get(key))
    ]


def shares(samples: list, baseline: list, key: str) -> list:
    """Per round: this mode's cost as a share of the baseline's value in the same round."""
    return [
        (mine[key] - base[key]) / base[key]
        for mine, base in zip(samples, baseline)
        if mine.get(key) is not None and base.get(key)
    ]


def median_difference(samples: list, baseline: list, key: str) -> float:
    """The median over rounds of (this mode - off) in the same round."""
    return statistics.median(differences(samples, baseline, key))


if __name__ == "__main__":
    result = sample(sys.argv[1], Path(sys.argv[2]).resolve())
    print(json.dumps(result), flush=True)
