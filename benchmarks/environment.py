"""The benchmark process: every tracker offline or local, under one scratch folder, and quiet.

Call ``prepare(workdir)`` before anything imports Ultralytics.
"""

from __future__ import annotations

import importlib
import io
import logging
import os
import warnings
from functools import lru_cache
from pathlib import Path

#: neptune.init_run arguments forced on every real offline run (REFERENCE: tests pass these)
QUIET_NEPTUNE = {
    "mode": "offline",
    "capture_stdout": False,
    "capture_stderr": False,
    "capture_hardware_metrics": False,
    "source_files": [],
    "git_ref": False,
}


def tracker_environment(workdir: Path) -> dict:
    """Environment variables that keep Neptune (both clients), W&B and MLflow offline, local and free of machine
    monitoring."""
    return {
        "NEPTUNE_MODE": "offline",
        "NEPTUNE_DATA_DIRECTORY": str(workdir / "neptune"),
        "NEPTUNE_LOGGER_LEVEL": "error",  # the 3.x client's own level, set when it is imported
        "WANDB_MODE": "offline",
        "WANDB_SILENT": "true",
        "WANDB_CONSOLE": "off",
        "WANDB_DISABLE_GIT": "true",
        "WANDB_DISABLE_CODE": "true",
        "WANDB__DISABLE_STATS": "true",  # no system metrics sampling, like capture_hardware_metrics=False
        "WANDB__DISABLE_META": "true",
        "WANDB_DIR": str(workdir / "wandb"),
        "WANDB_DATA_DIR": str(workdir / "wandb-data"),
        "WANDB_CACHE_DIR": str(workdir / "wandb-cache"),
        "WANDB_CONFIG_DIR": str(workdir / "wandb-config"),
        "MLFLOW_TRACKING_URI": (workdir / "mlruns").as_uri(),
        "MLFLOW_ALLOW_FILE_STORE": "true",  # MLflow 3 refuses its file store without it
        "YOLO_VERBOSE": "False",
    }


def prepare(workdir: Path) -> str:
    """Set up this process: offline environment, quiet logs, realistic image files in replays; return a note."""
    from ultralytics_neptune.synthetic import apply_offline_environment

    workdir.mkdir(parents=True, exist_ok=True)
    apply_offline_environment(workdir)
    os.environ.update(tracker_environment(workdir))
    warnings.simplefilter("ignore")
    quiet_loggers()
    return use_compressed_images(workdir / "images")


def quiet_loggers() -> None:
    """Only errors from the trackers' loggers (each sets its own level when imported: call again after)."""
    for name in ("neptune", "mlflow", "alembic", "wandb", "matplotlib", "PIL"):
        logging.getLogger(name).setLevel(logging.ERROR)


def use_compressed_images(cache: Path) -> str:
    """Make replays write images as deflate-compressed PNG, as real plots are, if they do not already; keep them in
    cache for other processes.

    Where the replay's own encoder writes stored (uncompressed) PNG, so that digests never depend on zlib, a
    2400x1200 results.png weighs 11 MB instead of the real run's 200 KB, which would distort every tracker that
    reads, decodes or copies the files. The pixels stay the same. Returns a note for the results.
    """
    replay = importlib.import_module("ultralytics_neptune.verification.replay")  # the module, not its replay()
    if getattr(replay.synthetic_bytes, "compressed", False):
        return IMAGES_RECOMPRESSED
    stored = replay.synthetic_bytes
    if len(stored("probe.png", {"image": [256, 256, "RGB"], "revision": 0})) < 256 * 256 * 3 // 2:
        return "Replayed images are the replay's own compressed PNG files, of the recorded pixel sizes."
    cache.mkdir(parents=True, exist_ok=True)

    @lru_cache(maxsize=256)
    def compressed(relative_path: str, revision: int, image: tuple) -> bytes:
        from PIL import Image

        cached = cache / f"{relative_path.replace('/', '_')}-{revision}-{'x'.join(map(str, image))}.png"
        if cached.exists():
            return cached.read_bytes()
        buffer = io.BytesIO()
        spec = {"image": list(image), "revision": revision}
        with Image.open(io.BytesIO(stored(relative_path, spec))) as decoded:
            decoded.save(buffer, format="PNG", compress_level=6)
        partial = cached.with_name(f"{cached.name}.{os.getpid()}.partial")
        partial.write_bytes(buffer.getvalue())
        partial.replace(cached)  # atomic: processes running side by side never read half a file
        return buffer.getvalue()

    def synthetic_bytes(relative_path: str, spec: dict) -> bytes:
        if not spec.get("image"):
            return stored(relative_path, spec)
        return compressed(relative_path, spec.get("revision", 0), tuple(spec["image"]))

    synthetic_bytes.compressed = True
    replay.synthetic_bytes = synthetic_bytes
    return IMAGES_RECOMPRESSED


IMAGES_RECOMPRESSED = (
    "Replayed images are PNG files of the recorded pixel sizes, recompressed by the benchmark (level 6, 60-100 KB "
    "for the large plots; the replay itself writes them uncompressed, up to 27 MB)."
)
