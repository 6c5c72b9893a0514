"""The README's install line for the Neptune 3.x extra, run as printed in a fresh virtual environment made from a
copy of the repository: what it installs answers to ``neptune sync`` as the 3.x client does.

The line is read from the README's 3.x section, so this test follows the README. It needs the package index (the
line installs Ultralytics and ``neptune-scale`` with what they need). torch (about 6 GB) is lent to the new
environment when the running one imports it from the shared folder of ``tools/install_with_shared_torch.py`` (as
``tox`` sets up every environment): pip then counts it as installed, and the line is run unchanged.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SHARED_TORCH_TOOL = ROOT / "tools" / "install_with_shared_torch.py"
SHARED_TORCH_MARKER = ".installed"  # what the tool writes into a finished shared folder
SCALE_SECTION = "## Neptune 3.x"
INSTALL_TIMEOUT = 1800  # seconds: without the shared torch the line downloads and installs torch too


def readme_install_line() -> str:
    """The command of the README's 3.x section that installs the ``scale`` extra, as printed."""
    section = README.read_text(encoding="utf-8").split(SCALE_SECTION, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```sh\n(.*?)^```$", section, re.MULTILINE | re.DOTALL)
    (line,) = [line for block in blocks for line in block.splitlines() if "pip install" in line and "[scale]" in line]
    return line


def shared_torch_folder() -> Path | None:
    """The shared folder this interpreter imports torch from, if it is one (found without importing torch)."""
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))).parent
    return folder if (folder / SHARED_TORCH_MARKER).is_file() else None


def fresh_environment_variables(venv: Path) -> dict:
    """This process's environment with the new virtual environment first on PATH and nothing that would let the
    package, a Neptune setting or pytest's marker in from outside it."""
    dropped = ("PYTHONPATH", "PYTHONHOME", "PYTEST_CURRENT_TEST")
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in dropped and not key.startswith(("NEPTUNE_", "ULTRALYTICS_NEPTUNE"))
    }
    environment.update(PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}", VIRTUAL_ENV=str(venv))
    return environment


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """The repository's tracked files as a fresh clone has them (the line installs ".")."""
    destination = tmp_path_factory.mktemp("clone")
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        if (ROOT / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, destination / name)
    return destination


@pytest.fixture(scope="module")
def venv(tmp_path_factory, clone) -> Path:
    """A fresh virtual environment in which the README's line was run, from the clone."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    shared = shared_torch_folder()
    if shared is not None:
        subprocess.run([str(venv / "bin" / "python"), str(SHARED_TORCH_TOOL), "--shared", str(shared)], check=True)
    command = ["bash", "-c", f"set -euo pipefail\n{readme_install_line()}\n"]
    result = subprocess.run(
        command,
        cwd=clone,
        env=fresh_environment_variables(venv),
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return venv


def run_in(venv: Path, *command: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        list(command), cwd=cwd, env=fresh_environment_variables(venv), capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def offline_run_file(venv, tmp_path_factory) -> Path:
    """The SQLite file of a run written offline in the new environment through the package's 3.x adapter."""
    workdir = tmp_path_factory.mktemp("offline-run")
    script = (
        "from ultralytics_neptune.scale import ScaleBackend\n"
        "run = ScaleBackend().start({'project': 'workspace/project', 'mode': 'offline', 'name': 'train'})\n"
        "run['train/box_loss'].append(0.5, step=1)\n"
        "run.stop()\n"
    )
    result = run_in(venv, "python", "-c", script, cwd=workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    (database,) = (workdir / ".neptune").glob("*/run_operations.sqlite3")
    return database


def test_neptune_sync_help_is_the_3x_clients_which_takes_a_run_log_file(venv):
    result = run_in(venv, "neptune", "sync", "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage: neptune sync [OPTIONS] <run-log-file>" in result.stdout
    assert "--path" not in result.stdout  # the 1.x command's option


def test_the_neptune_command_is_the_fresh_environments_own(venv):
    assert shutil.which("neptune", path=str(venv / "bin")) == str(venv / "bin" / "neptune")


def test_the_1x_client_is_not_installed(venv):
    code = "import importlib.metadata as m; print(sorted({d.metadata['Name'].lower() for d in m.distributions()}))"
    installed = run_in(venv, "python", "-c", code).stdout
    assert "'neptune-scale'" in installed and "'neptune'" not in installed, installed


def test_neptune_sync_of_a_3x_offline_run_asks_for_the_token_past_its_arguments(venv, offline_run_file):
    result = run_in(venv, "neptune", "sync", str(offline_run_file))
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "NeptuneApiTokenNotProvided" in output and "Usage:" not in output
