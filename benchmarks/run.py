"""Run the whole benchmark suite and write benchmarks/RESULTS.md.

    python -m benchmarks.run [--epochs 100] [--rounds-real 10] [--quick] [--out FILE]

Needs the ``bench`` extra and Ultralytics 8.4.131 (the last release with the upstream Neptune callback, so that it
runs live in the same process as ours): ``tox -e bench`` installs exactly that.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "benchmarks" / "RESULTS.md"


def parse_args(argv: list | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100, help="epochs of the replayed training (default 100)")
    parser.add_argument("--rounds-fake", type=int, default=8, help="interleaved rounds with the fake client")
    parser.add_argument("--rounds-real", type=int, default=10, help="interleaved rounds with the real client and peers")
    parser.add_argument("--rounds-plots", type=int, default=4, help="rounds of the train-end plot comparison")
    parser.add_argument("--rounds-startup", type=int, default=6, help="fresh processes per import probe")
    parser.add_argument("--rounds-memory", type=int, default=1, help="fresh processes per contestant for memory")
    parser.add_argument("--rounds-training", type=int, default=8, help="rounds of whole real trainings (6 modes)")
    parser.add_argument("--export-runs", type=int, default=20, help="offline runs the MLflow export benchmark writes")
    parser.add_argument("--export-epochs", type=int, default=100, help="epochs of each of those runs")
    parser.add_argument("--quick", action="store_true", help="a fast smoke run: 10 epochs, 2 rounds of everything")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"where to write (default {DEFAULT_OUT})")
    parser.add_argument("--workdir", type=Path, help="scratch folder (default: a new temporary one, removed after)")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.rounds_fake, args.rounds_real = 10, 2, 2
        args.rounds_plots, args.rounds_startup, args.rounds_memory, args.rounds_training = 2, 2, 1, 1
        args.export_runs, args.export_epochs = 2, 10
    return args


def log(message: str) -> None:
    print(message, flush=True)


def same_work(traces: dict, parity: str, others: list) -> list:
    """Check lines: the fake-client trace of each other contestant against parity mode's."""
    from ultralytics_neptune.trace import diff_traces

    lines = []
    for other in others:
        differences = diff_traces(traces[parity], traces[other])
        outcome = "identical" if not differences else f"**{len(differences)} differences**, first: {differences[0]}"
        lines.append(f"{other} vs {parity}, fake client: {outcome}")
    return lines


