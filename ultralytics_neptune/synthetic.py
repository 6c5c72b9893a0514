"""A tiny synthetic detection dataset and an Ultralytics environment that needs no network.

Used by the recorder, the end-to-end tests and the demo: a real training runs on CPU in seconds with it.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

CLASS_NAMES = ("square", "bar")


def make_detection_dataset(root: Path | str, images: int = 8, size: int = 128, seed: int = 0) -> Path:
    """Write a YOLO detection dataset of coloured boxes on noise; return its data.yaml path.

    The same images serve as train and val split, so a few epochs give non-zero metrics.
    """
    from PIL import Image, ImageDraw

    root = Path(root)
    rng = random.Random(seed)
    for split in ("train", "val"):
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
    for index in range(images):
        background = tuple(rng.randrange(40, 90) for _ in range(3))
        image = Image.new("RGB", (size, size), background)
        draw = ImageDraw.Draw(image)
        labels = []
        for _ in range(rng.randint(1, 3)):
            cls = rng.randrange(len(CLASS_NAMES))
            width = rng.randint(size // 5, size // 3) if cls == 0 else rng.randint(size // 8, size // 6)
            height = width if cls == 0 else rng.randint(size // 3, size // 2)
            x0, y0 = rng.randint(0, size - width - 1), rng.randint(0, size - height - 1)
            colour = (220, 60, 60) if cls == 0 else (60, 200, 90)
            draw.rectangle([x0, y0, x0 + width, y0 + height], fill=colour)
            cx, cy = (x0 + width / 2) / size, (y0 + height / 2) / size
            labels.append(f"{cls} {cx:.6f} {cy:.6f} {width / size:.6f} {height / size:.6f}")
        for split in ("train", "val"):
            image.save(root / "images" / split / f"im{index}.jpg", quality=90)
            (root / "labels" / split / f"im{index}.txt").write_text("\n".join(labels) + "\n")
    names = "\n".join(f"  {i}: {name}" for i, name in enumerate(CLASS_NAMES))
    data_yaml = root / "data.yaml"
    data_yaml.write_text(f"path: {root.resolve()}\ntrain: images/train\nval: images/val\nnames:\n{names}\n")
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
wanted = {"runs_dir": sys.argv[1], "sync": False, "neptune": False}
SETTINGS.update({key: value for key, value in wanted.items() if key in SETTINGS})
"""


def write_ultralytics_settings(workdir: Path | str) -> None:
    """Give the settings under workdir its runs folder, no analytics and no built-in Neptune callback.

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
