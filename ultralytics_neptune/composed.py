"""The contributed module, run by the package: its own code, composed from outside for every supported release.

``ultralytics_neptune/utils/callbacks/neptune.py`` is the module an Ultralytics tree receives: plain, synchronous,
written for the newest release. The package runs that file's code, not a copy of it: each registration loads it
into a module object of its own, where ``import neptune`` and ``from ultralytics.utils import ...`` resolve to
stand-ins the package provides (the process's ``sys.modules`` and the client are left as they are):

- ``neptune``: a client whose ``init_run`` returns a ``StartingRun``, so the client is imported and the run started on
  a thread of its own once the trainer is set up, off the training's critical path;
- ``ultralytics.utils``: the installed one with ``TESTS_RUNNING`` off, since registering is the user's explicit
  choice (Ultralytics' own trainers load the module only when its settings key is on).

Around the module's events, ``ParityLogger`` adds what the package does for its users: the start thread launched at
``on_train_start``, a bounded wait for the start at train end, and the behaviour of older releases' callbacks from
the era table (``releases.ERAS``): their default project and tag, and their fixed list of plots.
"""

from __future__ import annotations

import builtins
import functools
import importlib.machinery
import importlib.util
import types
from pathlib import Path

from ultralytics_neptune import releases
from ultralytics_neptune.releases import Era, era_of
from ultralytics_neptune.starting import PREFIX, PendingFile, StartingRun, client_file, describe

MODULE = "ultralytics_neptune.utils.callbacks.neptune"
NEWEST_DEFAULT_NAME = releases.ERAS[-1].default_name  # the default project and tag the module itself passes


@functools.lru_cache(maxsize=1)
def _module_code():
    """The compiled code of the contributed module's file, once per process (from its cached bytecode where that is
    up to date, as an import would take it)."""
    spec = importlib.util.find_spec(MODULE)  # its loader may be another's (pytest's assertion rewriter), hence ours
    return importlib.machinery.SourceFileLoader(spec.name, spec.origin).get_code(spec.name)


def module_path() -> Path:
    """The file of the contributed module, the one ``ultralytics-neptune upstream`` writes into a tree."""
    return Path(_module_code().co_filename)


class _UltralyticsUtils:
    """``ultralytics.utils`` as the module sees it: the installed one, not under tests."""

    TESTS_RUNNING = False

    def __getattr__(self, name: str):
        import ultralytics.utils

        return getattr(ultralytics.utils, name)


