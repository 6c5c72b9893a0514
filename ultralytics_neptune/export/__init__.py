"""``ultralytics-neptune export``: offline Neptune runs into MLflow runs, once each, with no Neptune server.

Importing this package is cheap: MLflow, the offline reader and tqdm are imported when runs are exported.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

HELP = "export offline Neptune runs into MLflow runs (params, metrics, tags, artifacts), once each"
DESCRIPTION = (
    "Export every offline Neptune run under PATH (a folder holding .neptune, .neptune itself, or one run folder "
    ".neptune/offline/run__...; default: the current folder) into MLflow: hyperparameters as params, series as "
    "metrics at their steps, other values as tags, uploads as artifacts at their field paths, and the run's name and "
    "status. Each MLflow run carries its Neptune run's id (tag neptune.run_id): exporting again skips a run exported "
    "in full, brings one that grew up to date, and --replace exports it anew. A run that cannot be read in full is "
    "exported as far as it goes, with a warning naming what was skipped."
)
INSTALL = "pip install 'ultralytics-neptune[mlflow]'"
ACTIONS = {"new": "new", "updated": "brought up to date", "replaced": "replaced"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ultralytics_neptune.cli import add_run_selection
    from ultralytics_neptune.export.to_mlflow import DEFAULT_EXPERIMENT

    add_run_selection(parser)
    parser.add_argument("--to", choices=["mlflow"], default="mlflow", help="where to export (default: mlflow)")
    parser.add_argument(
        "--tracking-uri",
        metavar="URI",
        help="the MLflow tracking store (default: MLflow's own: MLFLOW_TRACKING_URI, else sqlite:///mlflow.db here)",
    )
    parser.add_argument(
        "--experiment",
        default=DEFAULT_EXPERIMENT,
        metavar="NAME",
        help=f"the MLflow experiment, made if missing (default: {DEFAULT_EXPERIMENT})",
    )
    parser.add_argument("--replace", action="store_true", help="export runs anew even where their export is current")


def find_sources(paths: list, last: int | None = None) -> list:
    """The runs under paths, newest first, each as a function that reads it (the 1.x client's offline folders and
    the 3.x client's SQLite files, as the report finds them)."""
    from functools import partial

    from ultralytics_neptune.export.offline_runs import OfflineSourceRun
    from ultralytics_neptune.report.runs import find_runs

    return [partial(OfflineSourceRun, folder) for folder in find_runs(paths, last)]


def _summary(destination, outcomes: Counter, warnings: int, failed: int) -> str:
    exported = sum(outcomes[action] for action in ACTIONS)
    done = ", ".join(f"{outcomes[action]} {said}" for action, said in ACTIONS.items())
    failures = f", {failed} failed" if failed else ""
    return (
        f"Exported {exported} run{'s' if exported != 1 else ''} ({done}), skipped {outcomes['skipped']} "
        f"(unchanged){failures}, {warnings} warning{'s' if warnings != 1 else ''}: MLflow experiment "
        f"{destination.experiment!r} at {destination.tracking_uri}"
    )


def run(args: argparse.Namespace) -> int:
    from ultralytics_neptune.export.to_mlflow import MlflowDestination, MlflowMissing

    sources = find_sources(args.paths, args.last)
    if not sources:
        where = ", ".join(str(Path(path).resolve()) for path in args.paths)
        print(f"ultralytics-neptune export: no offline Neptune run under {where}", file=sys.stderr)
        return 1
    try:
        destination = MlflowDestination(args.tracking_uri, args.experiment)
    except MlflowMissing as error:
        print(f"ultralytics-neptune export: MLflow is not installed ({error}); {INSTALL}", file=sys.stderr)
        return 1
    outcomes, warnings, failed = export_all(destination, sources, args.replace)
    print(_summary(destination, outcomes, warnings, failed))
    return 1 if failed else 0


def export_all(destination, sources: list, replace: bool = False) -> tuple:
    """Export every source with a progress bar on stderr; print each run's warnings and notes there.

    Returns:
        (tuple): (Counter of outcomes by action, number of warnings, number of runs that failed).
    """
    from mlflow.exceptions import MlflowException
    from tqdm import tqdm

    outcomes, warnings, failed = Counter(), 0, 0
    with tqdm(total=len(sources), desc="export", unit="run", file=sys.stderr, disable=None) as bar:

        def file_bar(total: int):
            return tqdm(total=total, desc="  files", unit="file", file=sys.stderr, leave=False, disable=None)

        for read in sources:
            source = None
            try:
                source = read()
                outcome = destination.export(source, replace, file_bar)
            except (OSError, ValueError, ImportError, MlflowException) as error:  # ImportError: a 3.x run's client
                where = source.location if source else read.args[0]
                bar.write(f"error: {where} could not be exported: {type(error).__name__}: {error}", file=sys.stderr)
                failed += 1
            else:
                outcomes[outcome.action] += 1
                warnings += len(outcome.warnings)
                for line in outcome.warnings:
                    bar.write(f"warning: {source.label}: {line}", file=sys.stderr)
                for line in outcome.notes:
                    bar.write(f"note: {source.label}: {line}", file=sys.stderr)
            bar.update()
    return outcomes, warnings, failed
