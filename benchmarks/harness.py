"""Interleaved measurement: every contestant replays the scenario once per round, in an order that rotates, so
that each ratio compares numbers taken seconds apart; ratios are computed per round, then summarised.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.scenario import BenchTrainer, EventTimes, Scenario


@dataclass
class Summary:
    """Median and spread of a list of numbers."""

    median: float
    low: float  # 25th percentile
    high: float  # 75th percentile
    minimum: float
    maximum: float
    count: int

    @classmethod
    def of(cls, values: list) -> Summary | None:
        values = sorted(value for value in values if value is not None)
        if not values:
            return None
        if len(values) == 1:
            return cls(values[0], values[0], values[0], values[0], values[0], 1)
        quartiles = statistics.quantiles(values, n=4, method="inclusive")
        return cls(statistics.median(values), quartiles[0], quartiles[2], values[0], values[-1], len(values))


@dataclass
class RoundCosts:
    """What one contestant's callbacks cost in one replay."""

    per_event: dict  # event -> median seconds of one call in this replay
    calls: dict  # event -> number of calls
    start: float  # seconds in all callbacks before the first epoch
    per_epoch: float  # mean seconds of an ordinary (repeated) epoch
    end: float  # seconds in all callbacks from the final evaluation on (train end, teardown)
    whole_run: float  # seconds in all callbacks of the replay

    @classmethod
    def of(cls, times: EventTimes, scenario: Scenario) -> RoundCosts:
        by_event = defaultdict(list)
        by_epoch = defaultdict(float)
        for index, seconds in times.seconds.items():
            by_event[times.names[index]].append(seconds)
            by_epoch[scenario.phases[index]] += seconds
        steady = [by_epoch.get(epoch, 0.0) for epoch in scenario.steady_epochs]
        return cls(
            per_event={event: statistics.median(values) for event, values in by_event.items()},
            calls={event: len(values) for event, values in by_event.items()},
            start=by_epoch.get("start", 0.0),
            per_epoch=sum(steady) / len(steady),
            end=by_epoch.get("end", 0.0),
            whole_run=sum(times.seconds.values()),
        )


@dataclass
class Measurements:
    """Every contestant's costs, round by round (index r of each list is round r)."""

    rounds: dict = field(default_factory=lambda: defaultdict(list))  # contestant name -> [RoundCosts]
    wall_seconds: float = 0.0

    def values(self, name: str, metric: str, event: str | None = None) -> list:
        if event is None:
            return [getattr(costs, metric) for costs in self.rounds[name]]
        return [costs.per_event.get(event) for costs in self.rounds[name]]

    def summary(self, name: str, metric: str, event: str | None = None) -> Summary | None:
        return Summary.of(self.values(name, metric, event))

    def ratio(self, name: str, other: str, metric: str, event: str | None = None) -> Summary | None:
        """The per-round ratio name/other, summarised."""
        if name not in self.rounds or other not in self.rounds:
            return None
        pairs = zip(self.values(name, metric, event), self.values(other, metric, event))
        return Summary.of([a / b for a, b in pairs if a is not None and b])

    def events(self, name: str) -> list:
        return list(self.rounds[name][0].per_event) if self.rounds.get(name) else []


def replay_once(contestant, scenario: Scenario, workdir: Path, after_replay=None) -> EventTimes:
    """Replay the scenario through one contestant's callbacks; return the time of each event's callbacks.

    ``after_replay(contestant, save_dir)`` runs after the replay, before the clean-up (e.g. to take a trace).
    """
    import matplotlib.pyplot as plt

    from ultralytics_neptune.verification.replay import replay

    save_dir = Path(tempfile.mkdtemp(prefix=f"{contestant.key}-", dir=workdir)).resolve() / "train"
    save_dir.mkdir()
    callbacks, before_event = contestant.start(save_dir)
    trainer = BenchTrainer(save_dir, before_event=before_event)
    gc.collect()
    try:
        replay(scenario.recording, callbacks, save_dir, trainer=trainer)
        if after_replay is not None:
            after_replay(contestant, save_dir)
    finally:
        contestant.finish()
        plt.close("all")
        shutil.rmtree(save_dir.parent, ignore_errors=True)
    return trainer.times


def measure(
    contestants: list, scenario: Scenario, rounds: int, workdir: Path, after_warm_up=None, log=print
) -> Measurements:
    """Run ``rounds`` rounds after one warm-up round; in round r the order starts at contestant r.

    ``after_warm_up(contestant, save_dir)`` runs after each replay of the warm-up round (see ``replay_once``).
    """
    measurements = Measurements()
    started = time.perf_counter()
    for round_number in range(-1, rounds):
        offset = max(round_number, 0) % len(contestants)
        order = contestants[offset:] + contestants[:offset]
        for contestant in order:
            times = replay_once(contestant, scenario, workdir, after_warm_up if round_number < 0 else None)
            if round_number >= 0:
                measurements.rounds[contestant.name].append(RoundCosts.of(times, scenario))
        label = "warm-up" if round_number < 0 else f"round {round_number + 1}/{rounds}"
        log(f"  {label} done ({time.perf_counter() - started:.0f} s)")
    measurements.wall_seconds = time.perf_counter() - started
    return measurements


def fresh_process(module: str, arguments: list, cwd: Path, environment: dict | None = None, marker: str = "{") -> dict:
    """Run ``python -m module arguments`` in a new interpreter; return the last JSON line it printed (starting with
    marker), or raise with its output."""
    completed = subprocess.run(
        [sys.executable, "-m", module, *map(str, arguments)],
        env={**os.environ, **(environment or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith(marker)]
    if completed.returncode or not lines:
        raise RuntimeError(f"{module} {arguments} failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")
    return json.loads(lines[-1])
