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
#: MLflow's limits on one log_batch call: params and tags each, and everything together
PARAMS_TAGS_PER_BATCH = 100
ENTITIES_PER_BATCH = 1000
#: a run with more files than this gets its own progress bar
FILES_FOR_A_BAR = 20
#: files logged by one log_artifacts call (each call advances the run's progress bar)
FILES_PER_CALL = 50
_ABSENT = object()


class MlflowMissing(ImportError):
    """MLflow is not installed."""


@dataclass(frozen=True)
class ExportedRun:
    """The MLflow run that holds a Neptune run, and the marks of its export (operations -1 where they are missing)."""

    mlflow_run_id: str
    operations: int
    fingerprint: str


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


def _batches(params: list, tags: list, metrics: list, last_tags: list) -> list:
    """(params, tags, metrics) of each log_batch call, as few calls as MLflow's limits allow; ``last_tags`` in the
    last call."""
    batches = []
    while params or tags or metrics or not batches:
        batch_params, params = params[:PARAMS_TAGS_PER_BATCH], params[PARAMS_TAGS_PER_BATCH:]
        batch_tags, tags = tags[:PARAMS_TAGS_PER_BATCH], tags[PARAMS_TAGS_PER_BATCH:]
        room = ENTITIES_PER_BATCH - len(batch_params) - len(batch_tags)
        batch_metrics, metrics = metrics[:room], metrics[room:]
        batches.append((batch_params, batch_tags, batch_metrics))
    last_params, last_batch_tags, last_metrics = batches[-1]
    fits = len(last_batch_tags) + len(last_tags) <= PARAMS_TAGS_PER_BATCH and (
        len(last_params) + len(last_batch_tags) + len(last_metrics) + len(last_tags) <= ENTITIES_PER_BATCH
    )
    if fits:
        batches[-1] = (last_params, last_batch_tags + last_tags, last_metrics)
    else:
        batches.append(([], last_tags, []))
    return batches


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
        """{Neptune run id: ExportedRun} of the experiment's active runs that carry one (the newest of several)."""
        found: dict = {}
        token = None
        while True:
            page = self.client.search_runs(
                [self.experiment_id], f"tags.`{RUN_ID_TAG}` != ''", max_results=1000, page_token=token
            )
            for run in page:
                tags = run.data.tags
                exported = ExportedRun(
                    run.info.run_id, int(tags.get(OPERATIONS_TAG, -1)), tags.get(FINGERPRINT_TAG, "")
                )
                found.setdefault(tags[RUN_ID_TAG], exported)
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
        exported = existing.operations
        current = exported >= 0 and existing.fingerprint == source.fingerprint(exported)
        if replace or not current or exported > source.operations:
            why = [] if replace else [f"its earlier export ({existing.mlflow_run_id}) was incomplete or differs"]
            return self._replace(existing, source, file_bar, why)
        if exported == source.operations:
            return Outcome("skipped")
        before, after = source.contents(exported), source.contents()
        why = _not_appendable(before, after)
        if why:
            return self._replace(existing, source, file_bar, [why])
        return self._write(source, before, after, "updated", file_bar, existing.mlflow_run_id)

    def _replace(self, existing: ExportedRun, source: SourceRun, file_bar, notes: list) -> Outcome:
        self.client.delete_run(existing.mlflow_run_id)
        outcome = self._write(source, RunContents(), source.contents(), "replaced", file_bar)
        outcome.notes[:0] = notes
        return outcome

    def _write(
        self, source: SourceRun, before: RunContents, after: RunContents, action: str, file_bar, run_id: str = ""
    ) -> Outcome:
        """Write what the run holds beyond ``before`` (an empty RunContents for a new run): its files, its status,
        then its params, tags and metrics in as few calls as MLflow allows, the last of them marking it exported (an
        interrupted export is not)."""
        from mlflow.entities import RunTag

        if not run_id:
            identity = {RUN_ID_TAG: source.run_id, FOLDER_TAG: source.location}
            run_id = self.client.create_run(
                self.experiment_id, start_time=source.created_ms, tags=identity, run_name=after.name or None
            ).info.run_id
        elif after.name != before.name:
            self.client.update_run(run_id, name=after.name)
        outcome = Outcome(action, warnings=[*source.problems, *after.problems])
        names = {
            "params": _names(after.params, outcome.warnings),
            "metrics": _names(after.series, outcome.warnings),
            "tags": _names(after.values, outcome.warnings),
        }
        files = [file for file in after.files if file not in before.files and not file.missing]
        self._log_files(run_id, [*files, *_bookkeeping(after, names)], file_bar)
        self.client.set_terminated(run_id, "FAILED" if after.failed is True else "FINISHED", source.ended_ms)
        params, tags, cut = _values(before, after, names)
        if cut:
            outcome.notes.append(
                f"{cut} value(s) longer than MLflow keeps were cut; in full in {BOOKKEEPING}/values.json"
            )
        fingerprint = source.fingerprint(source.operations)
        done = [RunTag(OPERATIONS_TAG, str(source.operations)), RunTag(FINGERPRINT_TAG, fingerprint)]
        for batch_params, batch_tags, batch_metrics in _batches(params, tags, _metrics(before, after, names), done):
            self.client.log_batch(run_id, metrics=batch_metrics, params=batch_params, tags=batch_tags)
        # known from now on: a copy of the run in another folder is then the run already exported
        self.exported[source.run_id] = ExportedRun(run_id, source.operations, fingerprint)
        return outcome

    def _log_files(self, run_id: str, files: list, file_bar) -> None:
        """Log the files at their artifact paths, a few calls each logging a staging folder where they have their
        artifacts' names."""
        bar = file_bar(len(files)) if file_bar and len(files) > FILES_FOR_A_BAR else None
        with tempfile.TemporaryDirectory(prefix="ultralytics-neptune-export-") as staging:
            for number, chunk in enumerate(_chunks(files, FILES_PER_CALL)):
                folder = Path(staging) / str(number)
                for file in chunk:
                    _staged(file, folder)
                self.client.log_artifacts(run_id, str(folder))
                if bar:
                    bar.update(len(chunk))
        if bar:
            bar.close()


