"""Import and registration cost, each sample in a fresh process.

Two probes, alternated: ``bare`` imports ``ultralytics_neptune`` in an interpreter that has imported nothing else;
``yolo`` first does what a user does anyway (import Ultralytics, build a YOLO model, untimed), then times
``import ultralytics_neptune`` and ``add_neptune_callbacks(model)``, checks that ``neptune`` is still not imported,
and finally times what Ultralytics 8.4.131 does for its own callback when ``neptune`` is on in its settings:
importing the upstream module, which imports the client.

Run as ``python -m benchmarks.startup PROBE``; it prints one JSON line. Only the standard library is imported
before the timed imports.

The start-up hook (the ``.pth`` file that makes automatic registration work) runs in every interpreter: with the
switch off (no environment variable, no settings file: what every unrelated Python process pays) and on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

PROBES = ("bare", "yolo")
HOOK_MODULE = "_ultralytics_neptune_startup"
HOOK_PROBES = {"hook_off": None, "hook_on": "1"}


def _bare() -> dict:
    start = time.perf_counter()
    import ultralytics_neptune  # noqa: F401

    seconds = time.perf_counter() - start
    return {"import": seconds, "ultralytics_imported": "ultralytics" in sys.modules, "neptune_imported": _neptune()}


def _neptune() -> bool:
    return "neptune" in sys.modules


def _yolo() -> dict:
    from ultralytics import YOLO

    model = YOLO("yolov8n.yaml")
    start = time.perf_counter()
    import ultralytics_neptune

    imported = time.perf_counter()
    ultralytics_neptune.add_neptune_callbacks(model)
    registered = time.perf_counter()
    result = {"import": imported - start, "register": registered - imported, "neptune_imported": _neptune()}

    from benchmarks.contestants import open_gates

    with open_gates("neptune"):
        start = time.perf_counter()
        import ultralytics.utils.callbacks.neptune as upstream

        result["upstream_import"] = time.perf_counter() - start
    result["upstream_enabled"] = bool(upstream.callbacks)
    return result


def sample(probe: str, environment: dict, cwd: Path) -> dict:
    """Run one probe in a fresh interpreter and return what it measured."""
    from benchmarks.harness import fresh_process

    return fresh_process("benchmarks.startup", [probe], cwd, environment)


PTH_LINE_TIMING = """
import json, sys, timeit
code = compile(open(sys.argv[1]).read(), "ultralytics_neptune_startup.pth", "exec")
runs = timeit.repeat(lambda: exec(code, {}), number=200, repeat=5)
print(json.dumps({"hook": min(runs) / 200, "imported": "_ultralytics_neptune_startup" in sys.modules}))
"""


def hook_sample(switch: str | None, environment: dict, cwd: Path) -> dict:
    """What the start-up hook costs a fresh interpreter (None where it is not installed).

    Switch off, the ``.pth`` line runs alone (one ``os.path.exists``): it is timed by executing the installed line.
    Switch on, the line imports the hook module: its import time is read from ``python -X importtime``.
    """
    from ultralytics_neptune.status import hook_installed

    pth = hook_installed()
    if pth is None:
        return {"hook": None, "neptune_imported": False}
    env = {k: v for k, v in {**os.environ, **environment}.items() if k != "ULTRALYTICS_NEPTUNE"}
    env["ULTRALYTICS_NEPTUNE_SETTINGS"] = str(cwd / "no-such-settings.json")
    if switch is None:
        completed = subprocess.run(
            [sys.executable, "-c", PTH_LINE_TIMING, str(pth)], env=env, cwd=cwd, capture_output=True, text=True
        )
        result = json.loads(completed.stdout)
        return {"hook": result["hook"], "module_imported": result["imported"], "neptune_imported": False}
    env["ULTRALYTICS_NEPTUNE"] = switch
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "pass"], env=env, cwd=cwd, capture_output=True, text=True
    )
    for line in completed.stderr.splitlines():
        fields = [field.strip() for field in line.split("|")]
        if len(fields) == 3 and fields[2] == HOOK_MODULE:
            return {"hook": int(fields[1]) * 1e-6, "neptune_imported": False}
    raise RuntimeError(f"the start-up hook did not load with the switch on:\n{completed.stderr[-3000:]}")


def measure(rounds: int, environment: dict, cwd: Path, log=print) -> dict:
    """{probe: [result, ...]}, the probes alternated round by round."""
    results: dict = {probe: [] for probe in (*PROBES, *HOOK_PROBES)}
    started = time.perf_counter()
    for round_number in range(rounds):
        order = PROBES if round_number % 2 == 0 else PROBES[::-1]
        for probe in order:
            results[probe].append(sample(probe, environment, cwd))
        for probe, switch in HOOK_PROBES.items():
            results[probe].append(hook_sample(switch, environment, cwd))
    log(f"  {rounds} rounds of fresh processes done ({time.perf_counter() - started:.0f} s)")
    return results


if __name__ == "__main__":
    print(json.dumps({"bare": _bare, "yolo": _yolo}[sys.argv[1]]()))
