"""Checks of the benchmark machinery, and per-event micro-benchmarks with pytest-benchmark.

    pytest benchmarks --benchmark-disable    # the checks; each benchmark body runs once (tox -e bench does this)
    pytest benchmarks                        # the micro-benchmarks timed too
    pytest benchmarks --benchmark-autosave   # then, after a change: --benchmark-compare

pytest-benchmark times one benchmark after another, so compare a benchmark with itself across commits. Ratios
between contestants come from ``python -m benchmarks.run``, which interleaves them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.contestants import (
    FloorContestant,
    MLflow,
    Ours,
    ScaleFloorContestant,
    ScaleOurs,
    TensorBoard,
    Upstream,
    WandB,
    extended_available,
    same_scale_run,
)
from benchmarks.environment import QUIET_NEPTUNE
from benchmarks.floor import record_calls
from benchmarks.floor_scale import record_scale_calls
from benchmarks.harness import Measurements, RoundCosts, replay_once
from benchmarks.report import DASH, EXTENDED_SCALE, FLOOR_SCALE, PARITY_SCALE, TIMES, Results, training_targets
from benchmarks.scenario import BenchTrainer, load_scenario, set_peer_model

EPOCHS = 6
EPOCH_EVENTS = ("on_train_epoch_end", "on_val_end", "on_fit_epoch_end")


@pytest.fixture(scope="session")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("bench").resolve()


@pytest.fixture(scope="session")
def scenario():
    return load_scenario(EPOCHS)


@pytest.fixture(scope="session")
def calls(scenario, workdir):
    return record_calls(scenario, workdir)


@pytest.fixture(scope="session")
def scale_calls(scenario, workdir):
    return record_scale_calls(scenario, workdir, **QUIET_NEPTUNE)


@pytest.fixture
def fake():
    from ultralytics_neptune.verification.parity import fake_client

    with fake_client() as fake:
        yield fake


def test_stretched_training_is_a_run_neptune_accepts(scenario, calls):
    """Epochs follow each other and every series' steps strictly increase, as Neptune's server requires."""
    epochs = [e["state"]["epoch"] for e in scenario.events if e["event"] == "on_train_epoch_start"]
    assert epochs == list(range(EPOCHS))
    steps: dict = {}
    for occurrences in calls.by_event.values():
        for occurrence in occurrences:
            for kind, path, _, step in occurrence:
                if kind == "append":
                    steps.setdefault(path, []).append(step)
    assert steps["train/box_loss"] == list(range(1, EPOCHS + 1))
    assert steps["metrics/mAP50(B)"] == list(range(1, EPOCHS + 2))  # the final evaluation logs at E + 1
    assert all(a < b for series in steps.values() for a, b in zip(series, series[1:]))


def test_floor_and_upstream_make_the_calls_ours_make(scenario, calls, workdir, fake):
    from ultralytics_neptune.trace import Trace, diff_traces

    traces = {}

    def take_trace(contestant, save_dir):
        traces[contestant.name] = Trace.from_run(fake.last_run, save_dir)

    for contestant in (Ours(), Upstream(), FloorContestant(calls)):
        replay_once(contestant, scenario, workdir, after_replay=take_trace)
    assert traces["ours (parity)"].operations
    assert diff_traces(traces["ours (parity)"], traces["floor"]) == []
    assert diff_traces(traces["ours (parity)"], traces["upstream"]) == []


def test_the_3x_floor_writes_the_run_ours_writes_with_the_3x_client(scenario, scale_calls, workdir):
    """Read back from the SQLite files: the same series, steps, values, configs and file fields."""
    contestants = {"ours": ScaleOurs(), "floor": ScaleFloorContestant(scale_calls)}
    problems = {}

    def check(contestant, save_dir: Path) -> None:
        problems[contestant.name] = contestant.problem(save_dir)

    for contestant in contestants.values():
        replay_once(contestant, scenario, workdir, after_replay=check)
    assert problems == {"ours (parity, 3.x)": None, "floor (3.x)": None}
    assert same_scale_run(contestants["ours"], contestants["floor"]).endswith(": identical")


@pytest.mark.parametrize(("event", "keys"), [("on_train_epoch_end", 6), ("on_fit_epoch_end", 7)])
def test_the_3x_client_gets_one_log_metrics_call_per_event_of_an_ordinary_epoch(event, keys, scale_calls):
    """All of a step's values in one call (the 3.x client writes one SQLite transaction per call)."""
    last_epoch = scale_calls.by_event[event][EPOCHS - 1]
    assert [(method, len(args[0]), kwargs) for method, args, kwargs in last_epoch] == [
        ("log_metrics", keys, {"step": EPOCHS})
    ]


