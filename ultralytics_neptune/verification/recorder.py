"""Record a real tiny training into a replayable recording.

    python -m ultralytics_neptune.verification.recorder --out recording.json [--task segment --epochs 3 --imgsz 64]

It generates the task's synthetic dataset in a scratch folder, trains the task's ``yolov8n`` model (e.g.
``yolov8n-seg.yaml``) from scratch on CPU with plots on and no network, and writes every event with the state
callbacks read and the files present (see ``ultralytics_neptune.verification.recording`` for the format). Run it in
an environment with the Ultralytics release to record; it works on every supported release and task.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from pathlib import Path

from ultralytics_neptune.synthetic import MODELS, TASKS
from ultralytics_neptune.verification.recording import VALIDATOR_EVENTS, Recording, encode, recording_name

TRAINER_FIELDS = ("epoch", "epochs", "start_epoch", "lr", "metrics", "fitness", "best_fitness")
PATH_FIELDS = ("best", "last", "wdir")
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg"})


class Recorder:
    """Callbacks that snapshot a trainer and its save_dir at every event, keeping what changed."""

    def __init__(self, root: Path | str):
        self.root = str(Path(root).resolve())
        self.events: list = []
        self.trainer = None
        self._trainer_state: dict = {}
        self._validator_state: dict = {}
        self._files: dict = {}  # relative path -> (size, mtime_ns, revision)

    def callback(self, event: str):
        def record(subject) -> None:
            self.capture(event, subject)

        record.__name__ = f"record_{event}"
        return record

    def capture(self, event: str, subject) -> None:
        entry: dict = {"event": event, "target": "validator" if event in VALIDATOR_EVENTS else "trainer"}
        if entry["target"] == "trainer":
            self.trainer = subject
        trainer = self.trainer
        if trainer is not None:
            save_dir = Path(trainer.save_dir)
            state = self._trainer_snapshot(trainer, event)
            changed = {k: v for k, v in state.items() if self._trainer_state.get(k, _MISSING) != v}
            unset = sorted(set(self._trainer_state) - set(state) - {"model_info"})
            self._trainer_state = {**{k: v for k, v in self._trainer_state.items() if k not in unset}, **state}
            validator = subject if entry["target"] == "validator" else getattr(trainer, "validator", None)
            validator_state = self._validator_snapshot(validator, save_dir) if validator is not None else {}
            validator_changed = {k: v for k, v in validator_state.items() if self._validator_state.get(k) != v}
            self._validator_state.update(validator_state)
            files, removed = self._file_changes(save_dir)
            for key, value in (("state", changed), ("unset", unset), ("validator", validator_changed)):
                if value:
                    entry[key] = value
            if files:
                entry["files"] = files
            if removed:
                entry["removed"] = removed
        self.events.append(entry)

    def _relative(self, path, save_dir: Path) -> str:
        path = Path(path)
        try:
            return path.resolve().relative_to(save_dir.resolve()).as_posix()
        except ValueError:
            return encode(str(path), self.root)

    def _trainer_snapshot(self, trainer, event: str) -> dict:
        save_dir = Path(trainer.save_dir)
        state = {}
        for name in TRAINER_FIELDS:
            if hasattr(trainer, name):
                state[name] = encode(getattr(trainer, name), self.root)
        for name in PATH_FIELDS:
            if getattr(trainer, name, None) is not None:
                state[name] = self._relative(getattr(trainer, name), save_dir)
        state["args"] = encode(vars(trainer.args), self.root)
        if getattr(trainer, "tloss", None) is not None:
            state["loss_items"] = encode(trainer.label_loss_items(trainer.tloss, prefix="train"), self.root)
        # list() copies at once: Ultralytics registers plots from plotting threads while training goes on
        state["plots"] = [self._relative(path, save_dir) for path in list(getattr(trainer, "plots", {}))]
        if "model_info" in self._trainer_state:
            state["model_info"] = self._trainer_state["model_info"]
        elif event == "on_fit_epoch_end" and getattr(trainer, "epoch", None) == 0:
            from ultralytics.utils.torch_utils import model_info_for_loggers

            state["model_info"] = encode(model_info_for_loggers(trainer), self.root)
        return state

    def _validator_snapshot(self, validator, save_dir: Path) -> dict:
        return {
            "save_dir": self._relative(validator.save_dir, save_dir),
            "training": bool(getattr(validator, "training", False)),
            "plots": [self._relative(path, save_dir) for path in list(getattr(validator, "plots", {}))],
        }

    def _file_changes(self, save_dir: Path) -> tuple:
        present = {}
        if save_dir.exists():
            for path in sorted(save_dir.rglob("*")):
                if path.is_file():
                    stat = path.stat()
                    present[path.relative_to(save_dir).as_posix()] = (stat.st_size, stat.st_mtime_ns, path)
        changes = {}
        for relative_path, (size, mtime, path) in present.items():
            previous = self._files.get(relative_path)
            if previous is not None and previous[:2] == (size, mtime):
                continue
            revision = 0 if previous is None else previous[2] + 1
            self._files[relative_path] = (size, mtime, revision)
            spec = {"size": size, "revision": revision}
            if path.suffix.lower() in IMAGE_SUFFIXES:
                spec["image"] = _image_shape(path)
            changes[relative_path] = spec
        removed = sorted(set(self._files) - set(present))
        for relative_path in removed:
            del self._files[relative_path]
        return changes, removed


_MISSING = object()


def _image_shape(path: Path):
    from PIL import Image

    # None when the file is still being written by a plotting thread, or is not an image after all; Ultralytics'
    # patched Image.open then tries a HEIF opener, which raises ImportError where pi_heif is missing, not OSError
    try:
        with Image.open(path) as image:
            return [image.width, image.height, image.mode]
    except Exception:
        return None


def _versions() -> dict:
    versions = {"python": platform.python_version()}
    for name in ("ultralytics", "torch", "torchvision", "numpy", "matplotlib"):
        try:
            versions[name] = __import__(name).__version__
        except ImportError:
            versions[name] = None
    return versions


def record_training(
    workdir: Path,
    task: str = "detect",
    epochs: int = 3,
    imgsz: int = 64,
    batch: int = 4,
    images: int = 8,
    register=None,
) -> Recording:
    """Train the task's model on its synthetic dataset in workdir (the current directory during training).

    Args:
        workdir (Path): Scratch folder for the dataset, settings and runs.
        task (str): One of ``ultralytics_neptune.synthetic.TASKS``.
        epochs (int): Epochs to train.
        imgsz (int): Training image size.
        batch (int): Batch size.
        images (int): Images in the synthetic dataset.
        register (Callable | None): Called with the model after the recorder's callbacks are added, e.g. to log the
            same training to Neptune.

    Returns:
        (Recording): Every event of the training with the state callbacks read.
    """
    from ultralytics_neptune.synthetic import apply_offline_environment, make_dataset

    workdir = Path(workdir).resolve()
    apply_offline_environment(workdir, settings=True)
    # releases before 8.3.x call torch.load without weights_only, which torch >= 2.6 refuses for their checkpoints
    os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    # a user's training, not Ultralytics' test mode (which it enters when started from a pytest test)
    os.environ.pop("PYTEST_CURRENT_TEST", None)
    data = make_dataset(task, workdir / "dataset", images=images)
    os.chdir(workdir)
    from ultralytics import YOLO
    from ultralytics.utils.callbacks.base import default_callbacks

    recorder = Recorder(workdir)
    model = YOLO(MODELS[task])
    for event in default_callbacks:
        model.add_callback(event, recorder.callback(event))
    if register is not None:
        register(model)
    train_args = dict(
        data=str(data),
        epochs=epochs,
        imgsz=imgsz,
        batch=batch,
        workers=0,
        device="cpu",
        plots=True,
        seed=0,
        amp=False,
        verbose=False,
    )
    model.train(**train_args)
    versions = _versions()
    meta = {
        "name": recording_name(versions["ultralytics"], task),
        "ultralytics": versions["ultralytics"],
        "versions": versions,
        "task": task,
        "model": MODELS[task],
        "train_args": encode(train_args, str(workdir)),
        "dataset": {"images": images, "size": 128, "generator": "ultralytics_neptune.synthetic"},
    }
    return Recording(meta=meta, events=recorder.events)


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description="Record a real tiny Ultralytics training for replays.")
    parser.add_argument("--out", required=True, type=Path, help="where to write the recording (.json)")
    parser.add_argument("--task", choices=TASKS, default="detect", help="the Ultralytics task to train")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--imgsz", type=int, default=64)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--workdir", type=Path, help="scratch folder to keep (default: a temporary one)")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    with tempfile.TemporaryDirectory(prefix="ultralytics-neptune-record-") as scratch:
        workdir = args.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        recording = record_training(workdir, args.task, args.epochs, args.imgsz, args.batch, args.images)
    out.parent.mkdir(parents=True, exist_ok=True)
    recording.save(out)
    print(f"recorded {len(recording.events)} events of {recording.name} ({recording.task}) to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