def _values(before: RunContents, after: RunContents, names: dict) -> tuple:
    """(params, tags, how many were cut to MLflow's limits) that are new or changed since ``before``."""
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
    return params, tags, cut


def _metrics(before: RunContents, after: RunContents, names: dict) -> list:
    """The metric points logged since ``before``."""
    from mlflow.entities import Metric

    return [
        Metric(name, point.value, point.timestamp_ms, point.step)
        for name, path in names["metrics"].items()
        for point in after.series[path][len(before.series.get(path, [])) :]
    ]


def _bookkeeping(after: RunContents, names: dict) -> list:
    """The export's own files: each MLflow name's field and each artifact's, and every value in full."""
    artifacts = {f"{file.artifact_path}": file.field for file in after.files if not file.missing}
    listing = json.dumps({**names, "artifacts": artifacts}, indent=2, default=str)
    values = {"params": after.params, "tags": after.values, "listed": after.listed}
    return [
        ExportFile(f"{BOOKKEEPING}/names.json", "", data=listing.encode()),
        ExportFile(f"{BOOKKEEPING}/values.json", "", data=json.dumps(values, indent=1, default=str).encode()),
    ]


def _not_appendable(before: RunContents, after: RunContents) -> str:
    """Why the export of ``before`` cannot be brought up to ``after`` by adding to it ("" when it can)."""
    for path, value in before.params.items():
        if path not in after.params or after.params[path] != value:
            return f"param {path} changed since its export (MLflow params cannot change)"
    for path, points in before.series.items():
        if after.series.get(path, [])[: len(points)] != points:
            return f"series {path} changed since its export (MLflow metrics can only be added to)"
    return ""


def _staged(file: ExportFile, staging: Path) -> str:
    """A path named as the file's artifact, holding its bytes: the data written, or a link to the source file."""
    target = staging / file.artifact_path
    target.parent.mkdir(parents=True, exist_ok=True)
    if file.data is not None:
        target.write_bytes(file.data)
    else:
        target.symlink_to(Path(file.source).resolve())
    return str(target)
