"""A copy of the contributed module broken in the trainings of one task only (a loss name, a metrics step and an
upload key changed) fails the parity suite on that task's recording, every breakage named, and passes on the other
tasks'."""

import pytest

from ultralytics_neptune.synthetic import TASKS
from ultralytics_neptune.verification import parity
from ultralytics_neptune.verification.command import FAIL, PASS, run_checks
from ultralytics_neptune.verification.recording import recording_name

#: the release whose recordings are replayed: a fixed plot list, so 3 plots to re-draw in each replay, not 3-12
RELEASE = "8.3.234"
BREAKAGES = (  # (the event during which it acts, the helper it changes, the changed helper)
    (  # a loss name: train/box_loss becomes train/box_losses
        "on_train_epoch_end",
        "_log_scalars",
        lambda log: lambda scalars, step=0: log({key.replace("loss", "losses"): v for key, v in scalars.items()}, step),
    ),
    ("on_fit_epoch_end", "_log_scalars", lambda log: lambda scalars, step=0: log(scalars, step + 1)),  # a step
    ("on_train_epoch_end", "_log_images", lambda log: lambda images, group="": log(images, "Mosaics")),  # a key
)


def broken_for_one_task(task: str):
    """Parity mode whose module has every breakage, in the trainings of one task only."""
    make_logger = parity.parity_logger

    def broken_logger(release: str):
        logger = make_logger(release)
        module = logger.module
        for event, helper, change in BREAKAGES:
            original_event, original_helper = module.callbacks[event], getattr(module, helper)

            def broken_event(trainer, run=original_event, helper=helper, original=original_helper, change=change):
                setattr(module, helper, change(original) if trainer.args.task == task else original)
                try:
                    run(trainer)
                finally:
                    setattr(module, helper, original)

            module.callbacks[event] = broken_event
        return logger

    return broken_logger


@pytest.mark.parametrize("task", TASKS)
def test_a_module_broken_in_one_tasks_trainings_fails_the_suite_for_that_task_only(task, monkeypatch):
    monkeypatch.setattr(parity, "parity_logger", broken_for_one_task(task))
    checks = run_checks([recording_name(RELEASE, each) for each in TASKS], live=False)
    assert {check.task: check.status for check in checks} == {each: FAIL if each == task else PASS for each in TASKS}
    (failed,) = [check for check in checks if check.status == FAIL]
    assert any(line.startswith("train/") and "losses" in line for line in failed.differences)  # the loss name
    assert any(line.startswith("metrics/") and "step=" in line for line in failed.differences)  # the step
    assert any(line.startswith("Mosaics/train_batch") for line in failed.differences)  # the upload key
