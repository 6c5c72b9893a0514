"""The figures of the pull request's description: one real tiny detect training with the Neptune key on, offline.

Run it with the Python of an Ultralytics that has a Neptune callback (8.4.131, or a tree ``upstream`` wrote into, on
PYTHONPATH), NEPTUNE_MODE=offline, in an empty folder::

    python probe.py DATA_YAML RUNS_DIR none|upload

It trains yolov8n.yaml for 3 epochs at 64 px (plots on) and prints one line ``RESULT {json}``: whether the training
completed, the matplotlib figures still open after ``train()``, the state of the Neptune run after ``train()``, and
the Neptune warnings. With ``upload``, every upload of the client raises OSError 28 (a full disk). It is a script of
this package's repository, not part of the contribution.
"""

import json
import logging
import sys


class Catch(logging.Handler):
    """Keeps the Neptune warnings."""

    def __init__(self):
        """Start with no warnings."""
        super().__init__()
        self.warnings = []

    def emit(self, record):
        """Keep a record if it is a Neptune warning."""
        if record.levelno >= logging.WARNING and "Neptune" in record.getMessage():
            self.warnings.append(record.getMessage())


def broken_upload(self, *args, **kwargs):
    """An upload on a full disk."""
    raise OSError(28, "No space left on device")


def main(data: str, runs_dir: str, fault: str) -> dict:
    """Train once with the Neptune key on; return what the pull request's description cites."""
    import matplotlib.pyplot as plt
    from ultralytics import YOLO
    from ultralytics.utils import LOGGER, SETTINGS

    SETTINGS.update(neptune=True, runs_dir=runs_dir, sync=False)
    if fault == "upload":
        from neptune.handler import Handler

        Handler.upload = broken_upload
    catch = Catch()
    LOGGER.addHandler(catch)
    from ultralytics.utils.callbacks import neptune as module  # imported once the key is on

    seen = {}
    model = YOLO("yolov8n.yaml")
    model.add_callback("on_train_end", lambda trainer: seen.setdefault("run", module.run))
    result = {"fault": fault}
    try:
        model.train(data=data, epochs=3, imgsz=64, batch=4, workers=0, device="cpu", plots=True)
        result["training"] = "completed"
    except Exception as error:
        result["training"] = f"crashed: {type(error).__name__}: {error}"
    run = seen.get("run")
    result["figures open after train()"] = len(plt.get_fignums())
    result["run state after train()"] = run.get_state() if run is not None else None
    result["neptune warnings"] = len(catch.warnings)
    result["warning lines"] = catch.warnings
    if run is not None and run.get_state() != "stopped":
        run.stop()
    return result


if __name__ == "__main__":
    print("RESULT " + json.dumps(main(*sys.argv[1:4])))
