"""Record the version matrix again and regenerate its golden traces, each in its own tox environment.

    python tools/refresh_version_data.py [--goldens-only] [ultralytics-8.3.8 ...]

For every environment of ``tox -m versions`` (or those named): record a real tiny training with that release into
``ultralytics_neptune/verification/data/recordings/<env>.json``; then write the golden trace of each of those recordings
in the environment of its reference release (the same release, or 8.4.131 for later ones, which have no upstream
module). Run it with a Python that has tox 4; missing environments are created.
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

RECORDINGS = ROOT / "ultralytics_neptune" / "testing" / "data" / "recordings"
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
    args = parser.parse_args(argv)
    known = matrix_environments()
    unknown = sorted(set(args.envs) - set(known))
    if unknown:
        parser.error(f"not a version environment: {', '.join(unknown)}; there are: {', '.join(known)}")
    envs = args.envs or known
    if not args.goldens_only:
        for env in envs:
            out = RECORDINGS / f"{env}.json"
            tox_exec(env, "python", "-m", "ultralytics_neptune.verification.recorder", "--out", str(out))
    goldens: dict = {}  # reference environment -> the recordings it writes the golden traces of
    for env in envs:
        goldens.setdefault(reference_environment(env), []).append(env)
    for reference, names in goldens.items():
        tox_exec(reference, "python", "-m", "ultralytics_neptune.verification.golden", *names)
    return 0


if __name__ == "__main__":
    sys.exit(main())
