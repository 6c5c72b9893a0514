"""What is measured: our callbacks (parity, extended), the upstream module, the floor, and other trackers' callbacks.

A contestant gives fresh callbacks for each replay (``start``) and, untimed, cleans up after it (``finish``): runs
left open are stopped, writers closed, figures closed by the harness.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import os
from contextlib import contextmanager
from pathlib import Path

from benchmarks.environment import QUIET_NEPTUNE, quiet_loggers
from benchmarks.floor import CallLog, Floor
from benchmarks.floor_scale import LOG_DIRECTORY, ScaleCallLog, ScaleFloor, registered_logger

_copies = itertools.count()


class Contestant:
    """Callbacks to time on one replay."""

    name = ""
    key = ""

    def start(self, save_dir: Path) -> tuple[dict, object]:
        """The callbacks for one replay into save_dir, and an untimed before-event hook (or None)."""
        raise NotImplementedError

    def finish(self) -> None:
        """Untimed clean-up after the replay."""

    def problem(self, save_dir: Path) -> str | None:
        """After a replay, before finish: why its logging did not happen (None when it did)."""
        return None


def extended_available() -> bool:
    """Whether the installed ultralytics-neptune has extended mode (``neptune_callbacks(extended=True)``)."""
    from ultralytics_neptune import neptune_callbacks

    try:
        neptune_callbacks(extended=True)
    except TypeError:
        return False
    return True


class Ours(Contestant):
    """Our callbacks exactly as ``add_neptune_callbacks`` registers them."""

    def __init__(self, extended: bool = False):
        self.extended = extended
        self.name = "ours (extended)" if extended else "ours (parity)"
        self.key = "extended" if extended else "parity"

    def start(self, save_dir: Path) -> tuple[dict, object]:
        from ultralytics_neptune import neptune_callbacks

        callbacks = neptune_callbacks(extended=True) if self.extended else neptune_callbacks()
        self.logger = callbacks["on_train_start"][0].__self__  # the registration's ParityLogger or ExtendedLogger
        return callbacks, None

    def finish(self) -> None:
        if self.logger.run:  # both modes stop their run when a training ends; a scenario without that event
            self.logger.run.stop()


def scale_available() -> bool:
    """Whether the Neptune 3.x client (``neptune-scale``) is installed beside the 1.x one."""
    return importlib.util.find_spec("neptune_scale") is not None


class ScaleFolder:
    """Gives each replay of a 3.x contestant its own folder for the client's offline runs (inside the replay's, so
    removed with it), and reads back what the replay wrote there."""

    name = ""
    read_back = None  # the last replay's run as read back from its SQLite file (``problem``)

    def use_own_folder(self, save_dir: Path) -> None:
        self._saved_directory = os.environ.get(LOG_DIRECTORY)
        self.folder = save_dir.parent / "neptune-scale"
        os.environ[LOG_DIRECTORY] = str(self.folder)

    def restore_folder(self) -> None:
        if self._saved_directory is None:
            os.environ.pop(LOG_DIRECTORY, None)
        else:
            os.environ[LOG_DIRECTORY] = self._saved_directory

    def problem(self, save_dir: Path) -> str | None:
        """The replay's one 3.x run, read back with the client's message classes, holds every epoch's metrics."""
        from ultralytics_neptune.offline_scale import read_scale_run, scale_run_folders

        folders = scale_run_folders(self.folder)
        if len(folders) != 1:
            return f"{len(folders)} Neptune 3.x runs in {self.folder}, not one"
        self.read_back = read_scale_run(folders[0])
        steps = [step for step, _ in self.read_back.series().get("metrics/mAP50(B)", [])]
        if self.read_back.problems or not steps or steps != list(range(1, len(steps) + 1)):
            return f"the 3.x run in {folders[0]} holds metrics/mAP50(B) at steps {steps} ({self.read_back.problems})"
        return None