@pytest.mark.parametrize("peer", [TensorBoard, MLflow, WandB], ids=["tensorboard", "mlflow", "wandb"])
def test_peer_logs_the_replay(peer, scenario, workdir):
    """Each other tracker's callbacks run through the replay and really log (else their costs would mean nothing)."""
    set_peer_model(scenario.recording)
    problems = []

    def check(contestant, save_dir: Path) -> None:
        problems.append(contestant.problem(save_dir))

    times = replay_once(peer(), scenario, workdir, after_replay=check)
    assert times.seconds
    assert problems == [None]


def _contestant(key: str, calls):
    if key == "extended" and not extended_available():
        pytest.skip("extended mode is not available in this version")
    return {
        "parity": Ours,
        "extended": lambda: Ours(extended=True),
        "upstream": Upstream,
        "floor": lambda: FloorContestant(calls),
    }[key]()


@pytest.mark.parametrize("event", EPOCH_EVENTS)
@pytest.mark.parametrize("key", ["parity", "extended", "upstream", "floor"])
def test_event_cost(benchmark, key, event, scenario, calls, workdir, fake):
    """One call of an epoch event, on the state of the last epoch of a replayed training, fake client."""
    from ultralytics_neptune.verification.replay import replay

    contestant = _contestant(key, calls)
    save_dir = workdir / f"event-{key}-{event}" / "train"
    callbacks, before_event = contestant.start(save_dir)
    trainer = BenchTrainer(save_dir, before_event=before_event)
    replay(scenario.until_final_evaluation(), callbacks, save_dir, trainer=trainer)
    benchmark.group = event
    try:
        if key == "floor":
            occurrences = calls.by_event[event]
            benchmark(contestant.floor.call, contestant.floor.prepare(occurrences[EPOCHS - 1]))
        else:
            target = trainer.validator if event == "on_val_end" else trainer
            registered = trainer.callbacks[event]

            def one_epoch() -> None:
                trainer.epoch += 1  # a new step each call, as in a training
                for callback in registered:
                    callback(target)

            benchmark(one_epoch)
    finally:
        import matplotlib.pyplot as plt

        contestant.finish()
        plt.close("all")


def training_results(**costs) -> Results:
    """Results holding only whole trainings, two rounds unless told: each mode costs what costs gives it over ``off``
    (one number for every round, or a list with one per round; None: the sample lacks that value)."""
    base = {"total": 20.0, "cpu": 30.0, "first_batch": 10.0, "end_rss": 1_000 * 2**20, "end_rss_trimmed": 900 * 2**20}
    base["figures"] = 0

    def measured(key: str, cost):
        return None if cost is None else base[key] + cost

    rounds = max((len(v) for extra in costs.values() for v in extra.values() if isinstance(v, list)), default=2)
    training = {"off": [dict(base) for _ in range(rounds)]}
    for mode, extra in costs.items():
        per_round = {key: value if isinstance(value, list) else [value] * rounds for key, value in extra.items()}
        training[mode] = [
            {**base, **{key: measured(key, values[index]) for key, values in per_round.items()}}
            for index in range(rounds)
        ]
    return Results(0, "", 0, True, Measurements(), Measurements(), None, {}, {}, [], training=training)


def target_row(results: Results, starting: str) -> str:
    return next(line for line in training_targets(results) if line.startswith(f"| {starting}"))


def test_a_first_batch_later_than_the_target_is_reported_missed():
    results = training_results(parity={"first_batch": 0.2}, extended={"first_batch": 0.1})
    assert target_row(results, "ours (parity): first batch").endswith(f"| +0.20 s (+0.20{DASH}+0.20) | **missed** |")
    assert target_row(results, "ours (extended): first batch").endswith(f"| +0.10 s (+0.10{DASH}+0.10) | met |")


def test_extended_mode_costing_more_than_a_tenth_of_the_training_is_reported_missed():
    results = training_results(extended={"total": 2.4, "cpu": 3.0})
    row = target_row(results, "ours (extended): whole training")
    assert row.endswith(f"| +12.0% (+12.0%{DASH}+12.0%); CPU time +10.0% (+10.0%{DASH}+10.0%) | **missed** |")


def test_a_cost_whose_rounds_straddle_the_target_is_reported_within_noise():
    results = training_results(extended={"total": [0.4, 1.0, 3.0, 3.6]})
    assert target_row(results, "ours (extended): whole training").endswith("| within noise |")


def test_parity_mode_costing_more_than_upstream_is_reported_missed():
    results = training_results(parity={"total": 3.0}, upstream={"total": 2.5})
    assert target_row(results, "ours (parity): whole training").endswith("| +3.00 s against +2.50 s | **missed** |")


def test_parity_mode_costing_less_than_upstream_in_every_round_is_reported_met():
    results = training_results(parity={"total": [2.0, 2.2, 2.1]}, upstream={"total": [2.5, 2.6, 2.4]})
    assert target_row(results, "ours (parity): whole training").endswith("| met |")


