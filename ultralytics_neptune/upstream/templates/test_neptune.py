from types import SimpleNamespace
from unittest import mock

import pytest

from ultralytics.utils import TESTS_RUNNING
from ultralytics.utils.callbacks import neptune as neptune_callback
from ultralytics.utils.checks import check_requirements


@pytest.fixture
def neptune_fields(monkeypatch):
    """Replace the Neptune run with a stand-in and return the fields it was given, by name."""
    fields = {}
    run = mock.MagicMock()
    run.__getitem__.side_effect = lambda key: fields.setdefault(key, mock.MagicMock())
    monkeypatch.setattr(neptune_callback, "run", run)
    return fields


def test_neptune_disabled_in_tests():
    """Test that the Neptune integration registers no callbacks while tests run."""
    assert TESTS_RUNNING
    assert not neptune_callback.enabled
    assert neptune_callback.callbacks == {}


def test_neptune_log_scalars(neptune_fields):
    """Test that scalars are appended to their Neptune series at the given step."""
    neptune_callback._log_scalars({"train/box_loss": 1.25, "lr/pg0": 0.01}, step=3)
    neptune_fields["train/box_loss"].append.assert_called_once_with(value=1.25, step=3)
    neptune_fields["lr/pg0"].append.assert_called_once_with(value=0.01, step=3)


def test_neptune_train_epoch_end(neptune_fields, tmp_path):
    """Test that the losses and learning rates of an epoch are logged at the epoch number counted from 1."""
    trainer = SimpleNamespace(
        epoch=0,
        tloss=None,
        label_loss_items=lambda loss_items=None, prefix="train": {f"{prefix}/box_loss": 1.5},
        lr={"lr/pg0": 0.01},
        save_dir=tmp_path,
    )
    neptune_callback.on_train_epoch_end(trainer)
    neptune_fields["train/box_loss"].append.assert_called_once_with(value=1.5, step=1)
    neptune_fields["lr/pg0"].append.assert_called_once_with(value=0.01, step=1)


@pytest.mark.skipif(not check_requirements("neptune", install=False), reason="neptune not installed")
def test_neptune_val_end(neptune_fields, tmp_path):
    """Test that the validation images, and only they, are uploaded under Validation."""
    for name in ("val_batch0_labels.jpg", "val_batch0_pred.jpg", "train_batch0.jpg"):
        (tmp_path / name).touch()
    neptune_callback.on_val_end(SimpleNamespace(save_dir=tmp_path))
    assert set(neptune_fields) == {"Validation/val_batch0_labels", "Validation/val_batch0_pred"}
    for key, field in neptune_fields.items():
        field.upload.assert_called_once()
        assert field.upload.call_args.args[0].path == str(tmp_path / f"{key.split('/')[-1]}.jpg")


@pytest.mark.skipif(not check_requirements("neptune", install=False), reason="neptune not installed")
def test_neptune_pretrain_routine_start(monkeypatch):
    """Test that a training starts a Neptune run named after it and logs its arguments, None as an empty string."""
    monkeypatch.setattr(neptune_callback, "run", None)  # restored after the test
    args = SimpleNamespace(project=None, name="train", task="detect", epochs=3, data="coco8.yaml", device="cpu")
    trainer = SimpleNamespace(args=args)
    with mock.patch("neptune.init_run") as init_run:
        neptune_callback.on_pretrain_routine_start(trainer)
        starting = neptune_callback.run  # the client starts on its own thread once the trainer is set up
        neptune_callback.on_train_start(trainer)
        assert starting.started(timeout=60) is init_run.return_value
    init_run.assert_called_once_with(project="Ultralytics", name="train", tags=["Ultralytics"])
    assert neptune_callback.run is init_run.return_value
    init_run.return_value.__setitem__.assert_called_once_with(
        "Configuration/Hyperparameters",
        {"project": "", "name": "train", "task": "detect", "epochs": 3, "data": "coco8.yaml", "device": "cpu"},
    )
