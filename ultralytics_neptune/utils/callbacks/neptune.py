"""Neptune logging for Ultralytics training, a drop-in for the callback Ultralytics deleted in 8.4.132.

Parity mode (the default) logs exactly what the built-in callback of the installed Ultralytics logged; the
differences between releases live in ``ultralytics_neptune.eras``. Extended mode (``extended=True`` at
registration, or ``ULTRALYTICS_NEPTUNE_EXTENDED=1``) logs all of that and fixes upstream's defects: plots uploaded
as their files, the project taken from Neptune's settings, steps that always increase, resumed trainings that
continue their run, a run stopped when training ends. In both modes a logging failure is one warning, never an
exception in the training. The ``neptune`` client is imported only when a run starts, from ``sys.modules`` first.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import os
import platform
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import ultralytics
from ultralytics.utils import LOGGER

from ultralytics_neptune.eras import FIXED_PLOT_FILES, Era, era_for

try:
    assert importlib.util.find_spec("neptune") is not None  # the client is installed; it is imported at run start
    client_installed = True
except (AssertionError, ValueError):  # ValueError: a module in sys.modules without a spec
    client_installed = False

EXTENDED_ENV = "ULTRALYTICS_NEPTUNE_EXTENDED"
RUN_STATE_FILE = "neptune_run.json"  # extended mode: the run id and last steps, kept next to the weights
#: init_run arguments extended mode passes unless the user gives them: progress bars would flood captured output
EXTENDED_INIT_DEFAULTS = {"capture_stdout": False, "capture_stderr": False, "capture_hardware_metrics": True}
PLOT_SUFFIXES = (".png", ".jpg", ".jpeg")
STOP_TIMEOUT = 60  # seconds the stop at train end waits for queued operations; the rest stays on disk for sync

run = None  # the Neptune run of the latest training; parity mode keeps it after training ends, as upstream did


@dataclass
class _Session:
    """What the run in progress needs besides the run itself."""

    era: Era
    File: type
    extended: bool
    state_file: Path | None = None
    state: dict = field(default_factory=lambda: {"last_steps": {}})
    warned: set = field(default_factory=set)
    skipped: int = 0
    skips_warned: int = 0
    trainer_id: int = 0
    resumed: bool = False


_session: _Session | None = None


def extended_from_environment() -> bool:
    """Whether ULTRALYTICS_NEPTUNE_EXTENDED switches extended mode on; raise ValueError for a value it cannot mean."""
    value = os.environ.get(EXTENDED_ENV, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"{EXTENDED_ENV}={os.environ[EXTENDED_ENV]!r} is not a switch; use 1 or 0")


def _warn_once(key, message: str, skipped: int = 0) -> None:
    """Warn about a problem once per run: repeats of the same problem are counted, not repeated."""
    if _session is not None:
        _session.skipped += skipped
        if key in _session.warned:
            return
        _session.warned.add(key)
        _session.skips_warned += 1 if skipped else 0
    LOGGER.warning(f"ultralytics-neptune: {message}")


def _skip(key, message: str) -> None:
    """Something was not logged: say what, once per kind of problem, and count it."""
    _warn_once(key, message, skipped=1)


def _as_number(value) -> tuple:
    """Return (float, None) for a loggable series value, else (None, why it is not)."""
    if value is None or isinstance(value, str):
        return None, f"is {value!r}, not a number"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None, f"is a {type(value).__name__}, not a number"
    if not math.isfinite(number):
        return None, f"is {number} (Neptune keeps only finite values)"
    return number, None


def _next_step(key: str, step, bump: bool):
    """Extended mode: the step to log at, strictly after the field's last; None to skip an already logged step."""
    last = _session.state["last_steps"].get(key)
    if last is None or step > last:
        return step
    return last + 1 if bump else None


def _append(key: str, value, step, bump: bool = False) -> None:
    if _session.extended:
        value, problem = _as_number(value)
        if problem:
            _skip(("value", key), f"{key} {problem} at step {step}; that value was not logged")
            return
        wanted, step = step, _next_step(key, step, bump)
        if step is None:
            _skip(("step", key), f"{key} already has step {wanted} in this run (a resumed epoch); not logged again")
            return
    try:
        run[key].append(value=value, step=step)
    except Exception as e:
        _skip(("append", type(e)), f"could not log {key} at step {step} ({type(e).__name__}: {e}); skipped")
        return
    if _session.extended:
        _session.state["last_steps"][key] = step