def main(argv: list | None = None) -> int:
    args = parse_args(argv)
    started, clock = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), time.perf_counter()
    workdir = (args.workdir or Path(tempfile.mkdtemp(prefix="ultralytics-neptune-bench-"))).resolve()

    from benchmarks.environment import prepare, tracker_environment

    notes = [prepare(workdir)]

    from benchmarks import harness, memory, plots, startup, training
    from benchmarks.contestants import (
        FloorContestant,
        Ours,
        ScaleFloorContestant,
        ScaleOurs,
        Upstream,
        extended_available,
        peers,
        real_neptune,
        same_scale_run,
        scale_available,
    )
    from benchmarks.environment import QUIET_NEPTUNE
    from benchmarks.floor import record_calls
    from benchmarks.floor_scale import record_scale_calls
    from benchmarks.report import Results, render
    from benchmarks.scenario import RECORDING, load_scenario, set_peer_model
    from ultralytics_neptune.synthetic import offline_environment
    from ultralytics_neptune.trace import Trace
    from ultralytics_neptune.verification.parity import fake_client
    from ultralytics_neptune.verification.upstream import upstream_module_path

    if upstream_module_path() is None:
        import ultralytics

        log(
            f"Ultralytics {ultralytics.__version__} has no Neptune callback of its own: the benchmarks compare with "
            "the upstream module live, so they need ultralytics==8.4.131 (run them with `tox -e bench`)."
        )
        return 2

    scenario = load_scenario(args.epochs)
    extended = extended_available()
    log(f"scenario: {RECORDING} stretched to {args.epochs} epochs; extended mode {'on' if extended else 'absent'}")
    log("recording the client calls of parity mode (for the floor)")
    calls = record_calls(scenario, workdir)
    scale = scale_available()
    if scale:
        log("recording the Neptune 3.x client calls of parity mode with client='scale' (for the 3.x floor)")
        scale_parity = ScaleOurs()
        scale_floor = ScaleFloorContestant(record_scale_calls(scenario, workdir, **QUIET_NEPTUNE))
        scale_contestants = [scale_parity, ScaleOurs(extended=True), scale_floor]
    else:
        log("neptune-scale is not installed: no Neptune 3.x contestants")
        scale_contestants = []
    set_peer_model(scenario.recording)
    ours = [Ours(), *([Ours(extended=True)] if extended else [])]

    log(f"fake client: {args.rounds_fake} rounds")
    traces: dict = {}
    with fake_client() as fake:

        def take_trace(contestant, save_dir: Path) -> None:
            traces[contestant.name] = Trace.from_run(fake.last_run, save_dir)

        floor, upstream = FloorContestant(calls), Upstream()
        fake_results = harness.measure(
            [*ours, upstream, floor], scenario, args.rounds_fake, workdir, after_warm_up=take_trace, log=log
        )
    checks = same_work(traces, ours[0].name, [upstream.name, floor.name])

    log(f"real client (offline) and other trackers: {args.rounds_real} rounds")
    problems: dict = {}

    def check_logging(contestant, save_dir: Path) -> None:
        problems[contestant.name] = contestant.problem(save_dir)

    with real_neptune():
        contestants = [*ours, Upstream(), FloorContestant(calls), *scale_contestants, *peers()]
        real_results = harness.measure(
            contestants, scenario, args.rounds_real, workdir, after_warm_up=check_logging, log=log
        )
    if scale_contestants:
        checks.append(same_scale_run(scale_parity, scale_floor))
    checked = [name for name, problem in problems.items() if problem is None and name in {p.name for p in peers()}]
    checks.append(f"{', '.join(checked)} logged the replay (event files, metrics and artifacts, offline run)")
    read_back = [contestant.name for contestant in scale_contestants if problems[contestant.name] is None]
    if read_back:
        checks.append(f"{', '.join(read_back)} wrote one 3.x run each, read back with every epoch's metrics")
    checks += [f"**{name}: {problem}**" for name, problem in problems.items() if problem]
    for line in checks:
        log(f"check: {line}")
    with real_neptune():
        log(f"train-end plots: {args.rounds_plots} rounds")
        plot_costs = plots.measure(scenario, args.rounds_plots, workdir, log=log)

    log(f"import and registration: {args.rounds_startup} fresh processes per probe")
    environment = {**offline_environment(workdir), **tracker_environment(workdir)}
    startup_results = startup.measure(args.rounds_startup, environment, ROOT, log=log)

    keys = ["none", "parity", *(["extended"] if extended else []), "upstream", "tensorboard", "mlflow", "wandb"]
    log(f"memory: {args.rounds_memory} fresh process(es) per contestant")
    memory_results = memory.measure(keys, args.epochs, args.rounds_memory, workdir, ROOT, log=log)

    modes = training.MODES if scale else training.MODES_1X
    log(f"whole trainings: {args.rounds_training} rounds of {', '.join(modes)}")
    training_results = training.measure(args.rounds_training, workdir / "trainings", ROOT, modes, log=log)

    from benchmarks import export

    log(f"export to MLflow: {args.export_runs} runs of {args.export_epochs} epochs")
    export_results = export.measure(args.export_runs, args.export_epochs, workdir / "export")

    results = Results(
        epochs=args.epochs,
        scenario=RECORDING,
        events=len(scenario.events),
        extended=extended,
        scale=scale,
        fake=fake_results,
        real=real_results,
        plots=plot_costs,
        startup=startup_results,
        memory=memory_results,
        checks=checks,
        training=training_results,
        export=export_results,
        seconds=time.perf_counter() - clock,
        notes=notes,
    )
    arguments = " ".join(sys.argv[1:] if argv is None else argv)
    tox_env = os.environ.get("TOX_ENV_NAME")
    command = (
        f"tox -e {tox_env}" + (f" -- {arguments}" if arguments else "")
        if tox_env
        else f"python -m benchmarks.run {arguments}"
    )
    args.out.write_text(render(results, command, started))
    log(f"wrote {args.out} ({results.seconds / 60:.1f} minutes)")
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
