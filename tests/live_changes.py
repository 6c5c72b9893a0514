"""Hooks for live-check trainings (``ultralytics_neptune.verification.live.train(..., hook="this_file.py:name")``).

Each is called with the YOLO model once our callbacks are registered, in the training's own process. The mutations
wrap our registered callbacks so that they log something wrong, as a broken module would; the release changes make
the trainer itself behave as a new Ultralytics release might. None changes product code or Ultralytics' files.
This file imports no pytest: the training process must not look like a test run to Ultralytics.
"""

from __future__ import annotations

import time
from pathlib import Path

LOSS = "cls_loss"  # the loss key the mutations and release changes touch (every detect release has it)
PLOT = "results.png"  # the plot one mutation hides (every era uploads it)
EXTRA_PLOT = "extra_plot.png"  # the plot one release change writes
RENAMED_LOSS = "class_loss"


def _ours(callback) -> bool:
    module = getattr(getattr(callback, "func", callback), "__module__", "") or ""
    return module.startswith("ultralytics_neptune") and not module.startswith("ultralytics_neptune.verification")


def _wrap(model, event: str, wrapper) -> None:
    """Replace each of our callbacks of the event by wrapper(callback)."""
    model.callbacks[event] = [wrapper(callback) if _ours(callback) else callback for callback in model.callbacks[event]]


# mutations: a module that logs something wrong


def drop_loss_key(model) -> None:
    """Our module logs every loss but one."""

    def wrapper(callback):
        def on_train_epoch_end(trainer):
            label_loss_items = trainer.label_loss_items

            def fewer(*args, **kwargs):
                items = label_loss_items(*args, **kwargs)
                return {key: value for key, value in items.items() if not key.endswith(f"/{LOSS}")}

            trainer.label_loss_items = fewer
            try:
                callback(trainer)
            finally:
                del trainer.label_loss_items

        return on_train_epoch_end

    _wrap(model, "on_train_epoch_end", wrapper)


def lr_at_step_epoch(model) -> None:
    """Our module logs the learning rates at step epoch (one early) instead of epoch + 1."""

    def wrapper(callback):
        def on_train_epoch_end(trainer):
            lr = trainer.lr
            trainer.lr = {}
            try:
                callback(trainer)  # the losses (and mosaics) as they should be
            finally:
                trainer.lr = lr
            epoch, trainer.epoch = trainer.epoch, trainer.epoch - 1
            trainer.label_loss_items = lambda *args, **kwargs: {}
            try:
                callback(trainer)  # the learning rates only, as if at the epoch before
            finally:
                trainer.epoch = epoch
                del trainer.label_loss_items

        return on_train_epoch_end

    _wrap(model, "on_train_epoch_end", wrapper)


def skip_one_plot(model) -> None:
    """Our module does not upload one plot (the file is out of its sight while it uploads)."""

    def wrapper(callback):
        def on_train_end(trainer):
            plot = Path(trainer.save_dir) / PLOT
            hidden = plot.with_name(plot.name + ".hidden")
            plot.rename(hidden)
            try:
                callback(trainer)
            finally:
                hidden.rename(plot)

        return on_train_end

    _wrap(model, "on_train_end", wrapper)


def last_for_best(model) -> None:
    """Our module uploads last.pt where best.pt belongs."""

    def wrapper(callback):
        def on_train_end(trainer):
            best, trainer.best = trainer.best, trainer.last
            try:
                callback(trainer)
            finally:
                trainer.best = best

        return on_train_end

    _wrap(model, "on_train_end", wrapper)


def miss_final_metrics(model) -> None:
    """Our module logs nothing at the final evaluation (the on_fit_epoch_end after the last epoch)."""

    def wrapper(callback):
        calls = []

        def on_fit_epoch_end(trainer):
            calls.append(trainer.epoch)
            if len(calls) <= trainer.epochs:
                callback(trainer)

        return on_fit_epoch_end

    _wrap(model, "on_fit_epoch_end", wrapper)


# release changes: the trainer of an Ultralytics release that does not exist


def renamed_loss_key(model) -> dict:
    """A trainer that names one loss differently (in its results.csv too)."""
    base = model.task_map[model.task]["trainer"]

    class RenamedLossTrainer(base):
        def label_loss_items(self, loss_items=None, prefix="train"):
            items = super().label_loss_items(loss_items, prefix)
            rename = {f"{prefix}/{LOSS}": f"{prefix}/{RENAMED_LOSS}"}
            if isinstance(items, dict):
                return {rename.get(key, key): value for key, value in items.items()}
            return [rename.get(key, key) for key in items]

    return {"trainer": RenamedLossTrainer}


def one_more_plot(model) -> None:
    """A trainer that writes and registers one more plot before train end."""

    def write_plot(trainer):
        from PIL import Image

        path = Path(trainer.save_dir) / EXTRA_PLOT
        Image.new("RGB", (64, 48), (30, 120, 200)).save(path)
        trainer.plots[path] = {"data": None, "timestamp": time.time()}

    model.callbacks["on_train_end"].insert(0, write_plot)


def new_release(model) -> dict:
    """Both changes at once: a release that renames a loss and writes one more plot (one training for two tests)."""
    one_more_plot(model)
    return renamed_loss_key(model)
