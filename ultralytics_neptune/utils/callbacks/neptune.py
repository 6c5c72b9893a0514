from ultralytics.utils import LOGGER, TESTS_RUNNING, colorstr

try:
    assert not TESTS_RUNNING  # do not log pytest
    import neptune
    from neptune.types import File

    assert hasattr(neptune, "__version__")  # verify package is not directory

    run = None  # NeptuneAI experiment logger instance
    _failures = {}  # (action, error type) -> how many times that logging call failed in this run

except (ImportError, AssertionError):
    neptune = None

PREFIX = colorstr("Neptune: ")
STOP_TIMEOUT = 30  # seconds teardown waits for logged data to be sent; what remains stays in the client's disk queue


def _failed(action: str, name: str, error: Exception) -> None:
    """Warn about a failed logging call once per action and error type in a run, and count every one.

    Args:
        action (str): What was attempted, e.g. "upload".
        name (str): What it was attempted on, e.g. "weights/train/best.pt".
        error (Exception): The error that was raised.
    """
    kind = (action, type(error).__name__)
    if kind not in _failures:
        lines = str(error).strip().splitlines()
        LOGGER.warning(f"{PREFIX}could not {action} {name}, skipped: {kind[1]}: {lines[0] if lines else ''}")
    _failures[kind] = _failures.get(kind, 0) + 1


def _log_scalars(scalars: dict, step: int = 0) -> None:
    """Log scalars to the NeptuneAI experiment logger.

    Args:
        scalars (dict): Dictionary of scalar values to log to NeptuneAI.
        step (int, optional): The current step or iteration number for logging.

    Examples:
        >>> metrics = {"mAP": 0.85, "loss": 0.32}
        >>> _log_scalars(metrics, step=100)
    """
    if run:
        for k, v in scalars.items():
            try:
                run[k].append(value=v, step=step)
            except Exception as e:
                _failed("log", f"{k} at step {step}", e)


def _log_images(imgs_dict: dict, group: str = "") -> None:
    """Log images to the NeptuneAI experiment logger.

    Args:
        imgs_dict (dict): Dictionary of image file paths to log, with keys as image names.
        group (str, optional): Group name to organize images under in the Neptune UI.

    Examples:
        >>> _log_images({"val_batch0_pred": "runs/detect/train/val_batch0_pred.jpg"}, group="Validation")
    """
    if run:
        for k, v in imgs_dict.items():
            try:
                run[f"{group}/{k}"].upload(File(v))
            except Exception as e:
                _failed("upload", f"{group}/{k}", e)


def _log_plot(title: str, plot_path: str) -> None:
    """Log a plot image to the NeptuneAI experiment logger, drawn on a matplotlib figure that is closed afterwards.

    Args:
        title (str): Title of the plot in the Neptune UI, under "Plots".
        plot_path (str): Path to the saved image file.

    Examples:
        >>> _log_plot("results", "runs/detect/train/results.png")
    """
    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt

    fig = plt.figure()
    try:
        ax = fig.add_axes([0, 0, 1, 1], frameon=False, aspect="auto", xticks=[], yticks=[])  # no ticks
        ax.imshow(mpimg.imread(plot_path))
        run[f"Plots/{title}"].upload(fig)
    except Exception as e:
        _failed("upload", f"Plots/{title}", e)
    finally:
        plt.close(fig)


def on_pretrain_routine_start(trainer) -> None:
    """Initialize NeptuneAI run and log hyperparameters before training starts."""
    try:
        global run
        _failures.clear()
        run = neptune.init_run(
            project=trainer.args.project or "Ultralytics",
            name=trainer.args.name,
            tags=["Ultralytics"],
        )
        run["Configuration/Hyperparameters"] = {k: "" if v is None else v for k, v in vars(trainer.args).items()}
    except Exception as e:
        LOGGER.warning(f"{PREFIX}installed but not initialized correctly, not logging this run. {e}")


def on_train_epoch_end(trainer) -> None:
    """Log training metrics and learning rate at the end of each training epoch."""
    try:
        _log_scalars(trainer.label_loss_items(trainer.tloss, prefix="train"), trainer.epoch + 1)
    except Exception as e:
        _failed("log", "the training losses", e)
    _log_scalars(trainer.lr, trainer.epoch + 1)
    if trainer.epoch == 1:
        _log_images({f.stem: str(f) for f in trainer.save_dir.glob("train_batch*.jpg")}, "Mosaic")


def on_fit_epoch_end(trainer) -> None:
    """Log model info and validation metrics at the end of each fit epoch."""
    if run and trainer.epoch == 0:
        try:
            from ultralytics.utils.torch_utils import model_info_for_loggers

            run["Configuration/Model"] = model_info_for_loggers(trainer)
        except Exception as e:
            _failed("log", "Configuration/Model", e)
    _log_scalars(trainer.metrics, trainer.epoch + 1)


def on_val_end(validator) -> None:
    """Log validation images at the end of validation."""
    if run:
        _log_images({f.stem: str(f) for f in validator.save_dir.glob("val*.jpg")}, "Validation")


def on_train_end(trainer) -> None:
    """Log final results, plots, and model weights at the end of training."""
    if run:
        for f in [*trainer.plots.keys(), *trainer.validator.plots.keys()]:
            if "batch" not in f.name:
                _log_plot(title=f.stem, plot_path=f)
        try:
            run[f"weights/{trainer.args.name or trainer.args.task}/{trainer.best.name}"].upload(File(str(trainer.best)))
        except Exception as e:
            _failed("upload", "the best weights", e)


def teardown(trainer) -> None:
    """Stop the NeptuneAI run when training ends, waiting at most STOP_TIMEOUT seconds for data still being sent."""
    global run
    if run:
        try:
            run.stop(seconds=STOP_TIMEOUT)
        except Exception as e:
            _failed("stop", "the run", e)
        run = None
    if sum(_failures.values()) > len(_failures):  # repeats were not warned about: say how many failed in all
        LOGGER.warning(f"{PREFIX}in all, {sum(_failures.values())} problems while logging (warnings above)")


callbacks = (
    {
        "on_pretrain_routine_start": on_pretrain_routine_start,
        "on_train_epoch_end": on_train_epoch_end,
        "on_fit_epoch_end": on_fit_epoch_end,
        "on_val_end": on_val_end,
        "on_train_end": on_train_end,
        "teardown": teardown,
    }
    if neptune
    else {}
)
