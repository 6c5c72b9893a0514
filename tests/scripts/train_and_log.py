"""A real tiny training logged by our parity callbacks to the real neptune client in offline mode, and recorded.

    python train_and_log.py WORKDIR EPOCHS [TASK]

TASK is an Ultralytics task (default: detect). The training is the recorder's (its dataset, model and arguments), so
WORKDIR/recording.json replays it. Every network access is refused and recorded (an audit hook); the attempts are
written to WORKDIR/network.json, the run folder to WORKDIR/save_dir.txt.
"""

import json
import os
import sys
from pathlib import Path

workdir, epochs = Path(sys.argv[1]).resolve(), int(sys.argv[2])
task = sys.argv[3] if len(sys.argv) > 3 else "detect"
attempts = []


def refuse_network(event, args):
    if event in ("socket.connect", "socket.getaddrinfo", "socket.sendto"):
        target = args[1] if event == "socket.connect" else args[0]
        if isinstance(target, tuple) or event == "socket.getaddrinfo":
            attempts.append(f"{event} {target}")
            raise ConnectionRefusedError(f"test forbids network: {event} {target}")


sys.addaudithook(refuse_network)

from ultralytics_neptune import add_neptune_callbacks  # noqa: E402
from ultralytics_neptune.verification.recorder import record_training  # noqa: E402

os.environ["NEPTUNE_DATA_DIRECTORY"] = str(workdir / ".neptune")
models = []


def log_to_neptune(model):
    models.append(model)
    quiet = {"capture_stdout": False, "capture_stderr": False, "capture_hardware_metrics": False}
    add_neptune_callbacks(model, mode="offline", **quiet)


recording = record_training(workdir, task, epochs=epochs, register=log_to_neptune)
recording.save(workdir / "recording.json")
(workdir / "network.json").write_text(json.dumps(attempts))
(workdir / "save_dir.txt").write_text(str(models[0].trainer.save_dir))
