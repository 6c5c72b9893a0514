"""Adding our Neptune callbacks to a YOLO model or trainer, in place of the built-in ones.

Parity mode registers the contributed module's events as a ``ParityLogger`` made for this registration composes
them; extended mode registers those of an ``ExtendedLogger``. Either way the run starts only in the process that
should log, and a built-in Neptune callback that Ultralytics added to the same trainer is removed first, so a
training starts one run.
"""

from __future__ import annotations

import importlib.util
import os

from ultralytics_neptune import settings
from ultralytics_neptune.client import CONNECTION_MODES, INIT_RUN_ARGUMENTS

OUR_MODULES = frozenset(
    {
        __name__,
        "ultralytics_neptune.composed",
        "ultralytics_neptune.extended",
        "ultralytics_neptune.scale",
        "ultralytics_neptune.utils.callbacks.neptune[package]",
    }
)
BUILTIN_MODULES = frozenset({"ultralytics.utils.callbacks.neptune", "ultralytics.yolo.utils.callbacks.neptune"})


def _module_of(callback) -> str:
    target = getattr(callback, "func", callback)
    return getattr(target, "__module__", "") or ""


def _remove_callbacks(registry: dict, modules: frozenset) -> None:
    for registered in registry.values():
        # in place: a trainer may be iterating this very list (the built-in callbacks come after ours)
        registered[:] = [callback for callback in registered if _module_of(callback) not in modules]


def drop_builtin_neptune(trainer) -> None:
    """Remove the built-in Neptune callbacks that Ultralytics added to this trainer, so one run is started."""
    _remove_callbacks(trainer.callbacks, BUILTIN_MODULES)


def _device_count(device) -> int:
    if isinstance(device, (list, tuple)):
        return len(device)
    return len([part for part in str(device).split(",") if part.strip()]) if "," in str(device) else 1


def logs_here(trainer) -> bool:
    """Whether this process logs the training: not a DDP rank above 0, and not a parent about to launch DDP workers
    (from 8.3.184 to 8.3.199 the parent fired on_pretrain_routine_start too)."""
    if int(os.environ.get("RANK", -1)) not in (-1, 0):
        return False
    if getattr(trainer, "ddp", False):
        return False
    return "LOCAL_RANK" in os.environ or _device_count(getattr(trainer.args, "device", None)) <= 1


def missing_token(init_run_kwargs: dict) -> str | None:
    """Why a run could not start for want of an API token (a mode that talks to a server, and no token), or None."""
    mode = init_run_kwargs.get("mode") or os.environ.get(settings.MODE_ENV) or "async"
    if mode in ("offline", "debug") or init_run_kwargs.get("api_token") or os.environ.get("NEPTUNE_API_TOKEN"):
        return None
    return (
        f"no Neptune API token for {mode} mode, so this training is not logged to Neptune. To log without an "
        "account, set NEPTUNE_MODE=offline (or pass mode='offline'); for a server, set NEPTUNE_API_TOKEN and "
        "NEPTUNE_PROJECT"
    )


def _starting_run(start, init_run_kwargs: dict):
    """The start callback, run only in the process that logs, and only when a run can start at all."""

    def on_pretrain_routine_start(trainer) -> None:
        if not logs_here(trainer):
            return
        problem = missing_token(init_run_kwargs)
        if problem:
            from ultralytics.utils import LOGGER

            LOGGER.warning(f"ultralytics-neptune: {problem}")
            return
        start(trainer)

    return on_pretrain_routine_start


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


def client_installed(client: str = "neptune") -> bool:
    try:
        return importlib.util.find_spec("neptune_scale" if client == "scale" else "neptune") is not None
    except ValueError:  # a "neptune" in sys.modules without a spec: a stand-in someone put there
        return True


def neptune_callbacks(extended: bool | None = None, client: str | None = None, **init_run_kwargs) -> dict:
    """The callbacks ``add_neptune_callbacks`` registers, as {event: [callback, ...]} (empty without the client).

    ``extended`` None means ``ULTRALYTICS_NEPTUNE_EXTENDED`` or the settings file decide (default: parity mode);
    ``client`` None means ``ULTRALYTICS_NEPTUNE_CLIENT`` or what is installed decide (``settings.neptune_client``).
    """
    check_init_run_kwargs(init_run_kwargs)
    if extended is None:
        extended = settings.extended_mode().value
    elif not isinstance(extended, bool):
        raise TypeError(f"extended must be True or False, not {extended!r}")
    settings.connection_mode()  # a bad NEPTUNE_MODE is refused now, not when the run starts
    client = settings.neptune_client(client).value
    if not client_installed(client):
        return {}
    if extended:
        from ultralytics_neptune.extended import ExtendedLogger as Logger
    else:
        from ultralytics_neptune.composed import ParityLogger as Logger
    if client == "scale":
        from ultralytics_neptune.scale import flush_after_events

        logger = Logger(client=client, **init_run_kwargs)
        callbacks = flush_after_events(logger.callbacks(), lambda: logger.run)
    else:
        callbacks = Logger(**init_run_kwargs).callbacks()
    registered = {event: [callback] for event, callback in callbacks.items()}
    registered["on_pretrain_routine_start"] = [
        drop_builtin_neptune,
        _starting_run(callbacks["on_pretrain_routine_start"], init_run_kwargs),
    ]
    return registered


def add_neptune_callbacks(
    model_or_trainer, extended: bool | None = None, client: str | None = None, **init_run_kwargs
) -> None:
    """Log the training of a YOLO model (or trainer) to Neptune as the built-in callback of its release did.

    ``extended=True`` switches on extended mode (default: ``ULTRALYTICS_NEPTUNE_EXTENDED`` or the settings file).
    ``client="scale"`` logs with the Neptune 3.x client, ``neptune-scale`` (default: ``ULTRALYTICS_NEPTUNE_CLIENT``,
    else ``scale`` when only ``neptune-scale`` is installed, else the 1.x client ``neptune``).
    Keyword arguments go to ``neptune.init_run`` over the parity ones (project, name, tags), e.g.
    ``mode="offline"``. Registering again replaces the earlier registration; the built-in Neptune callback, where
    the installed Ultralytics still has one enabled, is removed so that a training starts exactly one run.
    """
    registered = neptune_callbacks(extended, client, **init_run_kwargs)
    _remove_callbacks(model_or_trainer.callbacks, BUILTIN_MODULES | OUR_MODULES)
    if not registered:
        from ultralytics.utils import LOGGER

        LOGGER.warning(
            "ultralytics-neptune: the neptune client is not installed, so this training is not logged to Neptune; "
            "install it with: pip install 'ultralytics-neptune[neptune]' (or 'ultralytics-neptune[scale]' for the "
            "Neptune 3.x client)"
        )
        return
    for event, callbacks in registered.items():
        for callback in callbacks:
            model_or_trainer.add_callback(event, callback)


_refused = set()  # the setting errors automatic registration has warned about in this process


def register_automatically(trainer) -> None:
    """What the start-up hook does for each new trainer: register as the switches say, or say loudly why not."""
    try:
        if not settings.automatic_registration().value:
            return
        add_neptune_callbacks(trainer, extended=settings.extended_mode().value)
    except (settings.SettingError, TypeError, ValueError) as error:
        if str(error) not in _refused:
            _refused.add(str(error))
            from ultralytics.utils import LOGGER

            LOGGER.warning(f"ultralytics-neptune: NOT logging this training to Neptune: {error}")
