"""Neptune logging of Ultralytics training, as the callback Ultralytics shipped until 8.4.131 logged it.

A run gets the training arguments, the losses and learning rates of each epoch, the validation metrics, the model
summary, the mosaics, the validation images, the result plots and the best weights. What changed between
Ultralytics releases is the table ``ERAS``. The ``neptune`` client is imported, and the run started, on a thread of
its own once the trainer is set up: the training does not wait for them, and what it logs meanwhile is sent, in
order, once the run exists. A logging failure is a warning, never an error in the training.
"""

import atexit
import importlib
import importlib.util
import random
import re
import sys
import threading
import warnings
from pathlib import Path

import ultralytics
from ultralytics.utils import LOGGER, SETTINGS, TESTS_RUNNING

PREFIX = "Neptune: "
START_TIMEOUT = 120  # seconds train end waits for a run still starting; what waits for it is dropped after that
# What the callback logged differently across Ultralytics releases, oldest first: (first release, default project
# and only tag, plots uploaded at train end: "fixed" = FIXED_PLOTS found in save_dir, "registered" = every plot the
# trainer and validator registered, batch images excepted)
ERAS = (
    ((8, 1, 0), "YOLOv8", "fixed"),
    ((8, 3, 9), "Ultralytics", "fixed"),
    ((8, 3, 235), "Ultralytics", "registered"),
)
FIXED_PLOTS = (
    "results.png",
    "confusion_matrix.png",
    "confusion_matrix_normalized.png",
    "F1_curve.png",
    "PR_curve.png",
    "P_curve.png",
    "R_curve.png",
)
# modules of the ``neptune`` client that draw from Python's global random generator
CLIENT_RANDOM_USERS = (
    "neptune.internal.operation_processors.utils",
    "neptune.common.websockets.reconnecting_websocket",
)

try:
    assert not TESTS_RUNNING  # do not log pytest
    assert SETTINGS.get("neptune") is True  # verify integration is enabled
    assert importlib.util.find_spec("neptune") is not None  # the client, imported when a run starts
    enabled = True
except (AssertionError, ValueError):  # ValueError: a "neptune" in sys.modules without a spec
    enabled = False

run = None  # the Neptune run of the latest training
_problems = {}  # kind of problem -> items of this run not logged because of it; each kind is warned about once


def _release(version: str) -> tuple:
    """Return the release numbers of a version string, e.g. (8, 4, 131) for "8.4.131" or "8.4.131.dev0"."""
    return tuple(int(number) for number in re.findall(r"\d+", version)[:3])


RELEASE = _release(ultralytics.__version__)  # the row of ERAS in force; parity replays set it to another release


def _era(release: tuple = ()) -> tuple:
    """Return the row of ERAS in force for a release (default: RELEASE); the first row for older releases."""
    release = release or RELEASE
    return next((era for era in reversed(ERAS) if release >= era[0]), ERAS[0])


def _describe(error: Exception) -> str:
    """Return an exception as its type and the first line of its message, without colour codes or banner rules."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("----")]
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def _skip(kind, message: str) -> None:
    """Warn that something was not logged, once per kind of problem in a run; repeats are counted."""
    if kind not in _problems:
        LOGGER.warning(f"{PREFIX}{message}")
    _problems[kind] = _problems.get(kind, 0) + 1


def _log_scalars(scalars: dict, step: int = 0) -> None:
    """Append each value to the Neptune series named by its key.

    Args:
        scalars (dict): Values to log, e.g. {"train/box_loss": 0.52, "lr/pg0": 0.01}.
        step (int): The step of the values, the epoch number counted from 1.

    Examples:
        >>> _log_scalars({"metrics/mAP50(B)": 0.85}, step=3)
    """
    if run:
        for key, value in scalars.items():
            try:
                run[key].append(value=value, step=step)
            except Exception as e:
                _skip(("append", type(e)), f"could not log {key} at step {step} ({_describe(e)}); skipped")


def _log_images(images: dict, group: str = "") -> None:
    """Upload image files to Neptune under ``group/name``.

    Args:
        images (dict): Image file paths as strings by name, e.g. {"train_batch0": "runs/detect/train/train_batch0.jpg"}.
        group (str): The namespace of the images, e.g. "Mosaic".

    Examples:
        >>> _log_images({"val_batch0_pred": "runs/detect/train/val_batch0_pred.jpg"}, group="Validation")
    """
    if run:
        for name, path in images.items():
            _upload(f"{group}/{name}", path)


def _upload(key: str, path: str) -> None:
    """Upload one file by its path."""
    try:
        run[key].upload(_file(run, path))
    except Exception as e:
        _skip(("upload", type(e)), f"could not upload {path} to {key} ({_describe(e)}); skipped")


def _log_plot(title: str, plot_path) -> None:
    """Upload a plot image to Neptune under ``Plots/title``, re-drawn on a matplotlib figure.

    Args:
        title (str): The name of the plot, e.g. "results".
        plot_path (Path | str): The image file of the plot.

    Examples:
        >>> _log_plot("results", "runs/detect/train/results.png")
    """
    try:
        import matplotlib.image as mpimg
        import matplotlib.pyplot as plt

        figure = plt.figure()
        axes = figure.add_axes([0, 0, 1, 1], frameon=False, aspect="auto", xticks=[], yticks=[])  # no ticks
        axes.imshow(mpimg.imread(plot_path))
        run[f"Plots/{title}"].upload(figure)
        plt.close(figure)  # the client keeps the rendered image, not the figure (or renders it from the queue first)
    except Exception as e:
        _skip(("upload", type(e)), f"could not upload the plot {plot_path} ({_describe(e)}); skipped")


def _run_arguments(trainer) -> dict:
    """Return the project, name and tags a training's run starts with."""
    default = _era()[1]
    return {"project": trainer.args.project or default, "name": trainer.args.name, "tags": [default]}