def _log_scalars(scalars: dict, step: int = 0, bump: bool = False) -> None:
    """Append each value to the series named by its key, at the given step."""
    if run:
        for key, value in scalars.items():
            _append(key, value, step, bump)


def _readable_file(path: Path) -> str | None:
    """Why a file cannot be uploaded, or None if it can."""
    if not path.exists():
        return "does not exist"
    if not path.is_file():
        return "is not a file"
    if not os.access(path, os.R_OK):
        return "is not readable"
    return None


def _upload_file(key: str, path) -> None:
    """Upload a file by path; extended mode checks it first, so a missing file is a warning, not a broken run."""
    if _session.extended:
        problem = _readable_file(Path(path))
        if problem:
            _skip(("file", key), f"{path} {problem}; {key} was not uploaded")
            return
    try:
        run[key].upload(_session.File(str(path)))
    except Exception as e:
        _skip(("upload", type(e)), f"could not upload {path} to {key} ({type(e).__name__}: {e}); skipped")


def _log_images(images: dict, group: str = "") -> None:
    """Upload image files, given as {name: path string}, under ``group/name``."""
    if run:
        for name, path in images.items():
            _upload_file(f"{group}/{name}", path)


def _log_plot(title: str, plot_path: Path | str) -> None:
    """Upload a plot under ``Plots/title``: its file in extended mode, else re-drawn on a figure as upstream did."""
    if _session.extended:
        _upload_file(f"Plots/{title}", plot_path)
        return
    try:
        import matplotlib.image as mpimg
        import matplotlib.pyplot as plt

        figure = plt.figure()
        axes = figure.add_axes([0, 0, 1, 1], frameon=False, aspect="auto", xticks=[], yticks=[])
        axes.imshow(mpimg.imread(plot_path))
        run[f"Plots/{title}"].upload(figure)
    except Exception as e:
        _skip(("upload", type(e)), f"could not upload the plot {plot_path} ({type(e).__name__}: {e}); skipped")


def _hyperparameters(args) -> dict:
    """Return the training arguments with None as an empty string (the client would drop None)."""
    return {key: "" if value is None else value for key, value in vars(args).items()}


def _glob_images(directory: Path, pattern: str) -> dict:
    """Return {stem: path string} of the files matching pattern in directory."""
    directory = directory if isinstance(directory, Path) else Path(directory)  # runs at every validation: no copy
    return {path.stem: str(path) for path in directory.glob(pattern)}


def _plot_files(trainer) -> list:
    """Return the plots uploaded at train end, chosen as the installed release chose them."""
    if _session.era.plot_source == "fixed":
        return [trainer.save_dir / name for name in FIXED_PLOT_FILES if (trainer.save_dir / name).exists()]
    registered = [*trainer.plots.keys(), *trainer.validator.plots.keys()]
    return [path for path in registered if "batch" not in Path(path).name]


def _all_plot_files(trainer) -> list:
    """Extended mode: the release's plots and every other plot image the run saved (renamed or de-duplicated)."""
    plots = {Path(path).stem: Path(path) for path in _plot_files(trainer)}
    for path in sorted(Path(trainer.save_dir).iterdir()):
        if path.suffix.lower() in PLOT_SUFFIXES and "batch" not in path.name:
            plots.setdefault(path.stem, path)
    return list(plots.values())


def _versions(neptune) -> dict:
    """The versions that logged this run."""
    from ultralytics_neptune import __version__

    versions = {
        "ultralytics-neptune": __version__,
        "ultralytics": ultralytics.__version__,
        "neptune": getattr(neptune, "__version__", "unknown"),
        "python": platform.python_version(),
    }
    if "torch" in sys.modules:
        versions["torch"] = str(sys.modules["torch"].__version__)
    return versions


def _read_run_state(path: Path) -> dict | None:
    try:
        state = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        _warn_once("resume", f"could not read {path} ({e}); this resumed training starts a new Neptune run")
        return None
    return state if isinstance(state, dict) and "custom_run_id" in state else None


