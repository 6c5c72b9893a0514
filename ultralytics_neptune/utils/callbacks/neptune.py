"""Neptune logging for Ultralytics training, a drop-in for the callback Ultralytics deleted in 8.4.132.

Parity mode logs exactly what the built-in callback of the installed Ultralytics logged; the differences between
releases live in ``ultralytics_neptune.eras``. The ``neptune`` client is imported only when a run starts, and
it is looked up in ``sys.modules`` first, so a fake client installed there is the one used.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import ultralytics
from ultralytics.utils import LOGGER

from ultralytics_neptune.eras import FIXED_PLOT_FILES, Era, era_for

try:
    assert importlib.util.find_spec("neptune") is not None  # the client is installed; it is imported at run start
    client_installed = True
except (AssertionError, ValueError):  # ValueError: a module in sys.modules without a spec
    client_installed = False

run = None  # the Neptune run of the latest training, kept after it ends as upstream did
_File = None  # neptune.types.File of the client that started the run
_era: Era | None = None


def _log_scalars(scalars: dict, step: int = 0) -> None:
    """Append each value to the series named by its key, at the given step."""
    if run:
        for key, value in scalars.items():
            run[key].append(value=value, step=step)


def _log_images(images: dict, group: str = "") -> None:
    """Upload image files, given as {name: path string}, under ``group/name``."""
    if run:
        for name, path in images.items():
            run[f"{group}/{name}"].upload(_File(path))


def _log_plot(title: str, plot_path: Path | str) -> None:
    """Upload a plot under ``Plots/title`` the way upstream did: redrawn on a fresh matplotlib figure."""
    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt

    figure = plt.figure()
    axes = figure.add_axes([0, 0, 1, 1], frameon=False, aspect="auto", xticks=[], yticks=[])
    axes.imshow(mpimg.imread(plot_path))
    run[f"Plots/{title}"].upload(figure)


def _hyperparameters(args) -> dict:
    """Return the training arguments with None as an empty string (the client would drop None)."""
    return {key: "" if value is None else value for key, value in vars(args).items()}


def _glob_images(directory: Path, pattern: str) -> dict:
    """Return {stem: path string} of the files matching pattern in directory."""
    return {path.stem: str(path) for path in Path(directory).glob(pattern)}


def _plot_files(trainer) -> list:
    """Return the plots uploaded at train end, chosen as the installed release chose them."""
    if _era.plot_source == "fixed":
        return [trainer.save_dir / name for name in FIXED_PLOT_FILES if (trainer.save_dir / name).exists()]
    registered = [*trainer.plots.keys(), *trainer.validator.plots.keys()]
    return [path for path in registered if "batch" not in Path(path).name]


def _start_run(trainer, init_run_kwargs: dict) -> None:
    """Import the client, open the run and log the hyperparameters."""
    global run, _File, _era
    neptune = importlib.import_module("neptune")
    _File = importlib.import_module("neptune.types").File
    _era = era_for(ultralytics.__version__)
    parity_arguments = {
        "project": trainer.args.project or _era.default_name,
        "name": trainer.args.name,
        "tags": [_era.default_name],
    }
    run = neptune.init_run(**{**parity_arguments, **init_run_kwargs})
    run["Configuration/Hyperparameters"] = _hyperparameters(trainer.args)


def on_pretrain_routine_start(trainer, **init_run_kwargs) -> None:
    """Start a Neptune run and log the hyperparameters; extra keyword arguments go to ``neptune.init_run``."""
    try:
        _start_run(trainer, init_run_kwargs)
    except Exception as e:
        LOGGER.warning(f"NeptuneAI installed but not initialized correctly, not logging this run. {e}")


def on_train_epoch_end(trainer) -> None:
    """Log the epoch's training losses and learning rates; upload the mosaics after the second epoch."""
    step = trainer.epoch + 1
    _log_scalars(trainer.label_loss_items(trainer.tloss, prefix="train"), step)
    _log_scalars(trainer.lr, step)
    if trainer.epoch == 1:
        _log_images(_glob_images(trainer.save_dir, "train_batch*.jpg"), "Mosaic")


def on_fit_epoch_end(trainer) -> None:
    """Log the validation metrics; log the model summary after the first epoch."""
    if run and trainer.epoch == 0:
        from ultralytics.utils.torch_utils import model_info_for_loggers

        run["Configuration/Model"] = model_info_for_loggers(trainer)
    _log_scalars(trainer.metrics, trainer.epoch + 1)


def on_val_end(validator) -> None:
    """Upload the validation label and prediction images."""
    if run:
        _log_images(_glob_images(validator.save_dir, "val*.jpg"), "Validation")


def on_train_end(trainer) -> None:
    """Upload the result plots and the best weights."""
    if run:
        for plot in _plot_files(trainer):
            _log_plot(title=Path(plot).stem, plot_path=plot)
        weights_folder = trainer.args.name or trainer.args.task
        run[f"weights/{weights_folder}/{trainer.best.name}"].upload(_File(str(trainer.best)))


callbacks = (
    {
        "on_pretrain_routine_start": on_pretrain_routine_start,
        "on_train_epoch_end": on_train_epoch_end,
        "on_fit_epoch_end": on_fit_epoch_end,
        "on_val_end": on_val_end,
        "on_train_end": on_train_end,
    }
    if client_installed
    else {}
)