def _hyperparameters(args) -> dict:
    """Return the training arguments, None as an empty string (the client would drop None)."""
    return {key: "" if value is None else value for key, value in vars(args).items()}


def _images(directory: Path, pattern: str) -> dict:
    """Return {stem: path string} of the files in directory that match pattern."""
    directory = directory if isinstance(directory, Path) else Path(directory)  # at every validation: no copy
    return {path.stem: str(path) for path in directory.glob(pattern)}


def _plot_files(trainer) -> list:
    """Return the plot files uploaded at train end, chosen as the release in force chose them."""
    if _era()[2] == "fixed":
        return [trainer.save_dir / name for name in FIXED_PLOTS if (trainer.save_dir / name).exists()]
    registered = [*trainer.plots.keys(), *trainer.validator.plots.keys()]
    return [Path(path) for path in registered if "batch" not in Path(path).name]


def _weights_key(trainer) -> str:
    """Return the field of the best weights, e.g. "weights/train/best.pt"."""
    return f"weights/{trainer.args.name or trainer.args.task}/{Path(trainer.best).name}"


def _import_client():
    """Import the ``neptune`` client, without the grammar that half of its import time goes to.

    The client imports ``jsonschema``, which builds an IRI grammar at import when ``rfc3987_syntax`` is installed,
    for a format check the client never makes; ``jsonschema`` does without it when it cannot be imported.
    """
    blocked = "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules
    if blocked:
        sys.modules["rfc3987_syntax"] = None
    try:
        import neptune
    finally:
        if blocked and sys.modules.get("rfc3987_syntax", False) is None:
            del sys.modules["rfc3987_syntax"]
    _draw_privately(CLIENT_RANDOM_USERS)
    return neptune


def _draw_privately(module_names: tuple) -> None:
    """Give modules that draw from Python's global ``random`` generator one of their own. The client draws from it
    (a run folder's key, reconnection delays) on the start thread, amid the training's augmentation draws: those
    would change from run to run, and the training with them.
    """
    for name in module_names:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if getattr(module, "random", None) is random:
            module.random = random.Random()


def _pass_on(caught: list) -> None:
    """Pass on the warnings raised while the run started under their own names: the client points a warning at the
    first caller outside its package, ours, so its notices (no NVML library on a machine without a GPU) would read as
    if this module raised them.
    """
    for warning in caught:
        if type(warning.message).__module__.split(".")[0] == "neptune":
            LOGGER.info(f"Neptune client: {str(warning.message).splitlines()[0]}")
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)


def _stop(started, seconds=None) -> None:
    """Stop a started run. A client whose stop fails part-way (a full disk) is left "stopping", and until that ends it
    holds every fork of the process (dataloader workers, subprocesses): end it before the error goes on.
    """
    try:
        started.stop(seconds=seconds)
    except BaseException:
        state, forking = getattr(started, "_state", None), getattr(started, "_forking_cond", None)
        if getattr(state, "name", None) == "STOPPING" and forking is not None:
            with forking:
                started._state = type(state).STOPPED
                forking.notify_all()
        raise