def _save_run_state() -> None:
    """Extended mode: keep the run id and last steps next to the weights, for a resumed training."""
    if _session is None or _session.state_file is None:
        return
    try:
        if not _session.state_file.parent.is_dir():
            _session.state_file.parent.mkdir(parents=True)
        temporary = _session.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(_session.state))
        temporary.replace(_session.state_file)
    except OSError as e:
        _warn_once("state", f"could not save {_session.state_file} ({e}); a resumed training would start a new run")


def _extended_init_arguments(trainer, session: _Session, init_run_kwargs: dict) -> dict:
    """The init_run arguments of extended mode; also restores a resumed training's run state."""
    arguments = {**EXTENDED_INIT_DEFAULTS, **init_run_kwargs}
    arguments["project"] = (
        init_run_kwargs.get("project") or os.environ.get("NEPTUNE_PROJECT") or session.era.default_name
    )
    session.state_file = Path(getattr(trainer, "wdir", None) or Path(trainer.save_dir) / "weights") / RUN_STATE_FILE
    previous = _read_run_state(session.state_file) if getattr(trainer.args, "resume", False) else None
    if previous and "custom_run_id" not in init_run_kwargs and "with_id" not in init_run_kwargs:
        session.state = {"last_steps": {}, **previous}
        session.resumed = True
        arguments["custom_run_id"] = previous["custom_run_id"]
    elif "with_id" not in init_run_kwargs:  # the user resumes a run by its Neptune id: no custom id beside it
        arguments.setdefault("custom_run_id", uuid.uuid4().hex)
    session.state["custom_run_id"] = arguments.get("custom_run_id")
    return arguments


def _start_run(trainer, extended: bool, init_run_kwargs: dict) -> None:
    """Import the client, open the run and log the hyperparameters."""
    global run, _session
    neptune = importlib.import_module("neptune")
    session = _Session(
        era=era_for(ultralytics.__version__), File=importlib.import_module("neptune.types").File, extended=extended
    )
    default = session.era.default_name
    arguments = {"project": trainer.args.project or default, "name": trainer.args.name, "tags": [default]}
    if extended:
        arguments.update(_extended_init_arguments(trainer, session, init_run_kwargs))
    else:
        arguments.update(init_run_kwargs)
    session.trainer_id = id(trainer)
    _session = session
    run = neptune.init_run(**arguments)
    configuration = {"Hyperparameters": _hyperparameters(trainer.args)}
    if extended:
        configuration["Versions"] = _versions(neptune)
    for name, values in configuration.items():
        try:
            run[f"Configuration/{name}"] = values
        except Exception as e:
            _skip(name, f"could not log Configuration/{name} ({type(e).__name__}: {e}); skipped")
    if extended:
        if session.resumed:
            _assign("sys/failed", False)  # the run an interrupted training marked failed goes on
        _save_run_state()


def _assign(key: str, value) -> None:
    try:
        run[key] = value
    except Exception as e:
        _skip(("assign", type(e)), f"could not set {key} ({type(e).__name__}: {e}); skipped")


def _stop_run(failed: bool) -> None:
    """Extended mode: flush and stop the run, so nothing is lost and later events are harmless."""
    global run
    current, run = run, None
    try:
        if failed:
            current["sys/failed"] = True
        current.stop(seconds=STOP_TIMEOUT)
    except Exception as e:
        _warn_once("stop", f"could not stop the Neptune run cleanly ({type(e).__name__}: {e})")


def _device_count(device) -> int:
    if isinstance(device, (list, tuple)):
        return len(device)
    return len([part for part in str(device or "").split(",") if part.strip()]) if "," in str(device) else 1


def _logs_here(trainer) -> bool:
    """Whether this process logs the training: not a DDP rank above 0, and not a parent about to launch DDP workers
    (from 8.3.184 to 8.3.199 the parent fired on_pretrain_routine_start too)."""
    if int(os.environ.get("RANK", -1)) not in (-1, 0):
        return False
    if getattr(trainer, "ddp", False):
        return False
    return "LOCAL_RANK" in os.environ or _device_count(getattr(trainer.args, "device", None)) <= 1


