"""tox install_command: pip install, with torch and torchvision shared by every environment of the matrix.

    python tools/install_with_shared_torch.py --shared DIR -- [pip install options] PACKAGES...

The first environment installs torch and torchvision once into DIR (about 6 GB, under a file lock so parallel
environments wait for it); every environment then gets a ``.pth`` file pointing at DIR, so Python imports torch from
there and pip counts it as installed and does not download it again. numpy and Pillow stay per environment (old
Ultralytics releases need numpy<2). ``SHARED_TORCH_REQUIREMENTS`` overrides what is shared (default: torch
torchvision).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

PTH_NAME = "ultralytics_neptune_shared_torch.pth"
READY_MARKER = ".installed"


def shared_requirements() -> list:
    return os.environ.get("SHARED_TORCH_REQUIREMENTS", "torch torchvision").split()


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args], check=True)


def install_shared(shared: Path) -> None:
    """Install the shared requirements into shared once (torch with its dependencies, torchvision without)."""
    requirements = shared_requirements()
    marker = shared / READY_MARKER
    shared.parent.mkdir(parents=True, exist_ok=True)
    with open(shared.parent / f"{shared.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and marker.read_text().split() == requirements:
            return
        staging = shared.with_name(shared.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(shared, ignore_errors=True)
        print(f"installing {' '.join(requirements)} once into {shared}", flush=True)
        first, rest = requirements[0], requirements[1:]
        pip("install", "--quiet", "--target", str(staging), first)  # torch and what it needs
        if rest:  # torchvision needs numpy and Pillow too: those stay in each environment
            pip("install", "--quiet", "--no-deps", "--target", str(staging), *rest)
        (staging / READY_MARKER).write_text(" ".join(requirements) + "\n")
        staging.rename(shared)


def link_shared(shared: Path) -> None:
    """Put shared on this interpreter's sys.path (after its own site-packages) through a .pth file."""
    site_packages = Path(sysconfig.get_paths()["purelib"])
    site_packages.mkdir(parents=True, exist_ok=True)
    (site_packages / PTH_NAME).write_text(f"{shared.resolve()}\n")


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", required=True, type=Path, help="folder that holds the shared torch")
    parser.add_argument("pip_args", nargs=argparse.REMAINDER, help="pip install options and packages, after --")
    args = parser.parse_args(argv)
    pip_args = args.pip_args[1:] if args.pip_args[:1] == ["--"] else args.pip_args
    shared = args.shared.resolve()
    install_shared(shared)
    link_shared(shared)
    if pip_args:
        pip("install", *pip_args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