class ScaleOurs(ScaleFolder, Ours):
    """Our callbacks with the Neptune 3.x client (``client="scale"``), offline, nothing captured."""

    def __init__(self, extended: bool = False):
        super().__init__(extended)
        self.name = f"ours ({self.key}, 3.x)"
        self.key = f"{self.key}-scale"

    def start(self, save_dir: Path) -> tuple[dict, object]:
        from ultralytics_neptune import neptune_callbacks

        self.use_own_folder(save_dir)
        callbacks = neptune_callbacks(extended=self.extended, client="scale", **QUIET_NEPTUNE)
        self.logger = registered_logger(callbacks)
        return callbacks, None

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.restore_folder()


class Upstream(Contestant):
    """A fresh copy of the installed Ultralytics' own Neptune callback module (8.4.131 in the bench environment)."""

    name, key = "upstream", "upstream"

    def __init__(self) -> None:
        self.module = None

    def start(self, save_dir: Path) -> tuple[dict, object]:
        from ultralytics_neptune.verification.upstream import load_upstream_module

        self.module = load_upstream_module()
        return self.module.callbacks, None

    def finish(self) -> None:
        if self.module is not None and self.module.run is not None:
            self.module.run.stop()
            self.module.run = None


class FloorContestant(Contestant):
    """The same client calls as ours, prepared beforehand (benchmarks.floor)."""

    name, key = "floor", "floor"

    def __init__(self, log: CallLog):
        self.log = log
        self.floor: Floor | None = None

    def start(self, save_dir: Path) -> tuple[dict, object]:
        self.floor = Floor(self.log, save_dir)
        return self.floor.callbacks(), self.floor.before_event

    def finish(self) -> None:
        self.floor.finish()


class ScaleFloorContestant(ScaleFolder, Contestant):
    """The same 3.x client calls as ours with ``client="scale"``, prepared beforehand (benchmarks.floor_scale)."""

    name, key = "floor (3.x)", "floor-scale"

    def __init__(self, log: ScaleCallLog):
        self.log = log
        self.floor: ScaleFloor | None = None

    def start(self, save_dir: Path) -> tuple[dict, object]:
        self.use_own_folder(save_dir)
        self.floor = ScaleFloor(self.log, save_dir)
        return self.floor.callbacks(), self.floor.before_event

    def finish(self) -> None:
        try:
            self.floor.finish()
        finally:
            self.restore_folder()


def same_scale_run(ours: ScaleFolder, floor: ScaleFolder) -> str:
    """A check line: whether the floor's 3.x run, read back, holds what ours did (series, configs, files)."""
    if ours.read_back is None or floor.read_back is None:
        return f"**{floor.name} vs {ours.name}: a run was not read back**"
    parts = {
        "series": lambda run: run.series(),
        "configs": lambda run: run.atoms(),
        "files": lambda run: {field: upload.get("content") for field, upload in run.uploads().items()},
    }
    differing = [part for part, read in parts.items() if read(ours.read_back) != read(floor.read_back)]
    outcome = "identical" if not differing else f"**{', '.join(differing)} differ**"
    return f"{floor.name} vs {ours.name}, real client, read back from the SQLite files: {outcome}"


@contextmanager
def open_gates(setting: str):
    """Let an Ultralytics integration module load: not under tests, and its setting on (in memory only)."""
    import ultralytics.utils as ultralytics_utils

    saved = ultralytics_utils.TESTS_RUNNING, ultralytics_utils.SETTINGS
    ultralytics_utils.TESTS_RUNNING = False
    ultralytics_utils.SETTINGS = {**dict(saved[1]), setting: True}
    try:
        yield
    finally:
        ultralytics_utils.TESTS_RUNNING, ultralytics_utils.SETTINGS = saved


