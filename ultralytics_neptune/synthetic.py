"""Tiny synthetic datasets for every Ultralytics task, and an Ultralytics environment that needs no network.

Used by the recorder, the end-to-end tests and the demo: a real training of any task runs on CPU in seconds with
them. Each dataset is coloured shapes on a plain background, drawn from a seeded random generator, and serves as
both train and val split, so a few epochs give non-zero metrics. Detection has axis-aligned boxes; segmentation,
pose and OBB share rotated rectangles (a polygon, four corner keypoints, an oriented box); classification has one
shape per image in a folder named after its class.
"""

from __future__ import annotations

import math
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

CLASS_NAMES = ("square", "bar")
COLOURS = ((220, 60, 60), (60, 200, 90))
TASKS = ("detect", "segment", "pose", "classify", "obb")
#: the model each task trains from scratch (a YAML every supported release ships; nothing is downloaded)
MODELS = {
    "detect": "yolov8n.yaml",
    "segment": "yolov8n-seg.yaml",
    "pose": "yolov8n-pose.yaml",
    "classify": "yolov8n-cls.yaml",
    "obb": "yolov8n-obb.yaml",
}
#: pose keypoints: the corners of each rectangle in its own frame; a horizontal flip swaps left and right corners
KEYPOINTS, FLIP_INDEX = 4, (1, 0, 3, 2)
SPLITS = ("train", "val")


def make_dataset(task: str, root: Path | str, images: int = 8, size: int = 128, seed: int = 0) -> Path:
    """Write the synthetic dataset of a task under root; return what Ultralytics takes as ``data`` for it.

    Args:
        task (str): One of ``TASKS``.
        root (Path | str): The folder to write into.
        images (int): Images per split (the same images in train and val).
        size (int): Width and height of each image in pixels.
        seed (int): Seed of the random generator: the same arguments give the same dataset.

    Returns:
        (Path): The ``data.yaml`` file, or for classification the dataset folder (Ultralytics takes a folder there).
    """
    makers = {
        "detect": make_detection_dataset,
        "segment": make_segmentation_dataset,
        "pose": make_pose_dataset,
        "classify": make_classification_dataset,
        "obb": make_obb_dataset,
    }
    if task not in makers:
        raise ValueError(f"no synthetic dataset for task {task!r}; there are: {', '.join(TASKS)}")
    return makers[task](root, images=images, size=size, seed=seed)


