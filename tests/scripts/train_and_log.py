"""A real tiny training logged by our parity callbacks to the real neptune client in offline mode.

    python train_and_log.py WORKDIR EPOCHS

Every network access is refused and recorded (an audit hook); the attempts are written to WORKDIR/network.json.
"""

import json
import os
import sys
from pathlib import Path

workdir, epochs = Path(sys.argv[1]).resolve(), int(sys.argv[2])
attempts = []


def refuse_network(event, args):
    if event in ("socket.connect", "socket.getaddrinfo", "socket.sendto"):
        target = args[1] if event == "socket.connect" else args[0]
        if isinstance(target, tuple) or event == "socket.getaddrinfo":
            attempts.append(f"{event} {target}")
            raise ConnectionRefusedError(f"test forbids network: {event} {target}")


sys.addaudithook(refuse_network)

from ultralytics_neptune.synthetic import apply_offline_environment, make_detection_dataset  # noqa: E402

apply_offline_environment(workdir, settings=True)
os.environ["NEPTUNE_DATA_DIRECTORY"] = str(workdir / ".neptune")
data = make_detection_dataset(workdir / "dataset")
os.chdir(workdir)

from ultralytics import YOLO  # noqa: E402

from ultralytics_neptune import add_neptune_callbacks  # noqa: E402

model = YOLO("yolov8n.yaml")
add_neptune_callbacks(model, mode="offline", capture_stdout=False, capture_stderr=False, capture_hardware_metrics=False)
model.train(data=str(data), epochs=epochs, imgsz=64, batch=4, workers=0, device="cpu", plots=True, verbose=False)
(workdir / "network.json").write_text(json.dumps(attempts))
(workdir / "save_dir.txt").write_text(str(model.trainer.save_dir))
