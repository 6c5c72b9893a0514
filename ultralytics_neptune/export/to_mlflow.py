"""Writing exportable runs into an MLflow tracking store, once: each MLflow run carries its Neptune run's id.

What goes where: the configuration's single values (``Configuration/...``) are params, float series are metrics at
their steps with their timestamps, every other single value is a tag, uploads (and text and image series) are
artifacts at their field paths, the run's name, description (``mlflow.note.content``) and status (FAILED where
``sys/failed`` is true) are the run's. Names go through ``names.mlflow_name``. The artifact
``neptune-export/names.json`` maps each MLflow name back to its field, ``neptune-export/values.json`` holds every
single value in full (params and tags longer than MLflow keeps are cut) and what has no place of its own in MLflow.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ultralytics_neptune.export.contents import ExportFile, RunContents, SourceRun
from ultralytics_neptune.export.names import MAX_PARAM_VALUE, MAX_TAG_VALUE, clipped, mlflow_name

RUN_ID_TAG = "neptune.run_id"
#: set last, once everything else is written: a run without them was interrupted and is exported again
OPERATIONS_TAG = "neptune.operations"
FINGERPRINT_TAG = "neptune.fingerprint"
FOLDER_TAG = "neptune.folder"
DESCRIPTION_TAG = "mlflow.note.content"
BOOKKEEPING = "neptune-export"
DEFAULT_EXPERIMENT = "neptune-offline"
#: MLflow's limits on one log_batch call
METRICS_PER_BATCH = 1000
PARAMS_TAGS_PER_BATCH = 100
#: a run with more files than this gets its own progress bar
FILES_FOR_A_BAR = 20
_ABSENT = object()


class MlflowMissing(ImportError):
    """MLflow is not installed."""


@dataclass
class Outcome:
    """What exporting one run did: "new", "updated", "replaced" or "skipped", what could not be exported (warnings)
    and what else to say (notes)."""

    action: str
    warnings: list = field(default_factory=list)
    notes: list = field(default_factory=list)


def _value_text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value) if value is None else str(value)


def _names(fields, problems: list) -> dict:
    """{MLflow name: field}; a field whose name another field already has is left out, with a problem."""
    named: dict = {}
    for path in fields:
        name = mlflow_name(path)
        if name in named:
            problems.append(f"{path}: its MLflow name {name!r} is {named[name]}'s too; not exported")
        else:
            named[name] = path
    return named


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


class MlflowDestination:
    """One experiment of an MLflow tracking store, and the Neptune runs already exported into it."""

    def __init__(self, tracking_uri: str | None = None, experiment: str = DEFAULT_EXPERIMENT):
        try:
            import mlflow
            from mlflow import MlflowClient
        except ImportError as error:
            raise MlflowMissing(str(error)) from error
        self.client = MlflowClient(tracking_uri)
        self.tracking_uri = tracking_uri or mlflow.get_tracking_uri()
        self.experiment = experiment
        found = self.client.get_experiment_by_name(experiment)
        self.experiment_id = found.experiment_id if found else self.client.create_experiment(experiment)
        self.exported = self._exported_runs()

    def _exported_runs(self) -> dict:
        """{Neptune run id: MLflow run} of the experiment's active runs that carry one (the newest of several)."""
        found: dict = {}
        token = None
        while True:
            page = self.client.search_runs(
                [self.experiment_id], f"tags.`{RUN_ID_TAG}` != ''", max_results=1000, page_token=token
            )
            for run in page:
                found.setdefault(run.data.tags[RUN_ID_TAG], run)
            token = page.token
            if not token:
                return found

    def export(self, source: SourceRun, replace: bool = False, file_bar=None) -> Outcome:
        """Export one run: new, brought up to date, replaced, or skipped when its export is current.

        Args:
            source (SourceRun): The Neptune run.
            replace (bool): Replace its earlier export even when it is current.
            file_bar (Callable | None): ``file_bar(total)`` returns a progress bar (with ``update()`` and ``close()``)
                over the files of a run that has many.

        Returns:
            (Outcome): What was done.
        """
        existing = self.exported.get(source.run_id)
        if existing is None:
            return self._write(source, RunContents(), source.contents(), "new", file_bar)
        tags = existing.data.tags
        exported = int(tags.get(OPERATIONS_TAG, -1))
        current = exported >= 0 and tags.get(FINGERPRINT_TAG) == source.fingerprint(exported)
        if replace or not current or exported > source.operations:
            why = [] if replace else [f"its earlier export ({existing.info.run_id}) was incomplete or differs"]
            return self._replace(existing, source, file_bar, why)
        if exported == source.operations:
            return Outcome("skipped")
        before, after = source.contents(exported), source.contents()
        why = _not_appendable(before, after)
        if why:
            return self._replace(existing, source, file_bar, [why])
        return self._write(source, before, after, "updated", file_bar, existing.info.run_id)

    def _replace(self, existing, source: SourceRun, file_bar, notes: list) -> Outcome:
        self.client.delete_run(existing.info.run_id)
        outcome = self._write(source, RunContents(), source.contents(), "replaced", file_bar)
        outcome.notes[:0] = notes
        return outcome

    def _write(
        self, source: SourceRun, before: RunContents, after: RunContents, action: str, file_bar, run_id: str = ""
    ) -> Outcome:
        """Write what the run holds beyond ``before`` (an empty RunContents for a new run)."""
        if not run_id:
            tags = {RUN_ID_TAG: source.run_id, FOLDER_TAG: source.location}
            run_id = self.client.create_run(
                self.experiment_id, start_time=source.created_ms, tags=tags, run_name=after.name or None
            ).info.run_id
        elif after.name != before.name:
            self.client.update_run(run_id, name=after.name)
        outcome = Outcome(action, warnings=[*source.problems, *after.problems])
        names = {
            "params": _names(after.params, outcome.warnings),
            "metrics": _names(after.series, outcome.warnings),
            "tags": _names(after.values, outcome.warnings),
        }
        cut = self._log_values(run_id, before, after, names)
        self._log_metrics(run_id, before, after, names["metrics"])
        self._log_files(run_id, [file for file in after.files if file not in before.files], file_bar)
        self._log_bookkeeping(run_id, after, names)
        if cut:
            outcome.notes.append(
                f"{cut} value(s) longer than MLflow keeps were cut; in full in {BOOKKEEPING}/values.json"
            )
        self.client.set_terminated(run_id, "FAILED" if after.failed is True else "FINISHED", source.ended_ms)
        self._log_exported(run_id, source)
        return outcome

    def _log_exported(self, run_id: str, source: SourceRun) -> None:
        """Mark the run exported in full (last: an interrupted export is not), and know it from now on (a copy of the
        run in another folder is then the same run)."""
        from mlflow.entities import RunTag

        done = [
            RunTag(OPERATIONS_TAG, str(source.operations)),
            RunTag(FINGERPRINT_TAG, source.fingerprint(source.operations)),
        ]
        self.client.log_batch(run_id, tags=done)
        self.exported[source.run_id] = self.client.get_run(run_id)

    def _log_values(self, run_id: str, before: RunContents, after: RunContents, names: dict) -> int:
        """Log the params and tags that are new or changed; return how many were cut to MLflow's limits."""
        from mlflow.entities import Param, RunTag

        params, tags, cut = [], [], 0
        for name, path in names["params"].items():
            if path not in before.params:
                text = _value_text(after.params[path])
                params.append(Param(name, clipped(text, MAX_PARAM_VALUE)))
                cut += len(text) > MAX_PARAM_VALUE
        for name, path in names["tags"].items():
            if before.values.get(path, _ABSENT) != after.values[path]:
                text = _value_text(after.values[path])
                tags.append(RunTag(name, clipped(text, MAX_TAG_VALUE)))
                cut += len(text) > MAX_TAG_VALUE
        if after.description != before.description:
            tags.append(RunTag(DESCRIPTION_TAG, clipped(after.description, MAX_TAG_VALUE)))
        for batch in _chunks(params, PARAMS_TAGS_PER_BATCH):
            self.client.log_batch(run_id, params=batch)
        for batch in _chunks(tags, PARAMS_TAGS_PER_BATCH):
            self.client.log_batch(run_id, tags=batch)
        return cut

    def _log_metrics(self, run_id: str, before: RunContents, after: RunContents, names: dict) -> None:
        from mlflow.entities import Metric

        metrics = [
            Metric(name, point.value, point.timestamp_ms, point.step)
            for name, path in names.items()
            for point in after.series[path][len(before.series.get(path, [])) :]
        ]
        for batch in _chunks(metrics, METRICS_PER_BATCH):
            self.client.log_batch(run_id, metrics=batch)

    def _log_files(self, run_id: str, files: list, file_bar) -> None:
        """Log each file at its artifact path, from a staging folder where it has its artifact's name."""
        files = [file for file in files if not file.missing]
        bar = file_bar(len(files)) if file_bar and len(files) > FILES_FOR_A_BAR else None
        with tempfile.TemporaryDirectory(prefix="ultralytics-neptune-export-") as staging:
            for file in files:
                self.client.log_artifact(run_id, _staged(file, Path(staging)), _folder(file.artifact_path))
                if bar:
                    bar.update()
        if bar:
            bar.close()

    def _log_bookkeeping(self, run_id: str, after: RunContents, names: dict) -> None:
        artifacts = {f"{file.artifact_path}": file.field for file in after.files if not file.missing}
        self.client.log_dict(run_id, {**names, "artifacts": artifacts}, f"{BOOKKEEPING}/names.json")
        values = {"params": after.params, "tags": after.values, "listed": after.listed}
        self.client.log_text(run_id, json.dumps(values, indent=1, default=str), f"{BOOKKEEPING}/values.json")


def _not_appendable(before: RunContents, after: RunContents) -> str:
    """Why the export of ``before`` cannot be brought up to ``after`` by adding to it ("" when it can)."""
    for path, value in before.params.items():
        if path not in after.params or after.params[path] != value:
            return f"param {path} changed since its export (MLflow params cannot change)"
    for path, points in before.series.items():
        if after.series.get(path, [])[: len(points)] != points:
            return f"series {path} changed since its export (MLflow metrics can only be added to)"
    return ""


def _folder(artifact_path: str) -> str | None:
    parent = os.path.dirname(artifact_path)
    return parent or None


def _staged(file: ExportFile, staging: Path) -> str:
    """A path named as the file's artifact, holding its bytes: the data written, or a link to the source file."""
    target = staging / file.artifact_path
    target.parent.mkdir(parents=True, exist_ok=True)
    if file.data is not None:
        target.write_bytes(file.data)
    else:
        target.symlink_to(Path(file.source).resolve())
    return str(target)
