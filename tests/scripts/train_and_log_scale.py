"""A real tiny training logged with the Neptune 3.x client (``neptune-scale``) in offline mode, and recorded.

    python train_and_log_scale.py WORKDIR EPOCHS TASK HOW [extended]

HOW is ``python`` (``add_neptune_callbacks(model, client="scale", ...)``) or ``switch`` (nothing registered here:
the start-up hook does it, as ``ULTRALYTICS_NEPTUNE=1`` in the environment says). The 3.x client writes its SQLite
file under WORKDIR/.neptune; the recording goes to WORKDIR/recording.json, the run folder to WORKDIR/save_dir.txt.
"""

import os
import sys
from pathlib import Path

workdir, epochs, task, how = Path(sys.argv[1]).resolve(), int(sys.argv[2]), sys.argv[3], sys.argv[4]
extended = "extended" in sys.argv[5:]
os.environ["NEPTUNE_LOG_DIRECTORY"] = str(workdir / ".neptune")

from ultralytics_neptune import add_neptune_callbacks  # noqa: E402
from ultralytics_neptune.verification.recorder import record_training  # noqa: E402

models = []


def log_to_neptune(model):
    models.append(model)
    if how == "python":
        add_neptune_callbacks(model, client="scale", extended=extended, mode="offline")


recording = record_training(workdir, task, epochs=epochs, register=log_to_neptune)
recording.save(workdir / "recording.json")
(workdir / "save_dir.txt").write_text(str(models[0].trainer.save_dir))