def test_memory_held_after_the_run_and_open_figures_are_targets():
    results = training_results(parity={"end_rss": 60 * 2**20, "figures": 1})
    assert target_row(results, "ours (parity): RSS after").endswith(
        f"| +60 MB (+60{DASH}+60); heap trimmed +0 MB (+0{DASH}+0) | **missed** |"
    )
    assert target_row(results, "ours (parity): figures open").endswith("| 1 | **missed** |")


def test_memory_held_in_every_round_within_the_target_is_reported_met():
    results = training_results(extended={"end_rss": [20 * 2**20, 30 * 2**20, 40 * 2**20]})
    assert target_row(results, "ours (extended): RSS after").endswith("| met |")


def test_memory_held_straddling_the_target_across_rounds_is_reported_within_noise():
    held = [mb * 2**20 for mb in (25, 35, 62, 70)]
    results = training_results(parity={"end_rss": held, "end_rss_trimmed": [33 * 2**20] * 4})
    row = target_row(results, "ours (parity): RSS after")
    assert row.endswith(f"| +48 MB (+32{DASH}+64); heap trimmed +33 MB (+33{DASH}+33) | within noise |")


def test_memory_held_is_judged_without_the_trimmed_heap_where_a_sample_lacks_it():
    results = training_results(parity={"end_rss": 10 * 2**20, "end_rss_trimmed": [None, None]})
    assert target_row(results, "ours (parity): RSS after").endswith(f"| +10 MB (+10{DASH}+10) | met |")


def epoch_costs(**per_epoch) -> Measurements:
    """Measurements of contestants whose ordinary epoch cost the given seconds, one value per round."""
    measurements = Measurements()
    for name, values in per_epoch.items():
        measurements.rounds[name] = [RoundCosts({}, {}, 0.0, value, 0.0, value) for value in values]
    return measurements


def scale_epoch_results(parity: list, extended: list, floor: list) -> Results:
    real = epoch_costs(**{PARITY_SCALE: parity, EXTENDED_SCALE: extended, FLOOR_SCALE: floor})
    return Results(0, "", 0, True, Measurements(), real, None, {}, {}, [])


def test_a_3x_epoch_over_its_floor_by_more_than_the_target_is_reported_missed():
    results = scale_epoch_results(parity=[1.2e-3, 1.6e-3], extended=[1.0e-3, 1.1e-3], floor=[1e-3, 1e-3])
    assert target_row(results, "ours (parity, 3.x): ordinary epoch").endswith(
        f"| **1.4{TIMES}** (1.3{DASH}1.5) | **missed** |"
    )
    assert target_row(results, "ours (extended, 3.x): ordinary epoch").endswith("| met |")


def test_a_3x_epoch_straddling_the_target_across_rounds_is_reported_within_noise():
    results = scale_epoch_results(parity=[1.1e-3, 1.15e-3, 1.3e-3], extended=[1e-3] * 3, floor=[1e-3] * 3)
    assert target_row(results, "ours (parity, 3.x): ordinary epoch").endswith("| within noise |")


def test_extended_mode_with_the_3x_client_costing_more_than_a_tenth_of_the_training_is_reported_missed():
    results = training_results(**{"extended-scale": {"total": 2.4, "cpu": 1.0}})
    row = target_row(results, "ours (extended, 3.x): whole training")
    assert row.endswith(f"| +12.0% (+12.0%{DASH}+12.0%); CPU time +3.3% (+3.3%{DASH}+3.3%) | **missed** |")


def export_measured(runs: int = 20, epochs: int = 100, wall_s: float = 12.0) -> dict:
    """A ``benchmarks.export.measure`` result with the given size and wall time."""
    summary = "exported 20, updated 0, skipped 0, 0 warnings: MLflow experiment 'Ultralytics'"
    return {
        **{"runs": runs, "epochs": epochs, "wall_s": wall_s, "cpu_s": 9.0, "second_wall_s": 4.0, "second_cpu_s": 3.0},
        **{"summary": summary, "second_summary": summary, "upload_bytes": 270e6, "mlflow_runs": runs},
        **{"params": 3000, "metric_points": 26000, "artifacts": 300, "artifact_bytes": 270e6, "cpus": 2},
        **{"load_average": 0.1, "python": "3.11", "mlflow": "3", "neptune": "1"},
    }


def export_target(measured: dict) -> str:
    from benchmarks.export import results_section

    return results_section(measured).splitlines()[-1]


def test_an_export_of_20_runs_of_100_epochs_over_30_seconds_is_reported_missed():
    assert export_target(export_measured(wall_s=31.0)).endswith("| **missed** |")
    assert export_target(export_measured(wall_s=29.0)).endswith("| met |")


def test_an_export_of_another_size_is_not_judged_against_the_target():
    assert export_target(export_measured(runs=2, epochs=10)).endswith(f"| not measured (2 runs {TIMES} 10 epochs) |")
