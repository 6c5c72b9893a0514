"""``ultralytics-neptune parity --live``: real tiny trainings on the installed Ultralytics, checked against the trainer.

For each task a real training (3 epochs, plots on, CPU, the package's synthetic data, no network) runs in a process
of its own, logged through our callbacks to a Neptune offline run. What reached the run is then compared with what
the trainer itself wrote, an oracle that needs no recording:

- ``results.csv``: every row and column; each loss, metric and learning rate at step epoch + 1, equal to the CSV's
  value at the CSV's precision (a column no callback ever logged is named as not checked, with why); the final
  evaluation's metrics, which the CSV does not hold, by presence, step (per era) and the value the trainer held;
- ``args.yaml`` against ``Configuration/Hyperparameters``;
- the image and plot files of the run folder against the uploads, by the rule of the installed release's era; a file
  the rule leaves out is "written, not uploaded" (information);
- the best weights (the uploaded file's size and sha256 against the trainer's ``best.pt``) and the model summary.

Two comparisons need the bundled recording of the same task on the installed release (or the nearest earlier one):
the names of the logged fields (the recording replayed through our module as the installed release), where a field
that is new, gone or renamed is a difference, and the files of the run folder, where one the recorded release did
not write, or wrote and no longer does, is a difference. The CSV alone cannot see a rename: it carries the new name.

The training process runs ``python -m ultralytics_neptune.verification.live --task T --workdir DIR``; it writes what
the trainer held that no file keeps (the plots it registered, the final evaluation's metrics, the number of
parameters in ``best.pt``) to ``DIR/facts.json``.
"""

from __future__ import annotations

import argparse
import atexit
import csv
import difflib
import hashlib
import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ultralytics_neptune.offline import OfflineRun, offline_run_folders, read_offline_run
from ultralytics_neptune.releases import FIXED_PLOTS, era_of, parse_version

FACTS = "facts.json"
EPOCHS, IMGSZ, BATCH, IMAGES = 3, 64, 4, 8  # as the bundled recordings were made (their field names depend on it)
#: from this release the final evaluation's ``on_fit_epoch_end`` runs with epoch = epochs (step E+1; before: step E)
FINAL_STEP_AFTER_LAST = (8, 4, 52)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
MODEL_SUMMARY = ("model/parameters", "model/GFLOPs", "model/speed_PyTorch(ms)")
#: results.csv columns that are not logged series, and why
UNLOGGED_COLUMNS = {
    "epoch": "the row's epoch, checked as the step of every value of the row",
    "time": "seconds since the training started, which the Neptune callback never logged",
}
#: fields the client writes by itself, not compared by name
ENVIRONMENT = ("sys/", "monitoring/", "source_code/")
#: uploads of images globbed while plotting threads write them: compared by file, not by name with the recording
RACED = ("Mosaic/", "Validation/")
TRAINING_TIMEOUT = 900  # seconds one training may take before the check gives up on it


class TrainingFailed(RuntimeError):
    """The training process ended with an error; the message holds the end of its output."""


@dataclass
class Training:
    """One finished training: where it ran and what its process reported."""

    task: str
    extended: bool
    workdir: Path
    facts: dict
    seconds: float = 0.0

    @property
    def version(self) -> str:
        return self.facts["ultralytics"]

    @property
    def save_dir(self) -> Path:
        return Path(self.facts["save_dir"])

    def runs(self) -> list:
        """The offline runs the training wrote (one, when logging worked)."""
        return [read_offline_run(folder) for folder in offline_run_folders(self.workdir / ".neptune")]


@dataclass
class LiveResult:
    """What one check of a training found: differences (failures) and notes (information)."""

    differences: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.differences


# the training process


def worker_environment(workdir: Path) -> dict:
    """The environment of a training process: offline, no pytest marks, no automatic registration, data in workdir."""
    environment = dict(os.environ)
    for name in ("PYTEST_CURRENT_TEST", "NEPTUNE_CUSTOM_RUN_ID", "ULTRALYTICS_NEPTUNE_EXTENDED"):
        environment.pop(name, None)
    environment.update(
        ULTRALYTICS_NEPTUNE="0",  # the check registers its callbacks itself
        NEPTUNE_MODE="offline",
        NEPTUNE_DATA_DIRECTORY=str(Path(workdir) / ".neptune"),
        TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD="1",  # releases before 8.3 load their own checkpoints with today's torch
        YOLO_VERBOSE="False",
    )
    return environment


