"""Record the version matrix again and regenerate its golden traces, each in its own tox environment.

    python tools/refresh_version_data.py [--goldens-only] [--task segment ...] [ultralytics-8.3.8 ...]

For every environment of ``tox -m versions`` (or those named) and every task (or those given): record a real tiny
training of the task with that release into ``ultralytics_neptune/verification/data/recordings/<name>.json``
(``ultralytics-8.3.8`` for detect, ``ultralytics-8.3.8-segment`` for the others); then write the golden trace of each of
those recordings in the environment of its reference release (the same release, or 8.4.131 for later ones, which
have no upstream module). Where a refreshed release is the last before an era boundary of the module, the boundary
golden traces are written again too (its recordings replayed through the callback file of the first release after the
boundary, from that release's wheel; ``python -m ultralytics_neptune.verification.golden --boundaries`` in the
8.4.131 environment). Run it with a Python that has tox 4; missing environments are created.
"""

from __future__ import annotations

import argparse
import configparser
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ultralytics_neptune.releases import LAST_UPSTREAM, has_upstream_module  # noqa: E402
from ultralytics_neptune.synthetic import TASKS  # noqa: E402
from ultralytics_neptune.verification.recording import MODULE_BOUNDARIES, RECORDINGS_DIR, recording_name  # noqa: E402

ENV_PREFIX = "ultralytics-"


def matrix_environments() -> list:
    """The tox environments labelled ``versions``, in tox.ini order."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(ROOT / "tox.ini")
    names = []
    for section in config.sections():
        labels = config[section].get("labels", "").replace(",", " ").split()
        if section.startswith(f"testenv:{ENV_PREFIX}") and "versions" in labels:
            names.append(section.split(":", 1)[1])
    return names


def reference_environment(env: str) -> str:
    """The environment whose upstream module made the golden trace of env's recording."""
    version = env[len(ENV_PREFIX) :]
    return env if has_upstream_module(version) else f"{ENV_PREFIX}{LAST_UPSTREAM}"


def tox_exec(env: str, *command: str) -> None:
    subprocess.run([sys.executable, "-m", "tox", "exec", "-e", env, "--", *command], cwd=ROOT, check=True)


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("envs", nargs="*", help="tox environments to refresh (default: every one labelled versions)")
    parser.add_argument("--goldens-only", action="store_true", help="keep the recordings, regenerate golden traces")
    parser.add_argument("--task", action="append", choices=TASKS, help="only this task (repeat for more; default: all)")
    args = parser.parse_args(argv)
    known = matrix_environments()
    unknown = sorted(set(args.envs) - set(known))
    if unknown:
        parser.error(f"not a version environment: {', '.join(unknown)}; there are: {', '.join(known)}")
    envs, tasks = args.envs or known, args.task or TASKS
    if not args.goldens_only:
        for env in envs:
            for task in tasks:
                out = RECORDINGS_DIR / f"{recording_name(env[len(ENV_PREFIX) :], task)}.json"
                recorder = ("python", "-m", "ultralytics_neptune.verification.recorder", "--task", task)
                tox_exec(env, *recorder, "--out", str(out))
    goldens: dict = {}  # reference environment -> the recordings it writes the golden traces of
    for env in envs:
        names = [recording_name(env[len(ENV_PREFIX) :], task) for task in tasks]
        goldens.setdefault(reference_environment(env), []).extend(names)
    for reference, names in goldens.items():
        tox_exec(reference, "python", "-m", "ultralytics_neptune.verification.golden", *names)
    before_boundaries = {f"{ENV_PREFIX}{before}" for before, _ in MODULE_BOUNDARIES}
    if before_boundaries & set(envs):
        golden = ("python", "-m", "ultralytics_neptune.verification.golden", "--boundaries")
        tox_exec(f"{ENV_PREFIX}{LAST_UPSTREAM}", *golden)
    return 0


if __name__ == "__main__":
    sys.exit(main())