def make_detection_dataset(root: Path | str, images: int = 8, size: int = 128, seed: int = 0) -> Path:
    """Write a YOLO detection dataset of axis-aligned coloured boxes; return its data.yaml path."""

    def box(rng: random.Random, draw, cls: int) -> str:
        width = rng.randint(size // 5, size // 3) if cls == 0 else rng.randint(size // 8, size // 6)
        height = width if cls == 0 else rng.randint(size // 3, size // 2)
        x0, y0 = rng.randint(0, size - width - 1), rng.randint(0, size - height - 1)
        draw.rectangle([x0, y0, x0 + width, y0 + height], fill=COLOURS[cls])
        cx, cy = (x0 + width / 2) / size, (y0 + height / 2) / size
        return f"{cls} {cx:.6f} {cy:.6f} {width / size:.6f} {height / size:.6f}"

    return _drawn_dataset(Path(root), images, size, seed, box)


def make_segmentation_dataset(root: Path | str, images: int = 8, size: int = 128, seed: int = 0) -> Path:
    """Write a YOLO segmentation dataset of rotated rectangles labelled by their outline polygon; return data.yaml."""
    return _rotated_dataset(Path(root), images, size, seed, lambda cls, corners: _polygon_label(cls, corners))


def make_obb_dataset(root: Path | str, images: int = 8, size: int = 128, seed: int = 0) -> Path:
    """Write a YOLO OBB dataset of rotated rectangles labelled by their four corners; return data.yaml."""
    return _rotated_dataset(Path(root), images, size, seed, lambda cls, corners: _polygon_label(cls, corners))


def make_pose_dataset(root: Path | str, images: int = 8, size: int = 128, seed: int = 0) -> Path:
    """Write a YOLO pose dataset: rotated rectangles, each a box with its four corners as keypoints; return
    data.yaml (with ``kpt_shape`` and the ``flip_idx`` that horizontal flips need)."""

    def label(cls: int, corners: list) -> str:
        xs, ys = [x for x, _ in corners], [y for _, y in corners]
        box = ((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2, max(xs) - min(xs), max(ys) - min(ys))
        keypoints = " ".join(f"{x:.6f} {y:.6f} 2" for x, y in corners)  # 2: visible
        return f"{cls} {' '.join(f'{v:.6f}' for v in box)} {keypoints}"

    extra = f"kpt_shape: [{KEYPOINTS}, 3]\nflip_idx: [{', '.join(map(str, FLIP_INDEX))}]\n"
    return _rotated_dataset(Path(root), images, size, seed, label, extra)


def make_classification_dataset(root: Path | str, images: int = 8, size: int = 128, seed: int = 0) -> Path:
    """Write an image classification dataset, one rotated shape per image in ``<split>/<class name>/``; return the
    dataset folder (classes alternate, so each has half the images)."""
    from PIL import ImageDraw

    root = Path(root)
    rng = random.Random(seed)
    for split in SPLITS:
        for name in CLASS_NAMES:
            (root / split / name).mkdir(parents=True, exist_ok=True)
    for index in range(images):
        cls = index % len(CLASS_NAMES)
        image = _canvas(rng, size)
        ImageDraw.Draw(image).polygon(_rotated_rectangle(rng, size, cls), fill=COLOURS[cls])
        for split in SPLITS:
            image.save(root / split / CLASS_NAMES[cls] / f"im{index}.jpg", quality=90)
    return root.resolve()


def _canvas(rng: random.Random, size: int):
    """A new image of a random dark plain colour."""
    from PIL import Image

    return Image.new("RGB", (size, size), tuple(rng.randrange(40, 90) for _ in range(3)))


def _rotated_rectangle(rng: random.Random, size: int, cls: int) -> list:
    """The corners, in pixels, of a randomly rotated shape of a class that lies wholly inside the image."""
    width = rng.randint(size // 5, size // 3) if cls == 0 else rng.randint(size // 8, size // 6)
    height = width if cls == 0 else rng.randint(size // 3, size // 2)
    angle = rng.uniform(0, math.pi)
    cos, sin = math.cos(angle), math.sin(angle)
    local = ((-width / 2, -height / 2), (width / 2, -height / 2), (width / 2, height / 2), (-width / 2, height / 2))
    offsets = [(x * cos - y * sin, x * sin + y * cos) for x, y in local]
    reach_x, reach_y = max(abs(x) for x, _ in offsets), max(abs(y) for _, y in offsets)
    cx, cy = rng.uniform(reach_x, size - 1 - reach_x), rng.uniform(reach_y, size - 1 - reach_y)
    return [(cx + x, cy + y) for x, y in offsets]


def _polygon_label(cls: int, corners: list) -> str:
    return f"{cls} " + " ".join(f"{x:.6f} {y:.6f}" for x, y in corners)


def _rotated_dataset(root: Path, images: int, size: int, seed: int, label, extra_yaml: str = "") -> Path:
    """Images of one to three rotated rectangles; label(cls, corners normalised to 0-1) gives each label line."""

    def rotated(rng: random.Random, draw, cls: int) -> str:
        corners = _rotated_rectangle(rng, size, cls)
        draw.polygon(corners, fill=COLOURS[cls])
        return label(cls, [(x / size, y / size) for x, y in corners])

    return _drawn_dataset(root, images, size, seed, rotated, extra_yaml)


def _drawn_dataset(root: Path, images: int, size: int, seed: int, shape, extra_yaml: str = "") -> Path:
    """Images of one to three shapes; shape(rng, draw, cls) draws one and returns its label line."""
    from PIL import ImageDraw

    rng = random.Random(seed)
    label_dirs = _split_dirs(root)
    for index in range(images):
        image = _canvas(rng, size)
        draw = ImageDraw.Draw(image)
        labels = [shape(rng, draw, rng.randrange(len(CLASS_NAMES))) for _ in range(rng.randint(1, 3))]
        _save(image, labels, label_dirs, index)
    return _data_yaml(root, extra_yaml)


def _split_dirs(root: Path) -> list:
    """Make images/<split> and labels/<split> under root; return [(images dir, labels dir)] per split."""
    pairs = [(root / "images" / split, root / "labels" / split) for split in SPLITS]
    for folders in pairs:
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
    return pairs


def _save(image, labels: list, label_dirs: list, index: int) -> None:
    for images_dir, labels_dir in label_dirs:
        image.save(images_dir / f"im{index}.jpg", quality=90)
        (labels_dir / f"im{index}.txt").write_text("\n".join(labels) + "\n")


def _data_yaml(root: Path, extra: str = "") -> Path:
    names = "\n".join(f"  {i}: {name}" for i, name in enumerate(CLASS_NAMES))
    data_yaml = root / "data.yaml"
    data_yaml.write_text(f"path: {root.resolve()}\ntrain: images/train\nval: images/val\n{extra}names:\n{names}\n")
    return data_yaml


def offline_environment(workdir: Path | str) -> dict:
    """Environment variables for an Ultralytics process that touches no network and no user settings.

    Settings and the plotting font live under workdir (a copy of matplotlib's DejaVu Sans stands in for the
    Arial that Ultralytics would download).
    """
    workdir = Path(workdir).resolve()
    config_dir = workdir / "yolo-config"
    font = config_dir / "Ultralytics" / "Arial.ttf"
    if not font.exists():
        import matplotlib

        font.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf", font)
        shutil.copy(font, font.with_name("Arial.Unicode.ttf"))
    return {
        "YOLO_OFFLINE": "1",
        "YOLO_CONFIG_DIR": str(config_dir),
        "MPLCONFIGDIR": str(workdir / "mpl-config"),
        "MPLBACKEND": "Agg",
    }


SETTINGS_SCRIPT = """
import sys
from ultralytics.utils import SETTINGS
integrations = ("clearml", "comet", "dvc", "hub", "mlflow", "neptune", "raytune", "tensorboard", "wandb")
wanted = {"runs_dir": sys.argv[1], "sync": False, **dict.fromkeys(integrations, False)}
SETTINGS.update({key: value for key, value in wanted.items() if key in SETTINGS})
"""


def write_ultralytics_settings(workdir: Path | str) -> None:
    """Give the settings under workdir its runs folder, no analytics and no built-in integration: Neptune's, and the
    other trackers' (old releases turned MLflow on by default, and a newer MLflow refuses the file store it would use).

    Ultralytics reads them when it is imported, so this runs in a separate process. Left to itself, a new settings
    file puts runs next to the git checkout that holds the installed package (a tox environment inside a clone,
    say), not in the working directory. A setting the installed release does not know is left out.
    """
    workdir = Path(workdir).resolve()
    marker = workdir / "yolo-config" / "prepared-by-ultralytics-neptune"
    if marker.exists():
        return
    environment = {**os.environ, **offline_environment(workdir)}
    subprocess.run([sys.executable, "-c", SETTINGS_SCRIPT, str(workdir / "runs")], check=True, env=environment)
    marker.touch()


def apply_offline_environment(workdir: Path | str, settings: bool = False) -> dict:
    """Set ``offline_environment(workdir)`` in this process (before Ultralytics is imported); return it.

    With ``settings``, also write Ultralytics settings that keep its runs under workdir (see
    ``write_ultralytics_settings``).
    """
    environment = offline_environment(workdir)
    os.environ.update(environment)
    if settings:
        write_ultralytics_settings(workdir)
    return environment