class _Field:
    """A field of a run that is still starting: its operations wait in the run's queue."""

    def __init__(self, starting, key: str):
        self._starting, self._key = starting, key

    def __getattr__(self, method: str):
        return lambda *args, **kwargs: self._starting._send(self._key, method, args, kwargs)


class _Starting:
    """The run while the client is imported and ``init_run`` runs on another thread. Operations on it wait in order
    and go to the run once it exists; if the start fails they are dropped, and the warning says why.
    """

    def __init__(self, arguments: dict, skip=None, on_start=None):
        self._skip = skip or _skip  # how a failed operation is reported: the owner's warnings and counts
        self._on_start = on_start  # the owner's look at the client's run before what waited is written to it
        self._imported = threading.Event()
        self._lock = threading.Lock()
        self._queue = []  # (field, method, args, kwargs), in the order they were logged
        self._run = None
        self._failed = False
        # a daemon: a server that never answers must not keep the process from ending
        self._thread = threading.Thread(target=self._start, args=(arguments,), name="neptune-start", daemon=True)
        self._launched = False
        atexit.register(self._at_exit)

    def start(self) -> None:
        """Start the client on its thread, once: when the trainer is set up, as importing the client would slow the
        set-up's own work, or as soon as the run is waited for.
        """
        with self._lock:
            if self._launched:
                return
            self._launched = True
        self._thread.start()

    def _at_exit(self) -> None:
        """At interpreter exit, give a start still in progress up to START_TIMEOUT seconds, so that a short process (a
        DDP worker that only starts the run, a training that failed in its set-up) still logs; a run that starts only
        now is stopped here, as the client's own exit handler, registered by ``init_run``, comes too late to run.
        """
        if not self._launched:
            if run is not self or self._failed:
                return  # given up on, or not this module's run (an owner that starts its runs itself)
            self.start()
        elif not self._thread.is_alive():
            return  # started before the exit: the client's own exit handler stops it
        started = self.started(START_TIMEOUT)
        if started is not None:
            _stop(started)

    def __bool__(self) -> bool:
        return not self._failed

    def __getitem__(self, key: str):
        return _Field(self, key)

    def __setitem__(self, key: str, value) -> None:
        self._send(key, "assign", (value,), {})

    def _send(self, key: str, method: str, args: tuple, kwargs: dict) -> None:
        with self._lock:
            if self._run is None:
                self._queue.append((key, method, args, kwargs))
                return
        _apply(self._run, key, method, args, kwargs, self._skip)

    def _start(self, arguments: dict) -> None:
        global run
        try:
            with warnings.catch_warnings(record=True) as caught:
                try:
                    neptune = _import_client()
                finally:
                    self._imported.set()
                new_run = neptune.init_run(**arguments)
            _pass_on(caught)
            if self._on_start:
                self._on_start(new_run)
        except Exception as e:
            self.abandon()
            LOGGER.warning(f"{PREFIX}could not start a run ({_describe(e)}); training goes on without Neptune logging")
            return
        with self._lock:
            if self._failed:  # given up on while it started: nothing was promised to it
                _stop(new_run)
                return
            for operation in self._queue:
                _apply(new_run, *operation, self._skip)
            self._queue, self._run = [], new_run
        if run is self:
            run = new_run

    def abandon(self) -> int:
        """Give up on the start: nothing is sent to it from now on; return how many operations waited for it."""
        global run
        with self._lock:
            waiting, self._failed, self._queue = len(self._queue), True, []
        if run is self:
            run = None
        return waiting

    def started(self, timeout: float):
        """The run once started (None if it failed, or is still starting after timeout seconds)."""
        self.start()
        self._thread.join(timeout)
        return self._run

    def wait(self, disk_only: bool = False) -> None:
        """The run's ``wait``, once it has started (what still waits for the start is in memory only)."""
        if self._run is not None:
            self._run.wait(disk_only=disk_only)

    def stop(self, seconds=None) -> None:
        """Stop the run once it has started (waiting for the start at most START_TIMEOUT seconds)."""
        started = self.started(START_TIMEOUT)
        if started is None:
            self.abandon()
        else:
            _stop(started, seconds=seconds)