def train(task: str, workdir: Path | str, extended: bool = False, hook: str | None = None) -> Training:
    """Train the task in a new process in workdir, logged through our callbacks to a Neptune offline run.

    Args:
        task (str): One of ``ultralytics_neptune.synthetic.TASKS``.
        workdir (Path | str): An empty folder for the dataset, settings, runs and the Neptune data.
        extended (bool): Register extended mode instead of parity mode.
        hook (str | None): ``path/to/file.py:function`` called with the YOLO model once our callbacks are added; it
            may wrap callbacks and return extra ``train()`` arguments (a trainer class, say).

    Returns:
        (Training): The finished training.
    """
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    prepare_settings(workdir)
    command = [sys.executable, "-m", __name__, "--task", task, "--workdir", str(workdir)]
    command += ["--extended"] * extended + (["--hook", hook] if hook else [])
    started = time.monotonic()
    try:
        result = subprocess.run(
            command, env=worker_environment(workdir), capture_output=True, text=True, timeout=TRAINING_TIMEOUT
        )
    except subprocess.TimeoutExpired as error:
        raise TrainingFailed(f"the {task} training took over {TRAINING_TIMEOUT} s") from error
    seconds = time.monotonic() - started
    if result.returncode != 0 or not (workdir / FACTS).exists():
        lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
        raise TrainingFailed(f"the {task} training exited {result.returncode}: {' | '.join(lines[-3:])}")
    return Training(task, extended, workdir, json.loads((workdir / FACTS).read_text()), seconds)


_settings_template: list = []  # the folder of this process's prepared Ultralytics settings, once made


def prepare_settings(workdir: Path) -> None:
    """Give workdir the Ultralytics settings of ``synthetic.write_ultralytics_settings`` (runs under workdir, no
    analytics, no built-in Neptune callback) by copying the settings made once for this process: making them imports
    Ultralytics in a process of its own, about 3 s a training otherwise.
    """
    if not _settings_template:
        template = Path(tempfile.mkdtemp(prefix="ultralytics-neptune-live-settings-"))
        atexit.register(shutil.rmtree, template, ignore_errors=True)
        script = "import sys; from ultralytics_neptune.synthetic import write_ultralytics_settings as w; w(sys.argv[1])"
        subprocess.run([sys.executable, "-c", script, str(template)], env=worker_environment(template), check=True)
        _settings_template.append(template)
    template = _settings_template[0]
    shutil.copytree(template / "yolo-config", workdir / "yolo-config", dirs_exist_ok=True)
    for settings_file in (workdir / "yolo-config").rglob("settings.*"):  # Ultralytics/settings.json; old: settings.yaml
        text = settings_file.read_text(encoding="utf-8")
        settings_file.write_text(text.replace(str(template / "runs"), str(workdir / "runs")), encoding="utf-8")


class Probe:
    """Callbacks that note what the trainer held and wrote to no file: registered plots, final metrics, and the
    images present when our callbacks glob for them (Ultralytics writes them on plotting threads: which exist when an
    event fires is a race, so each glob is noted just before our callbacks run and just after).
    """

    def __init__(self):
        self.fit_epoch_ends: list = []
        self.facts: dict = {"mosaics": {"before": [], "after": []}, "validation": {"before": [], "after": []}}

    def on_fit_epoch_end(self, trainer) -> None:
        metrics = {key: _number(value) for key, value in (getattr(trainer, "metrics", None) or {}).items()}
        self.fit_epoch_ends.append({"epoch": trainer.epoch, "metrics": metrics})

    def _mosaics(self, trainer, when: str) -> None:
        if getattr(trainer, "epoch", None) == 1:
            self.facts["mosaics"][when] = _names(trainer.save_dir, "train_batch*.jpg")

    def _validation(self, validator, when: str) -> None:
        seen = self.facts["validation"][when]
        seen += [name for name in _names(validator.save_dir, "val*.jpg") if name not in seen]

    def callbacks(self, when: str) -> dict:
        """The probe's callbacks to run before (``"before"``) or after (``"after"``) ours."""
        return {
            "on_train_epoch_end": lambda trainer: self._mosaics(trainer, when),
            "on_val_end": lambda validator: self._validation(validator, when),
        }

    def on_train_end(self, trainer) -> None:
        validator = getattr(trainer, "validator", None)
        registered = [*list(getattr(trainer, "plots", {})), *list(getattr(validator, "plots", {}) or {})]
        self.facts.update(
            save_dir=str(Path(trainer.save_dir).resolve()),
            best=str(Path(trainer.best).resolve()),
            last=str(Path(trainer.last).resolve()),
            plots_registered=[str(Path(path).resolve()) for path in registered],
        )


