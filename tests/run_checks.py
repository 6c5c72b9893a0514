"""What a complete parity run holds: shared by the end-to-end and command-line tests."""

from __future__ import annotations

import os
from pathlib import Path

from ultralytics_neptune.offline import OfflineRun
from ultralytics_neptune.releases import parse_version

EPOCHS = 3
#: the events of the contributed module's callbacks dict, in the order a training fires them
MODULE_EVENTS = [
    "on_pretrain_routine_start",
    "on_train_epoch_end",
    "on_fit_epoch_end",
    "on_val_end",
    "on_train_end",
    "teardown",
]
#: the events a registration adds callbacks to: the module's, and the start of the client once the trainer is set up
EVENTS = [*MODULE_EVENTS[:1], "on_train_start", *MODULE_EVENTS[1:]]


def outside_pytest() -> dict:
    """This process's environment without pytest's marker: Ultralytics under pytest switches to a test mode that
    saves runs inside its own package and disables integrations."""
    return {key: value for key, value in os.environ.items() if key != "PYTEST_CURRENT_TEST"}


SERIES_FAMILIES = ("train", "lr", "metrics", "val")
UPLOAD_FAMILIES = ("Mosaic", "Validation", "Plots", "weights")
ATOM_FAMILIES = ("Configuration/Hyperparameters", "Configuration/Model")


def final_evaluation_step(ultralytics_version: str) -> int:
    """Where the final evaluation's metrics land: E+1 from 8.4.52, before that E again (REFERENCE section 2)."""
    return EPOCHS + 1 if parse_version(ultralytics_version) >= (8, 4, 52) else EPOCHS


def problems_of(run: OfflineRun, ultralytics_version: str) -> list:
    """Everything a complete parity run should hold and this one does not."""
    problems = []
    fields = {"/".join(op["path"]) for op in run.trace.operations}
    for family in (*SERIES_FAMILIES, *UPLOAD_FAMILIES, *ATOM_FAMILIES):
        if not any(field.startswith(family + "/") for field in fields):
            problems.append(f"namespace family {family} is missing")
    series = run.series()
    for name, points in series.items():
        steps = [step for step, _ in points]
        if name.startswith(("train/", "lr/")) and steps != list(range(1, EPOCHS + 1)):
            problems.append(f"{name} has steps {steps}, expected 1..{EPOCHS}")
        if name.startswith("metrics/") and steps != [*range(1, EPOCHS + 1), final_evaluation_step(ultralytics_version)]:
            problems.append(f"{name} has steps {steps}, expected 1..{EPOCHS} then the final evaluation")
    for name, upload in run.uploads().items():
        if upload["content"].get("missing"):
            problems.append(f"{name} references a file that does not exist")
    return problems


def comparable(trace, save_dir, workdir) -> dict:
    """{field: [operation, ...]} of a trace without what a replay does not reproduce: file bytes and figure pixels
    (a replay writes synthetic images of the recorded sizes) and the work folder in paths (a recording keeps paths
    relative to it)."""
    prefix = f"{Path(workdir).resolve()}/"
    fields: dict = {}
    for op in trace.relative_to(save_dir).without_environment().operations:
        op = {key: value for key, value in op.items() if key != "tmp_file_name"}
        if op["type"] == "UploadFile":
            image = op.pop("content", {}).get("image")
            op["file_path"] = op.get("file_path")
            op["image size"] = (image["width"], image["height"]) if image else None
        elif isinstance(op.get("value"), str) and op["value"].startswith(prefix):
            op["value"] = op["value"][len(prefix) :]
        fields.setdefault("/".join(op["path"]), []).append(op)
    return fields