def load_module(client) -> types.ModuleType:
    """Run the contributed module's code in a module object of its own, ``import neptune`` resolving to client."""
    utils = _UltralyticsUtils()

    def resolve(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and name in ("neptune", "neptune.types"):
            return client.types if name == "neptune.types" and fromlist else client
        if level == 0 and name == "ultralytics.utils" and fromlist:
            return utils
        return builtins.__import__(name, globals, locals, fromlist, level)

    code = _module_code()
    module = types.ModuleType(f"{MODULE}[package]")
    module.__file__ = code.co_filename
    module.__builtins__ = {**vars(builtins), "__import__": resolve}
    exec(code, vars(module))
    return module


class StartingClient:
    """The ``neptune`` the module imports: ``init_run`` returns a run that starts on its own thread.

    Args:
        owner: What the run reports to: its ``warn(kind, message)`` and ``translate(arguments)`` (the era's init_run
            arguments and the user's over the module's).
        on_start: Called with the client's run once it has started, before what waited for it is sent.
        backend: The client that starts the run (default: the 1.x client; ``scale.ScaleBackend`` for 3.x).
    """

    __version__ = "ultralytics-neptune"  # the module checks that its client is a package, not a folder

    def __init__(self, owner, on_start=None, backend=None):
        self.owner = owner
        self.on_start = on_start
        self.backend = backend
        self.types = types.SimpleNamespace(File=PendingFile if backend is not None else client_file)
        self.last_run: StartingRun | None = None

    def init_run(self, **arguments) -> StartingRun:
        self.last_run = StartingRun(self.owner.translate(arguments), self.owner.warn, self.on_start, self.backend)
        return self.last_run


def backend_of(client: str | None):
    """The ``StartingRun`` backend of a client name: None for the 1.x client (its default), the 3.x adapter's."""
    if client in (None, "neptune"):
        return None
    if client == "scale":
        from ultralytics_neptune.scale import ScaleBackend

        return ScaleBackend()
    raise ValueError(f"client={client!r} is not a Neptune client; use 'neptune' (1.x) or 'scale' (3.x)")


class _FixedPlotsTrainer:
    """A trainer as train end saw it before 8.3.235: the plots are the files of the fixed list in its folder."""

    def __init__(self, trainer):
        self._trainer = trainer
        folder = Path(trainer.save_dir)
        self.plots = {folder / name: {} for name in releases.FIXED_PLOTS if (folder / name).exists()}
        self.validator = types.SimpleNamespace(plots={})

    def __getattr__(self, name: str):
        return getattr(self._trainer, name)


def as_era_sees_it(trainer, era: Era):
    """The trainer that train end of the era's callback reads its plots from."""
    return _FixedPlotsTrainer(trainer) if era.plots == "fixed" else trainer


def era_arguments(arguments: dict, era: Era, project_given: bool) -> dict:
    """The module's init_run arguments with the era's default project and tag in place of the newest release's."""
    if era.default_name == NEWEST_DEFAULT_NAME:
        return arguments
    arguments = dict(arguments)
    if arguments.get("tags") == [NEWEST_DEFAULT_NAME]:
        arguments["tags"] = [era.default_name]
    if not project_given and arguments.get("project") == NEWEST_DEFAULT_NAME:
        arguments["project"] = era.default_name
    return arguments


def installed_release() -> str:
    import ultralytics

    return ultralytics.__version__


class ParityLogger:
    """Parity mode for one registration: the contributed module's events, as the installed release's callback logged.

    Args:
        release: The Ultralytics release whose callback to behave as (default: the installed one).
        client: "neptune" (the 1.x client, the default) or "scale" (the 3.x client, ``neptune-scale``).
        **init_run_kwargs: Arguments for ``neptune.init_run`` over the module's project, name and tags.
    """

    COMPOSED_EVENTS = ("on_pretrain_routine_start", "on_train_end")  # the module's events this logger adds to

    def __init__(self, release: str | None = None, client: str | None = None, **init_run_kwargs):
        self.era = era_of(release or installed_release())
        self.init_run_kwargs = init_run_kwargs
        self.client = StartingClient(self, backend=backend_of(client))
        self.module = load_module(self.client)
        self._project_given = False
        self._warned: set = set()

    @property
    def last_start(self) -> StartingRun | None:
        """The latest run started (its start may have failed)."""
        return self.client.last_run

    @property
    def run(self):
        """The module's run (a ``StartingRun``), or None."""
        return self.module.run

    def warn(self, kind: str, message: str) -> None:
        """A warning of the run's start, once per kind in this registration."""
        if kind not in self._warned:
            self._warned.add(kind)
            self.module.LOGGER.warning(f"{PREFIX}{message}")

    def translate(self, arguments: dict) -> dict:
        return {**era_arguments(arguments, self.era, self._project_given), **self.init_run_kwargs}

    def callbacks(self) -> dict:
        """{event: callback} of the module, each composed with what the package adds, none raising into the
        training."""
        composed = {event: functools.partial(self.guarded, event) for event in self.module.callbacks}
        composed.update(
            on_pretrain_routine_start=functools.partial(self.guarded, "on_pretrain_routine_start"),
            on_train_start=self.on_train_start,
            on_train_end=functools.partial(self.guarded, "on_train_end"),
        )
        return composed

    def guarded(self, event: str, trainer) -> None:
        """An event of the module (or of this logger, where it adds to the module's): an error it raises, one the
        module's own guards did not expect (a trainer without an attribute it reads), is a warning, never an
        exception in the training."""
        callback = getattr(self, event) if event in self.COMPOSED_EVENTS else self.module.callbacks[event]
        try:
            callback(trainer)
        except Exception as e:
            self.warn(("event", event), f"{event} failed ({describe(e)}); what it logs was skipped")

    def on_pretrain_routine_start(self, trainer) -> None:
        """The module's start of a run; a run begun by an earlier start that never reached on_train_start starts now,
        as upstream's did at once."""
        if isinstance(self.run, StartingRun):
            self.run.launch()
        self._project_given = bool(getattr(trainer.args, "project", None))
        self._warned = set()
        self.module.on_pretrain_routine_start(trainer)

    def on_train_start(self, trainer) -> None:
        """Start the client on its thread now that the trainer is set up (what was logged waits for it, in order)."""
        if isinstance(self.run, StartingRun):
            self.run.launch()

    def on_train_end(self, trainer) -> None:
        """The module's train end, once the run has started (waiting at most ``START_TIMEOUT`` seconds)."""
        if isinstance(self.run, StartingRun) and not self.run.wait_for_start():
            return
        self.module.on_train_end(as_era_sees_it(trainer, self.era))
