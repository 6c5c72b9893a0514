"""A parity-mode training on CPU, with the client's defaults, shows no warning of this package's: the client's own
notices are printed by the client, in its own format (it names the code that called it, our start, as their place)."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("neptune", reason="needs the real client, whose notices are the point")

from run_checks import outside_pytest

TRAINING = """
import os, sys
from pathlib import Path
from ultralytics_neptune.synthetic import apply_offline_environment, make_detection_dataset

workdir = Path(sys.argv[1])
apply_offline_environment(workdir, settings=True)
os.environ.update(NEPTUNE_MODE="offline", NEPTUNE_DATA_DIRECTORY=str(workdir / ".neptune"))
data = make_detection_dataset(workdir / "dataset")
from ultralytics import YOLO
from ultralytics_neptune import add_neptune_callbacks

model = YOLO("yolov8n.yaml")
add_neptune_callbacks(model)  # parity mode, every capture of the client on
model.train(data=str(data), epochs=1, imgsz=32, batch=4, workers=0, device="cpu", plots=False)
"""


@pytest.fixture(scope="module")
def output(tmp_path_factory) -> str:
    workdir = tmp_path_factory.mktemp("warnings")
    environment = {k: v for k, v in outside_pytest().items() if not k.startswith("NEPTUNE_")}
    result = subprocess.run(
        [sys.executable, "-c", TRAINING, str(workdir)], env=environment, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def test_no_warning_of_this_package_but_the_clients_own_notices(output):
    ours = [line for line in output.splitlines() if "ultralytics_neptune" in line and "arning" in line]
    assert [line for line in ours if not line.startswith("[neptune] [warning] ")] == []
    assert [line for line in output.splitlines() if "ultralytics-neptune:" in line] == []


def nvml_notices(output: str) -> list:
    return [line for line in output.splitlines() if "NVML" in line]


def test_without_an_nvidia_library_the_client_says_so(output):
    """The notice the next test is about exists (CI has no GPU; with an NVIDIA library there is none to expect)."""
    import ctypes.util

    assert nvml_notices(output) != [] or ctypes.util.find_library("nvidia-ml") is not None


def test_the_clients_own_notices_are_said_as_the_clients(output):
    notices = nvml_notices(output)
    assert all(line.startswith("Neptune client: ") or line.startswith("[neptune]") for line in notices), notices