def load_integration(module: str, setting: str):
    """A fresh copy of ``ultralytics.utils.callbacks.<module>`` with its gates open."""
    origin = importlib.util.find_spec(f"ultralytics.utils.callbacks.{module}").origin
    spec = importlib.util.spec_from_file_location(f"_bench_{module}_{next(_copies)}", origin)
    copy = importlib.util.module_from_spec(spec)
    with open_gates(setting):
        spec.loader.exec_module(copy)
    if not copy.callbacks:
        raise RuntimeError(f"Ultralytics' {module} callbacks stayed disabled: is its package installed?")
    return copy


class Peer(Contestant):
    """Another tracker's callbacks as shipped in the installed Ultralytics, in its local or offline mode."""

    def __init__(self, name: str, module: str, setting: str):
        self.name, self.key, self.module_name, self.setting = name, setting, module, setting
        self.module = None

    def start(self, save_dir: Path) -> tuple[dict, object]:
        self.module = load_integration(self.module_name, self.setting)
        quiet_loggers()
        return self.module.callbacks, None

    def finish(self) -> None:
        pass


class TensorBoard(Peer):
    def __init__(self) -> None:
        super().__init__("TensorBoard", "tensorboard", "tensorboard")

    def problem(self, save_dir: Path) -> str | None:
        self.module.WRITER.flush()
        events = list(save_dir.glob("events.out.tfevents.*"))
        return None if events and events[0].stat().st_size > 10_000 else f"no TensorBoard events in {save_dir}"

    def finish(self) -> None:
        writer = getattr(self.module, "WRITER", None)
        if writer is not None:  # 8.4.131 never closes it; later releases do at teardown
            writer.close()
            self.module.WRITER = None


class MLflow(Peer):
    def __init__(self) -> None:
        super().__init__("MLflow", "mlflow", "mlflow")

    def problem(self, save_dir: Path) -> str | None:
        run = self.module.mlflow.last_active_run()
        if run is None or not run.data.metrics:
            return "MLflow logged no metrics"
        artifacts = self.module.mlflow.artifacts.list_artifacts(run_id=run.info.run_id)
        return None if artifacts else "MLflow logged no artifacts"

    def finish(self) -> None:
        mlflow = self.module.mlflow
        if mlflow.active_run() is not None:
            mlflow.end_run()


class WandB(Peer):
    def __init__(self) -> None:
        super().__init__("W&B", "wb", "wandb")

    def start(self, save_dir: Path) -> tuple[dict, object]:
        callbacks, hook = super().start(save_dir)
        # stub: the module binds model_info_for_loggers at import, before the replay makes it return the recorded
        # summary; look it up at call time instead, so W&B logs the same model summary Neptune does
        from ultralytics.utils import torch_utils

        self.module.model_info_for_loggers = lambda trainer: torch_utils.model_info_for_loggers(trainer)
        return callbacks, hook

    def finish(self) -> None:
        wb = self.module.wb
        if wb.run is not None:
            wb.run.finish()

    def problem(self, save_dir: Path) -> str | None:
        runs = list(save_dir.glob("wandb/offline-run-*/*.wandb"))
        images = list(save_dir.glob("wandb/offline-run-*/files/media/images/*"))
        if runs and images:
            return None
        found = sorted(str(path.relative_to(save_dir)) for path in save_dir.glob("wandb/**/*") if path.is_file())
        return f"no W&B offline run with images in {save_dir} (found: {', '.join(found) or 'nothing'})"


def peers() -> list:
    return [TensorBoard(), MLflow(), WandB()]


@contextmanager
def real_neptune():
    """The real neptune client in sys.modules, every init_run forced offline and quiet (see QUIET_NEPTUNE)."""
    neptune = importlib.import_module("neptune")
    importlib.import_module("neptune.types")
    quiet_loggers()
    init_run = neptune.init_run

    def quiet_init_run(*args, **kwargs):
        return init_run(*args, **{**kwargs, **QUIET_NEPTUNE})

    neptune.init_run = quiet_init_run
    try:
        yield neptune
    finally:
        neptune.init_run = init_run
