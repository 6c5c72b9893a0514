"""Run every command and code block of the README as printed, in a clean environment: the README tells the truth.

    python tools/check_readme.py [--readme README.md] [--keep]

The fenced blocks run in the order they are printed, in one scratch copy of the repository (its tracked files),
with a new virtual environment first on PATH, HOME inside the scratch folder and no Neptune, Ultralytics or
ultralytics-neptune variable set, as on a fresh machine:

- a ``sh`` block runs as one bash script with ``set -euo pipefail`` (an ``export`` lasts for its block);
- a ``python`` block runs as a file with the environment's ``python3``, or with pytest when it defines tests;
- ``text`` blocks are sample output and templates with placeholders; they are not run.

``--shared-torch DIR`` lends the scratch copy's tox environments an installed torch (``tox.ini`` shares one among
its environments, see ``tools/install_with_shared_torch.py``): a cache, as a second run on one machine has, which
changes no command. Two commands are changed, each only by options the README documents: the demo trains one
epoch (``-- --epochs 1``), and the README's test command is not run again, because it is the command that runs
this check. Exits 1 when a block fails, naming it and showing the end of its output.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
TEST_COMMAND = 'python3 -m pip install "tox>=4.4" && python3 -m tox -m ci -p 2'
SHORTER = {"python3 -m tox -e demo": "python3 -m tox -e demo -- --epochs 1"}
KEPT_VARIABLES = ("LANG", "LC_ALL", "TERM", "TMPDIR", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS")
BLOCK_TIMEOUT = 1800  # seconds; the first install of torch takes about 75 s, the demo's environment a few minutes


def blocks(readme: Path) -> list:
    """(language, code, line number) of every fenced block that runs."""
    text = readme.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        language, code = match.group(1), match.group(2)
        if language in ("sh", "python"):
            found.append((language, code, text[: match.start()].count("\n") + 1))
    return found


def as_run(code: str) -> str:
    """The code as this check runs it: the test command left out, the demo shortened."""
    lines = []
    for line in code.splitlines():
        if line.strip() == TEST_COMMAND:
            line = f"echo 'not run again: {TEST_COMMAND} is the command running this check'"
        for printed, shorter in SHORTER.items():
            if line.strip() == printed or line.strip().endswith(f"&& {printed}"):
                line = line.replace(printed, shorter)
        lines.append(line)
    return "\n".join(lines) + "\n"


def scratch_copy(destination: Path) -> None:
    """The repository's tracked files (as they are in the work tree), as a fresh clone would have them."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def clean_environment(scratch: Path, venv: Path) -> dict:
    environment = {name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ}
    system_path = os.pathsep.join(p for p in ("/usr/local/bin", "/usr/bin", "/bin") if Path(p).is_dir())
    environment.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{system_path}",
        HOME=str(scratch / "home"),
        VIRTUAL_ENV=str(venv),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    (scratch / "home").mkdir(exist_ok=True)
    return environment


def run_block(language: str, code: str, number: int, workdir: Path, environment: dict) -> subprocess.CompletedProcess:
    if language == "sh":
        command = ["bash", "-c", "set -euo pipefail\n" + as_run(code)]
    else:
        script = workdir / f"readme_block_{number}.py"
        is_test = re.search(r"^def test_", code, re.MULTILINE)
        script = script.with_name(f"test_readme_block_{number}.py") if is_test else script
        script.write_text(code)
        command = ["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", script.name] if is_test else ["python3"]
        command = command if is_test else [*command, script.name]
    return subprocess.run(
        command, cwd=workdir, env=environment, capture_output=True, text=True, timeout=BLOCK_TIMEOUT, check=False
    )


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (its path is printed)")
    parser.add_argument("--shared-torch", type=Path, help="a shared torch folder the scratch copy's tox may use")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="ultralytics-neptune-readme-"))
    workdir, venv = scratch / "repository", scratch / "venv"
    scratch_copy(workdir)
    if args.shared_torch and args.shared_torch.is_dir():
        (workdir / ".tox").mkdir()
        (workdir / ".tox" / ".shared-torch").symlink_to(args.shared_torch.resolve())
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    environment = clean_environment(scratch, venv)
    failed = 0
    for language, code, line in blocks(args.readme):
        started = time.monotonic()
        result = run_block(language, code, line, workdir, environment)
        seconds = time.monotonic() - started
        status = "ok" if result.returncode == 0 else f"FAILED (exit {result.returncode})"
        print(f"README line {line}: {language} block, {status} in {seconds:.0f} s", flush=True)
        if result.returncode != 0:
            failed += 1
            print(f"--- the block:\n{code}--- its output (end):\n{(result.stdout + result.stderr)[-4000:]}", flush=True)
    if args.keep:
        print(f"scratch folder kept: {scratch}")
    else:
        shutil.rmtree(scratch, ignore_errors=True)
    total = len(blocks(args.readme))
    print(f"readme: {total - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