def on_pretrain_routine_start(trainer, extended: bool | None = None, **init_run_kwargs) -> None:
    """Start a Neptune run and log the hyperparameters; extra keyword arguments go to ``neptune.init_run``."""
    global run, _session
    if not _logs_here(trainer):
        return
    try:
        extended = extended_from_environment() if extended is None else extended
    except ValueError as e:
        LOGGER.warning(f"ultralytics-neptune: {e}; logging in parity mode")
        extended = False
    if extended and run is not None and _session is not None and _session.extended:
        if _session.trainer_id == id(trainer):
            return  # this training's run is open already: the event came twice
        _stop_run(failed=False)  # a run left open by an earlier training that never ended
    try:
        _start_run(trainer, extended, init_run_kwargs)
    except Exception as e:
        run, _session = None, None
        LOGGER.warning(
            f"ultralytics-neptune: could not start a Neptune run ({type(e).__name__}: {e}); "
            "this training goes on without Neptune logging"
        )


def on_train_epoch_end(trainer) -> None:
    """Log the epoch's training losses and learning rates; upload the mosaics after the second epoch."""
    if not run:
        return
    step = trainer.epoch + 1
    try:
        losses = trainer.label_loss_items(trainer.tloss, prefix="train")
    except Exception as e:
        _skip("losses", f"could not read the training losses ({type(e).__name__}: {e}); not logged")
        losses = {}
    _log_scalars(losses, step)
    _log_scalars(getattr(trainer, "lr", None) or {}, step)
    if trainer.epoch == 1:
        _log_images(_glob_images(trainer.save_dir, "train_batch*.jpg"), "Mosaic")
    if _session.extended:  # saved here too: a crash before fit end reruns this epoch, whose steps are now logged
        _save_run_state()


def on_fit_epoch_end(trainer) -> None:
    """Log the validation metrics; log the model summary after the first epoch."""
    if not run:
        return
    if trainer.epoch == 0:
        try:
            from ultralytics.utils.torch_utils import model_info_for_loggers

            run["Configuration/Model"] = model_info_for_loggers(trainer)
        except Exception as e:
            _skip("model", f"could not log the model summary ({type(e).__name__}: {e}); skipped")
    _log_scalars(getattr(trainer, "metrics", None) or {}, trainer.epoch + 1, bump=True)
    if _session.extended:
        _save_run_state()


def on_val_end(validator) -> None:
    """Upload the validation label and prediction images."""
    if run:
        _log_images(_glob_images(validator.save_dir, "val*.jpg"), "Validation")


def on_train_end(trainer) -> None:
    """Upload the result plots and the best weights; extended mode then stops the run."""
    if not run:
        return
    try:
        plots = _all_plot_files(trainer) if _session.extended else _plot_files(trainer)
    except Exception as e:
        _skip("plots", f"could not list the plots ({type(e).__name__}: {e}); none uploaded")
        plots = []
    for plot in plots:
        _log_plot(title=Path(plot).stem, plot_path=plot)
    _upload_best(trainer)
    if _session.skipped > _session.skips_warned:
        LOGGER.warning(f"ultralytics-neptune: in all, {_session.skipped} items were not logged (warnings above)")
    if _session.extended:
        _save_run_state()
        _stop_run(failed=False)


def _upload_best(trainer) -> None:
    best = getattr(trainer, "best", None)
    if best is None:
        _skip("best", "the trainer has no best weights path; weights were not uploaded")
    else:
        _upload_file(f"weights/{trainer.args.name or trainer.args.task}/{Path(best).name}", best)


def teardown(trainer) -> None:
    """Extended mode: a training that ends without reaching train end (an exception, Ctrl-C) stops its run as failed."""
    if run and _session.extended:
        _save_run_state()
        _stop_run(failed=True)


def _extended_at_import() -> bool:
    try:
        return extended_from_environment()
    except ValueError:
        return False  # on_pretrain_routine_start says why


callbacks = (
    {
        "on_pretrain_routine_start": on_pretrain_routine_start,
        "on_train_epoch_end": on_train_epoch_end,
        "on_fit_epoch_end": on_fit_epoch_end,
        "on_val_end": on_val_end,
        "on_train_end": on_train_end,
        **({"teardown": teardown} if _extended_at_import() else {}),
    }
    if client_installed
    else {}
)