def _apply(started, key: str, method: str, args: tuple, kwargs: dict, skip) -> None:
    """Send one operation to a started run; a failure is a warning, as when it is sent at once."""
    try:
        if method == "assign":
            started[key] = args[0]
        else:
            getattr(started[key], method)(*args, **kwargs)
    except Exception as e:
        skip((method, type(e)), f"could not {method} {key} ({_describe(e)}); skipped")


def _file(target, path: str):
    """Return ``File(path)`` for an upload to target, a run or a run still starting. While the client is being
    imported on the start thread, importing it here too could deadlock the two imports: wait for that one.
    """
    if isinstance(target, _Starting):
        target._imported.wait(START_TIMEOUT)
    from neptune.types import File

    return File(path)


def _waited_for_start() -> bool:
    """At train end: wait (at most START_TIMEOUT seconds) for a run still starting; whether there is a run."""
    if isinstance(run, _Starting) and run.started(START_TIMEOUT) is None and run:
        waiting = run.abandon()
        LOGGER.warning(
            f"{PREFIX}the run had not started after {START_TIMEOUT} s; the {waiting} operations waiting for it and "
            "the plots and weights of train end are not logged"
        )
    return bool(run)


def on_pretrain_routine_start(trainer, **init_run_kwargs) -> None:
    """Begin a Neptune run (its client starts at on_train_start, on another thread) and log the training arguments.

    Args:
        trainer (BaseTrainer): The trainer about to train.
        **init_run_kwargs (Any): Arguments for ``neptune.init_run`` over the default project, name and tags.
    """
    global run
    if isinstance(run, _Starting):
        run.start()  # a run begun by an earlier start whose training never reached on_train_start
    _problems.clear()
    run = _Starting({**_run_arguments(trainer), **init_run_kwargs})
    run["Configuration/Hyperparameters"] = _hyperparameters(trainer.args)


def on_train_start(trainer) -> None:
    """Start the client on its thread now that the trainer is set up (what was logged waits for it, in order)."""
    if isinstance(run, _Starting):
        run.start()


def on_train_epoch_end(trainer) -> None:
    """Log the training losses and learning rates of the epoch, and the mosaics after the second epoch."""
    if not run:
        return
    step = trainer.epoch + 1
    try:
        _log_scalars(trainer.label_loss_items(trainer.tloss, prefix="train"), step)
    except Exception as e:
        _skip("losses", f"could not read the training losses ({_describe(e)}); not logged")
    _log_scalars(getattr(trainer, "lr", None) or {}, step)
    if trainer.epoch == 1:
        _log_images(_images(trainer.save_dir, "train_batch*.jpg"), "Mosaic")


def on_fit_epoch_end(trainer) -> None:
    """Log the validation metrics of the epoch, and the model summary after the first epoch."""
    if not run:
        return
    if trainer.epoch == 0:
        try:
            from ultralytics.utils.torch_utils import model_info_for_loggers

            run["Configuration/Model"] = model_info_for_loggers(trainer)
        except Exception as e:
            _skip("model", f"could not log the model summary ({_describe(e)}); skipped")
    _log_scalars(getattr(trainer, "metrics", None) or {}, trainer.epoch + 1)


def on_val_end(validator) -> None:
    """Upload the validation label and prediction images."""
    if run:
        _log_images(_images(validator.save_dir, "val*.jpg"), "Validation")


def on_train_end(trainer) -> None:
    """Upload the result plots and the best weights."""
    if not _waited_for_start():
        return
    try:
        plots = _plot_files(trainer)
    except Exception as e:
        _skip("plots", f"could not list the plots ({_describe(e)}); none uploaded")
        plots = []
    for plot in plots:
        _log_plot(title=plot.stem, plot_path=plot)
    if getattr(trainer, "best", None) is None:
        _skip("best", "the trainer has no best weights path; weights were not uploaded")
    else:
        _upload(_weights_key(trainer), str(trainer.best))
    if sum(_problems.values()) > len(_problems):
        LOGGER.warning(f"{PREFIX}in all, {sum(_problems.values())} problems while logging (warnings above)")


callbacks = (
    {
        "on_pretrain_routine_start": on_pretrain_routine_start,
        "on_train_start": on_train_start,
        "on_train_epoch_end": on_train_epoch_end,
        "on_fit_epoch_end": on_fit_epoch_end,
        "on_val_end": on_val_end,
        "on_train_end": on_train_end,
    }
    if enabled
    else {}
)
