"""Adding our Neptune callbacks to a YOLO model or trainer, in place of the built-in ones."""

from __future__ import annotations

import functools

from ultralytics_neptune.client import CONNECTION_MODES, INIT_RUN_ARGUMENTS

OUR_MODULE = "ultralytics_neptune.utils.callbacks.neptune"
PARITY_EVENTS = ("on_pretrain_routine_start", "on_train_epoch_end", "on_fit_epoch_end", "on_val_end", "on_train_end")
BUILTIN_MODULES = frozenset({"ultralytics.utils.callbacks.neptune", "ultralytics.yolo.utils.callbacks.neptune"})


def _module_of(callback) -> str:
    return getattr(getattr(callback, "func", callback), "__module__", "") or ""


def _remove_callbacks(registry: dict, modules: frozenset) -> None:
    for registered in registry.values():
        # in place: a trainer may be iterating this very list (the built-in callbacks come after ours)
        registered[:] = [callback for callback in registered if _module_of(callback) not in modules]


def drop_builtin_neptune(trainer) -> None:
    """Remove the built-in Neptune callbacks that Ultralytics added to this trainer, so one run is started."""
    _remove_callbacks(trainer.callbacks, BUILTIN_MODULES)


def check_init_run_kwargs(init_run_kwargs: dict) -> None:
    """Raise a clear error for keyword arguments that neptune.init_run would refuse."""
    unknown = sorted(set(init_run_kwargs) - INIT_RUN_ARGUMENTS)
    if unknown:
        raise TypeError(
            f"unknown neptune.init_run argument(s) {', '.join(unknown)}; known: {', '.join(sorted(INIT_RUN_ARGUMENTS))}"
        )
    mode = init_run_kwargs.get("mode")
    if mode is not None and mode not in CONNECTION_MODES:
        raise ValueError(f"mode={mode!r} is not a Neptune connection mode; use one of {', '.join(CONNECTION_MODES)}")


def neptune_callbacks(extended: bool | None = None, **init_run_kwargs) -> dict:
    """The callbacks ``add_neptune_callbacks`` registers, as {event: [callback, ...]} (empty without the client)."""
    check_init_run_kwargs(init_run_kwargs)
    from ultralytics_neptune.utils.callbacks import neptune as module

    if extended is None:
        extended = module.extended_from_environment()
    elif not isinstance(extended, bool):
        raise TypeError(f"extended must be True or False, not {extended!r}")
    if not module.callbacks:
        return {}
    registered = {event: [module.callbacks[event]] for event in PARITY_EVENTS}
    start = functools.partial(module.on_pretrain_routine_start, extended=extended, **init_run_kwargs)
    registered["on_pretrain_routine_start"] = [drop_builtin_neptune, start]
    if extended:
        registered["teardown"] = [module.teardown]
    return registered


def add_neptune_callbacks(model_or_trainer, extended: bool | None = None, **init_run_kwargs) -> None:
    """Log the training of a YOLO model (or trainer) to Neptune as the built-in callback of its release did.

    ``extended=True`` switches on extended mode (default: the ULTRALYTICS_NEPTUNE_EXTENDED environment variable).
    Keyword arguments go to ``neptune.init_run`` over the parity ones (project, name, tags), e.g.
    ``mode="offline"``. Registering again replaces the earlier registration; the built-in Neptune callback, where
    the installed Ultralytics still has one enabled, is removed so that a training starts exactly one run.
    """
    registered = neptune_callbacks(extended, **init_run_kwargs)
    _remove_callbacks(model_or_trainer.callbacks, BUILTIN_MODULES | {__name__, OUR_MODULE})
    if not registered:
        from ultralytics.utils import LOGGER

        LOGGER.warning(
            "ultralytics-neptune: the neptune client is not installed, so this training is not logged to Neptune; "
            "install it with: pip install 'ultralytics-neptune[neptune]'"
        )
        return
    for event, callbacks in registered.items():
        for callback in callbacks:
            model_or_trainer.add_callback(event, callback)