def _names(directory, pattern: str) -> list:
    return sorted(path.name for path in Path(directory).glob(pattern))


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return repr(value)


def _load_hook(spec: str):
    path, _, name = spec.rpartition(":")
    module_spec = importlib.util.spec_from_file_location(f"live_hook_{Path(path).stem}", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return getattr(module, name)


def _parameters(weights: str):
    """The number of parameters of the model saved in a checkpoint (None when it cannot be read)."""
    try:
        import torch

        checkpoint = torch.load(weights, map_location="cpu", weights_only=False)
        model = checkpoint.get("model") or checkpoint.get("ema")
        return int(sum(parameter.numel() for parameter in model.parameters()))
    except Exception:
        return None


def run_training(task: str, workdir: Path, extended: bool = False, hook: str | None = None) -> dict:
    """The training process: train the task in workdir with our callbacks and the probe; return the facts."""
    from ultralytics_neptune.synthetic import MODELS, apply_offline_environment, make_dataset

    workdir = Path(workdir).resolve()
    apply_offline_environment(workdir, settings=True)
    data = make_dataset(task, workdir / "dataset", images=IMAGES)
    os.chdir(workdir)
    import ultralytics
    from ultralytics import YOLO

    from ultralytics_neptune import add_neptune_callbacks

    model = YOLO(MODELS[task])
    probe = Probe()
    model.add_callback("on_fit_epoch_end", probe.on_fit_epoch_end)
    model.add_callback("on_train_end", probe.on_train_end)
    for event, callback in probe.callbacks("before").items():
        model.add_callback(event, callback)
    add_neptune_callbacks(
        model,
        extended=extended,
        mode="offline",
        capture_stdout=False,
        capture_stderr=False,
        capture_hardware_metrics=False,
        source_files=[],
        git_ref=False,
    )
    for event, callback in probe.callbacks("after").items():
        model.add_callback(event, callback)
    extra = (_load_hook(hook)(model) if hook else None) or {}
    train_args = dict(data=str(data), epochs=EPOCHS, imgsz=IMGSZ, batch=BATCH, workers=0, device="cpu")
    train_args.update(plots=True, seed=0, amp=False, verbose=False, **extra)
    model.train(**train_args)
    return {
        "ultralytics": ultralytics.__version__,
        "task": task,
        "epochs": EPOCHS,
        "fit_epoch_ends": probe.fit_epoch_ends,
        "best_parameters": _parameters(probe.facts["best"]),
        **probe.facts,
    }


def main(argv: list | None = None) -> int:
    """Entry point of the training process."""
    parser = argparse.ArgumentParser(description="One live-check training (run by `ultralytics-neptune parity --live`)")
    parser.add_argument("--task", required=True)
    parser.add_argument("--workdir", required=True, type=Path)
    parser.add_argument("--extended", action="store_true")
    parser.add_argument("--hook")
    args = parser.parse_args(argv)
    facts = run_training(args.task, args.workdir, args.extended, args.hook)
    (args.workdir / FACTS).write_text(json.dumps(facts, indent=1))
    return 0


# the oracle: what the trainer wrote


def read_results_csv(path: Path) -> tuple:
    """(columns, rows as lists of stripped strings) of a results.csv (old releases pad their cells with spaces)."""
    with open(path, newline="", encoding="utf-8") as handle:
        lines = [[cell.strip() for cell in row] for row in csv.reader(handle) if row]
    return lines[0], lines[1:]


def significant_digits(text: str) -> int:
    """How many significant digits a number as written has: "0.000837668" -> 6, "1.2e-05" -> 2, "0" -> 1."""
    mantissa = text.lower().lstrip("+-").split("e")[0].replace(".", "").lstrip("0")
    return max(len(mantissa), 1)


def csv_precision(rows: list) -> int:
    """The significant digits the trainer wrote with (``%.5g`` or ``%.6g``): the most any cell has."""
    return max((significant_digits(cell) for row in rows for cell in row[1:]), default=6)


def same_at_precision(logged, written: str, digits: int) -> bool:
    """Whether a logged value is the CSV's value once written with the CSV's significant digits."""
    try:
        return float(f"{float(logged):.{digits}g}") == float(written)
    except (TypeError, ValueError):
        return False


def final_step(version: str, epochs: int, extended: bool) -> int:
    """The step of the final evaluation's metrics: E again before 8.4.52 (parity), else E+1."""
    if extended or parse_version(version) >= FINAL_STEP_AFTER_LAST:
        return epochs + 1
    return epochs


def _steps(points: list) -> str:
    return ", ".join(f"{step:g}" if isinstance(step, (int, float)) else str(step) for step, _ in points) or "none"


def check_results_csv(training: Training, run: OfflineRun, result: LiveResult) -> None:
    """Every row and column of results.csv against the series of the run."""
    path = training.save_dir / "results.csv"
    if not path.exists():
        result.differences.append(f"results.csv: the trainer wrote none in {training.save_dir}")
        return
    columns, rows = read_results_csv(path)
    digits = csv_precision(rows)
    series = run.series()
    epochs = [int(float(row[0])) for row in rows]
    if epochs != list(range(1, len(rows) + 1)):
        result.differences.append(f"results.csv: epochs {epochs}, expected 1 to {len(rows)}")
    for name, why in UNLOGGED_COLUMNS.items():
        if name in columns:
            result.notes.append(f"results.csv column {name} not checked as a series: {why}")
    logged_columns = [(index, name) for index, name in enumerate(columns) if name not in UNLOGGED_COLUMNS]
    for index, name in logged_columns:
        points = series.get(name)
        if not points:
            result.differences.append(f"{name}: not logged (results.csv has it for epochs 1 to {len(rows)})")
            continue
        for epoch, row in zip(epochs, rows):
            at_step = [value for step, value in points if step == epoch]
            if not math.isfinite(float(row[index])):
                result.notes.append(f"{name} at epoch {epoch}: {row[index]} in results.csv, not compared")
            elif not at_step:
                result.differences.append(
                    f"{name}: epoch {epoch} (results.csv {row[index]}) not logged at step {epoch}; "
                    f"logged at steps {_steps(points)}"
                )
            elif not same_at_precision(at_step[0], row[index], digits):
                result.differences.append(
                    f"{name} at step {epoch}: logged {at_step[0]!r}, results.csv has {row[index]} ({digits} digits)"
                )
    check_final_metrics(training, columns, series, len(rows), result)
    for name in sorted(set(series) - set(columns)):
        result.differences.append(f"{name}: logged at steps {_steps(series[name])}, but results.csv has no {name}")
    result.notes.append(f"results.csv: {len(rows)} rows x {len(logged_columns)} logged columns checked")


def check_final_metrics(training: Training, columns: list, series: dict, epochs: int, result: LiveResult) -> None:
    """The final evaluation of best.pt: every metric once more, at the era's step, with the trainer's value."""
    ends = training.facts["fit_epoch_ends"]
    if len(ends) <= epochs:
        result.differences.append("final evaluation: the trainer ran no on_fit_epoch_end after the last epoch")
        return
    final = ends[-1]["metrics"]
    step = final_step(training.version, epochs, training.extended)
    when = "E again, as before 8.4.52" if step == epochs else "E+1"
    for name in [column for column in columns if column.startswith("metrics/")]:
        points = series.get(name, [])
        if len(points) != epochs + 1:
            result.differences.append(
                f"{name}: final evaluation not logged (expected one more value after the {epochs} epochs, at step "
                f"{step}: {when}; got steps {_steps(points)})"
            )
            continue
        last_step, value = points[-1]
        if last_step != step:
            result.differences.append(f"{name}: final evaluation at step {last_step}, expected step {step} ({when})")
        elif name in final and isinstance(final[name], float) and float(value) != final[name]:
            result.differences.append(f"{name}: final evaluation logged {value!r}, the trainer held {final[name]!r}")


def check_hyperparameters(training: Training, run: OfflineRun, result: LiveResult) -> None:
    """args.yaml against Configuration/Hyperparameters."""
    import yaml

    path = training.save_dir / "args.yaml"
    if not path.exists():
        result.differences.append("args.yaml: the trainer wrote none")
        return
    arguments = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    prefix = "Configuration/Hyperparameters/"
    logged = {key[len(prefix) :]: value for key, value in run.atoms().items() if key.startswith(prefix)}
    for key, value in arguments.items():
        expected = "" if value is None else value
        if isinstance(expected, (list, tuple, dict)):
            if key in logged:
                result.differences.append(f"{prefix}{key}: logged {logged[key]!r}, but the client drops such a value")
            else:
                result.notes.append(f"args.yaml {key} not logged: a {type(value).__name__}, which the client drops")
            continue
        if key not in logged:
            result.differences.append(f"{prefix}{key}: not logged (args.yaml has {value!r})")
        elif logged[key] != expected or isinstance(logged[key], bool) != isinstance(expected, bool):
            result.differences.append(f"{prefix}{key}: logged {logged[key]!r}, args.yaml has {value!r}")
    for key in sorted(set(logged) - set(arguments)):
        result.differences.append(f"{prefix}{key}: logged {logged[key]!r}, but args.yaml has no {key}")


def _plot_rule(training: Training) -> tuple:
    """(plot files the era's rule uploads, a description of the rule)."""
    save_dir = training.save_dir
    images = sorted(path for path in save_dir.iterdir() if path.suffix.lower() in IMAGE_SUFFIXES)
    if era_of(training.version).plots == "fixed":
        plots = [save_dir / name for name in FIXED_PLOTS if (save_dir / name).exists()]
        rule = "the fixed plot list"
    else:
        registered = [Path(path) for path in training.facts["plots_registered"]]
        plots = [path for path in registered if "batch" not in path.name]
        rule = "the trainer's and validator's registered plots"
    if training.extended:
        chosen = {path.stem: path for path in plots}
        for path in images:
            if "batch" not in path.name:
                chosen.setdefault(path.stem, path)
        plots, rule = list(chosen.values()), f"{rule} and every other plot image (extended mode)"
    return plots, rule


def check_files(training: Training, run: OfflineRun, result: LiveResult) -> None:
    """The image and plot files of the run folder against the uploads, by the rule of the installed release's era.

    Mosaics and validation images are globbed at an event while plotting threads may still write them: a file
    present just before our callbacks ran must be uploaded, one that appeared while they ran may be.
    """
    save_dir = training.save_dir
    images = sorted(path for path in save_dir.iterdir() if path.suffix.lower() in IMAGE_SUFFIXES)
    uploads = {key: op for key, op in run.uploads().items() if key.split("/")[0] in ("Mosaic", "Validation", "Plots")}
    seen = {group: training.facts[group] for group in ("mosaics", "validation")}
    required, allowed, late = {}, {}, []
    for path in images:
        if path.name.startswith("train_batch") and path.suffix == ".jpg":
            key, group, why = f"Mosaic/{path.stem}", "mosaics", "every train_batch*.jpg at the end of the second epoch"
        elif path.name.startswith("val") and path.suffix == ".jpg":
            key, group, why = f"Validation/{path.stem}", "validation", "every val*.jpg at each validation end"
        else:
            continue
        if path.name in seen[group]["before"]:
            required[key] = (path, why)
        elif path.name in seen[group]["after"]:
            allowed[key] = (path, why)
        else:
            late.append(path.name)
    plots, rule = _plot_rule(training)
    for path in plots:
        required[f"Plots/{path.stem}"] = (path, rule)
    for key, (path, why) in {**required, **allowed}.items():
        op = uploads.get(key)
        if op is None and key in required:
            result.differences.append(f"{key}: {path.name} written, not uploaded (uploaded by the rule: {why})")
        elif op is not None and not _upload_shows(op, path):
            result.differences.append(f"{key}: the upload is not {path.name} ({_describe_upload(op)})")
    for key in sorted(set(uploads) - set(required) - set(allowed)):
        result.differences.append(
            f"{key}: uploaded ({_describe_upload(uploads[key])}), but the rule uploads no such file"
        )
    ruled = {path.name for path, _ in {**required, **allowed}.values()}  # uploaded, or a difference above
    left_out = [path.name for path in images if path.name not in ruled and path.name not in late]
    if left_out:
        result.notes.append(f"written, not uploaded ({rule}): {', '.join(left_out)}")
    if late:
        result.notes.append(f"written after the event that uploads such images: {', '.join(late)}")


def _upload_shows(op: dict, path: Path) -> bool:
    """Whether an upload is the file (by path and bytes) or, for a re-drawn plot, a rendered figure."""
    content = op.get("content") or {}
    if op.get("file_path"):
        return Path(op["file_path"]).resolve() == path.resolve() and content.get("sha256") == _digest(path)["sha256"]
    return "image" in content  # parity mode re-draws a plot on a figure: its pixels are matplotlib's, not the file's


def _describe_upload(op: dict) -> str:
    if op.get("file_path"):
        return f"file {op['file_path']}"
    content = op.get("content") or {}
    image = content.get("image")
    return f"a {image['width']}x{image['height']} figure" if image else "no readable content"


def _digest(path: Path) -> dict:
    data = path.read_bytes()
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def check_weights(training: Training, run: OfflineRun, result: LiveResult) -> None:
    """The uploaded best weights: the field's name, and the file's size and sha256 against the trainer's best.pt."""
    best = Path(training.facts["best"])
    name = run.atoms().get("Configuration/Hyperparameters/name") or training.task
    key = f"weights/{name}/{best.name}"
    weights = {path: op for path, op in run.uploads().items() if path.startswith("weights/")}
    trainer_best = _digest(best) if best.exists() else {"missing": True}
    op = weights.get(key)
    if op is None:
        got = ", ".join(f"{path} ({op.get('file_path')})" for path, op in weights.items()) or "no weights"
        result.differences.append(f"{key}: not uploaded (the trainer's {best.name}: {_size(trainer_best)}); got {got}")
        return
    content = op.get("content") or {}
    uploaded = {"size": content.get("size"), "sha256": content.get("sha256")}
    if uploaded != {k: trainer_best.get(k) for k in ("size", "sha256")}:
        result.differences.append(
            f"{key}: uploaded {op.get('file_path')} ({_size(uploaded)}), "
            f"the trainer's {best.name} is {_size(trainer_best)}"
        )
    for other in sorted(set(weights) - {key}):
        result.differences.append(f"{other}: uploaded {weights[other].get('file_path')}; only {key} is expected")


def _size(digest: dict) -> str:
    if digest.get("missing") or digest.get("size") is None:
        return "missing"
    return f"{digest['size']} bytes, sha256 {str(digest['sha256'])[:12]}"


def check_model_summary(training: Training, run: OfflineRun, result: LiveResult) -> None:
    """Configuration/Model: its keys, the parameters of best.pt, and positive GFLOPs and speed."""
    prefix = "Configuration/Model/"
    logged = {key[len(prefix) :]: value for key, value in run.atoms().items() if key.startswith(prefix)}
    for key in MODEL_SUMMARY:
        if key not in logged:
            result.differences.append(f"{prefix}{key}: not logged")
    for key in sorted(set(logged) - set(MODEL_SUMMARY)):
        result.differences.append(f"{prefix}{key}: logged {logged[key]!r}, not a field of the model summary")
    parameters = training.facts.get("best_parameters")
    logged_parameters = logged.get("model/parameters")
    if parameters is None:
        result.notes.append("model/parameters not compared: best.pt could not be read")
    elif logged_parameters is not None and logged_parameters != parameters:
        result.differences.append(f"{prefix}model/parameters: logged {logged_parameters}, best.pt has {parameters}")
    for key in MODEL_SUMMARY[1:]:
        value = logged.get(key)
        if value is not None and not (isinstance(value, (int, float)) and value > 0):
            result.differences.append(f"{prefix}{key}: logged {value!r}, expected a positive number")
    result.notes.append("model/GFLOPs and model/speed_PyTorch(ms) checked as positive numbers: no file holds them")


# the bundled recording: field names and files of the nearest earlier release


def newest_known() -> str:
    """The newest Ultralytics release with a bundled recording."""
    from ultralytics_neptune.verification.recording import bundled_recordings

    return max((name.split("-")[1] for name in bundled_recordings()), key=parse_version)


def reference_recording(task: str, version: str):
    """The bundled recording of the task on the release, else on the nearest earlier one (else the oldest)."""
    from ultralytics_neptune.verification.recording import Recording, bundled_recordings

    recordings = [Recording.load(path) for path in bundled_recordings(task).values()]
    release = parse_version(version)
    earlier = [rec for rec in recordings if parse_version(rec.ultralytics_version) <= release]
    return (earlier or recordings)[-1 if earlier else 0]


_reference_names: dict = {}


def reference_fields(recording, version: str, extended: bool) -> set:
    """The fields our module logs on a recording, behaving as the installed release (the replay is kept)."""
    key = (recording.name, version, extended)
    if key in _reference_names:
        return _reference_names[key]
    if not extended and era_of(recording.ultralytics_version) == era_of(version):
        # the golden trace: what the recorded release's callback logged, which our module as any release of the
        # same era logs too (the parity suite proves it), without a replay's re-drawn plots
        from ultralytics_neptune.verification.parity import load_golden

        operations = load_golden(recording).operations
    else:
        from ultralytics_neptune.verification.parity import our_trace

        with tempfile.TemporaryDirectory(prefix="ultralytics-neptune-live-reference-") as workdir:
            operations = our_trace(recording, Path(workdir), version=version, extended=extended).operations
    _reference_names[key] = field_names(operations)
    return _reference_names[key]


def field_names(operations: list) -> set:
    """The fields of a run, without those the client writes about the machine and the run itself, and without the
    mosaics and validation images: which of those exist when their event fires is a race with Ultralytics' plotting
    threads (their files are compared with the recording's instead, and their uploads with the files)."""
    names = {"/".join(op["path"]) for op in operations}
    return {name for name in names if not name.startswith((*ENVIRONMENT, *RACED))}


def compare_names(reference: set, logged: set, recording_name: str) -> list:
    """New, gone and renamed fields (a gone and a new field of one namespace, the most alike, are a rename)."""
    gone, new = sorted(reference - logged), sorted(logged - reference)
    differences = []
    for old in list(gone):
        namespace = old.rsplit("/", 1)[0] if "/" in old else ""
        candidates = [name for name in new if (name.rsplit("/", 1)[0] if "/" in name else "") == namespace]
        match = difflib.get_close_matches(old, candidates, n=1, cutoff=0.6)
        if match:
            differences.append(f"{old}: renamed to {match[0]} ({old} on {recording_name})")
            gone.remove(old)
            new.remove(match[0])
    differences += [f"{name}: not logged (logged on {recording_name})" for name in gone]
    differences += [f"{name}: new field (not logged on {recording_name})" for name in new]
    return differences


def compare_files(recording, save_dir: Path) -> list:
    """Files of the run folder the recorded release did not write, or wrote and this training did not (extended
    mode's own run state file aside)."""
    from ultralytics_neptune.extended import RUN_STATE_FILE

    written = {path.relative_to(save_dir).as_posix() for path in save_dir.rglob("*") if path.is_file()}
    written -= {f"weights/{RUN_STATE_FILE}"}
    recorded = recording.final_files()
    release = recording.ultralytics_version
    differences = [f"{name}: new file (Ultralytics {release} did not write it)" for name in sorted(written - recorded)]
    differences += [f"{name}: not written (Ultralytics {release} wrote it)" for name in sorted(recorded - written)]
    return differences


def check_training(training: Training, recording=None) -> LiveResult:
    """Every check of one training; recording is the bundled one to compare names and files with (None: skip)."""
    result = LiveResult()
    runs = training.runs()
    if len(runs) != 1:
        result.differences.append(f"Neptune runs: the training wrote {len(runs)} offline runs, expected 1")
        if not runs:
            return result
    run = runs[-1]
    result.differences += [f"offline run: {problem}" for problem in run.problems]
    check_results_csv(training, run, result)
    check_hyperparameters(training, run, result)
    check_files(training, run, result)
    check_weights(training, run, result)
    check_model_summary(training, run, result)
    if recording is not None:
        reference = reference_fields(recording, training.version, training.extended)
        result.differences += compare_names(reference, field_names(run.trace.operations), recording.name)
        result.differences += compare_files(recording, training.save_dir)
    return result


# the command


def grouped_notes(notes: list, checks: int) -> list:
    """``note: ...`` lines from (row, note) pairs: a note of every row once, others with the rows they belong to."""
    rows: dict = {}
    for row, note in notes:
        rows.setdefault(note, []).append(row)
    return [
        f"note ({'every task' if len(found) == checks and checks > 1 else ', '.join(found)}): {note}"
        for note, found in rows.items()
    ]


def installed_ultralytics() -> str:
    """The installed Ultralytics release, read without importing it."""
    from importlib import metadata

    return metadata.version("ultralytics")


def run_live(tasks: list | None = None, extended: bool = False, verbose: bool = False, out=None) -> int:
    """Train each task (all five by default) and print the table; return 0 when every check passed, else 1.

    Args:
        tasks (list | None): Tasks to train (default: ``ultralytics_neptune.synthetic.TASKS``).
        extended (bool): Check extended mode too (a second training per task).
        verbose (bool): List every difference of a failed check.
        out: Where to print (default: stdout).

    Returns:
        (int): The exit code: 0, 1, or 2 without the neptune client.
    """
    from ultralytics_neptune.registration import client_installed
    from ultralytics_neptune.synthetic import TASKS
    from ultralytics_neptune.verification.command import ERROR, FAIL, PASS, Check, describe_era, print_checks, summary

    out = out or sys.stdout
    if not client_installed():
        print(
            "ultralytics-neptune parity: --live logs to Neptune offline runs and needs the neptune client: "
            "pip install 'ultralytics-neptune[neptune]'",
            file=sys.stderr,
        )
        return 2
    installed = installed_ultralytics()
    newest = newest_known()
    print(
        f"Ultralytics {installed} installed ({describe_era(installed)}); "
        "live trainings, checked against the files their trainer wrote",
        file=out,
    )
    if parse_version(installed) > parse_version(newest):
        print(
            f"Ultralytics {installed} is newer than the newest release this package knows ({newest}): its files are "
            f"checked all the same, its field names and files also against {newest}'s recordings",
            file=out,
        )
    checks, notes, started = [], [], time.monotonic()
    modes = [False, True] if extended else [False]
    for task in tasks or TASKS:
        recording = reference_recording(task, installed)
        for mode in modes:
            label = "live training (extended)" if mode else "live training"
            check = Check(label, task, installed, f"trainer's files; names {recording.name}")
            with tempfile.TemporaryDirectory(prefix=f"ultralytics-neptune-live-{task}-") as workdir:
                try:
                    result = check_training(train(task, workdir, extended=mode), recording)
                except Exception as error:  # a training or check that crashes is a failed row, as in the replays
                    check.status, check.differences = ERROR, [f"{type(error).__name__}: {error}"]
                else:
                    check.status = PASS if result.passed else FAIL
                    check.differences = result.differences
                    notes += [(f"{task}{' (extended)' * mode}", note) for note in result.notes]
            checks.append(check)
    seconds = time.monotonic() - started
    print_checks(checks, out, verbose, lambda check: f"{check.task} ({check.recording})")
    if notes:
        print("\n" + "\n".join(grouped_notes(notes, len(checks))), file=out)
    print(f"\n{summary(checks)} ({len(checks)} trainings in {seconds:.0f} s)", file=out)
    return 0 if all(check.status == PASS for check in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
