"""Memory of a long replayed training, each contestant in a fresh process: peak RSS growth during the replay, RSS
still held after it, and the matplotlib figures left open.

Run as ``python -m benchmarks.memory CONTESTANT EPOCHS WORKDIR``; it prints one JSON line. Everything a contestant
needs is imported and warmed before the baseline is taken: the client, pyplot (one figure drawn and closed) and the
replay itself (one replay without callbacks fills its caches of synthetic images).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import sys
import threading
import time
from pathlib import Path

CONTESTANTS = ("none", "parity", "extended", "upstream", "tensorboard", "mlflow", "wandb")
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    """Resident set size of this process, in bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


class PeakSampler(threading.Thread):
    """Samples RSS every millisecond until stopped; ``peak`` is the highest seen."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = rss()
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(0.001):
            self.peak = max(self.peak, rss())

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        return max(self.peak, rss())


def _contestant(key: str):
    from benchmarks import contestants

    return {
        "none": None,
        "parity": lambda: contestants.Ours(),
        "extended": lambda: contestants.Ours(extended=True),
        "upstream": contestants.Upstream,
        "tensorboard": contestants.TensorBoard,
        "mlflow": contestants.MLflow,
        "wandb": contestants.WandB,
    }[key]


def probe(key: str, epochs: int, workdir: Path) -> dict:
    """Replay a stretched recording through one contestant; measure memory around the replay."""
    import gc
    import tempfile

    from benchmarks.environment import prepare

    prepare(workdir)
    import matplotlib.pyplot as plt

    from benchmarks.contestants import real_neptune
    from benchmarks.scenario import BenchTrainer, load_scenario, set_peer_model
    from ultralytics_neptune.verification.replay import replay

    scenario = load_scenario(epochs)
    if key == "tensorboard":
        set_peer_model(scenario.recording)
    plt.close(plt.figure())
    warm_up = Path(tempfile.mkdtemp(prefix="memory-warm-up-", dir=workdir)) / "train"
    replay(scenario.recording, {}, warm_up, trainer=BenchTrainer(warm_up))  # the replay's own caches, filled
    shutil.rmtree(warm_up.parent)
    factory = _contestant(key)
    with real_neptune():
        contestant = factory() if factory else None
        save_dir = Path(tempfile.mkdtemp(prefix=f"memory-{key}-", dir=workdir)) / "train"
        callbacks, before_event = contestant.start(save_dir) if contestant else ({}, None)
        trainer = BenchTrainer(save_dir, before_event=before_event)
        gc.collect()
        baseline, max_before = rss(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        sampler = PeakSampler()
        sampler.start()
        replay(scenario.recording, callbacks, save_dir, trainer=trainer)
        peak = sampler.stop()
        gc.collect()
        figures = len(plt.get_fignums())
        held = rss()
        if contestant:
            contestant.finish()
    return {
        "contestant": key,
        "peak_growth": peak - baseline,
        "held_growth": held - baseline,
        "figures_open": figures,
        "maxrss_growth": max(0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - max_before),
    }


def sample(key: str, epochs: int, workdir: Path, cwd: Path) -> dict:
    """Run one memory probe in a fresh interpreter."""
    from benchmarks.harness import fresh_process

    return fresh_process("benchmarks.memory", [key, epochs, workdir], cwd, marker='{"contestant"')


def measure(keys: list, epochs: int, rounds: int, workdir: Path, cwd: Path, log=print) -> dict:
    """{contestant: [result, ...]}, one fresh process per sample, two at a time (RSS is per process)."""
    from concurrent.futures import ThreadPoolExecutor

    results: dict = {key: [] for key in keys}
    started = time.perf_counter()
    samples = [keys[offset:] + keys[:offset] for offset in (r % len(keys) for r in range(rounds))]
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [(key, pool.submit(sample, key, epochs, workdir, cwd)) for order in samples for key in order]
        for key, future in futures:
            results[key].append(future.result())
    log(f"  {rounds} memory sample(s) per contestant done ({time.perf_counter() - started:.0f} s)")
    return results


if __name__ == "__main__":
    print(json.dumps(probe(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]))))
