import json
import re
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import matplotlib.pyplot as plt
import numpy as np
import pytest

from ultralytics.utils import TESTS_RUNNING, SettingsManager
from ultralytics.utils.callbacks import neptune as neptune_callback


@pytest.fixture
def neptune_run(monkeypatch):
    """Give the Neptune callbacks a mocked run and client file type; return the run, its fields kept by name."""
    run = mock.MagicMock(name="run")
    run.fields = {}
    run.__getitem__.side_effect = lambda key: run.fields.setdefault(key, mock.MagicMock(name=key))
    monkeypatch.setattr(neptune_callback, "run", run, raising=False)  # module globals are absent while tests run
    monkeypatch.setattr(neptune_callback, "_failures", {}, raising=False)
    monkeypatch.setattr(neptune_callback, "File", mock.MagicMock(name="File"), raising=False)
    return run


@pytest.fixture
def warning(monkeypatch):
    """Record the warnings of the Neptune callbacks."""
    warning = mock.MagicMock(name="warning")
    monkeypatch.setattr(neptune_callback.LOGGER, "warning", warning)
    return warning


def make_trainer(save_dir: Path, epoch: int = 0) -> SimpleNamespace:
    """Return a stand-in trainer with the attributes the Neptune callbacks read."""
    args = SimpleNamespace(project=None, name="train", task="detect", epochs=3, data="coco8.yaml")
    return SimpleNamespace(
        args=args,
        epoch=epoch,
        tloss=None,
        label_loss_items=lambda loss_items=None, prefix="train": {
            f"{prefix}/box_loss": 1.5,
            f"{prefix}/cls_loss": 2.5,
            f"{prefix}/dfl_loss": 1.25,
        },
        lr={"lr/pg0": 0.01, "lr/pg1": 0.02, "lr/pg2": 0.03},
        metrics={"metrics/mAP50(B)": 0.5, "val/box_loss": 1.75},
        save_dir=save_dir,
        best=save_dir / "weights" / "best.pt",
        plots={},
        validator=SimpleNamespace(plots={}, save_dir=save_dir),
    )


def save_png(path: Path) -> Path:
    """Write a small PNG image to path and return path."""
    plt.imsave(path, np.zeros((8, 16, 3)))
    return path


def test_neptune_disabled_in_tests():
    """Test that the Neptune integration registers no callbacks while tests run."""
    assert TESTS_RUNNING
    assert neptune_callback.callbacks == {}


def test_neptune_setting_off_by_default(tmp_path):
    """Test that a new settings file has the Neptune setting, off."""
    assert SettingsManager(tmp_path / "settings.json")["neptune"] is False


def test_neptune_setting_added_off_when_settings_migrate(tmp_path):
    """Test that a settings file of the previous schema gains the Neptune key, off, and keeps its values."""
    file = tmp_path / "settings.json"
    file.write_text(json.dumps({"settings_version": "0.0.8", "runs_dir": "/custom/runs"}))
    settings = SettingsManager(file)
    assert settings["neptune"] is False
    assert settings["runs_dir"] == "/custom/runs"
    assert json.loads(file.read_text())["neptune"] is False


def test_neptune_pretrain_routine_start(monkeypatch, tmp_path):
    """Test that a training starts a Neptune run named after it and logs its arguments, None as an empty string."""
    client = mock.MagicMock(name="neptune")
    monkeypatch.setattr(neptune_callback, "neptune", client)
    monkeypatch.setattr(neptune_callback, "run", None, raising=False)
    monkeypatch.setattr(neptune_callback, "_failures", {}, raising=False)
    neptune_callback.on_pretrain_routine_start(make_trainer(tmp_path))
    client.init_run.assert_called_once_with(project="Ultralytics", name="train", tags=["Ultralytics"])
    assert neptune_callback.run is client.init_run.return_value
    client.init_run.return_value.__setitem__.assert_called_once_with(
        "Configuration/Hyperparameters",
        {"project": "", "name": "train", "task": "detect", "epochs": 3, "data": "coco8.yaml"},
    )


def test_neptune_pretrain_routine_start_failure_warns(monkeypatch, tmp_path, warning):
    """Test that a run that cannot start leaves the training going, with one warning and no run."""
    client = mock.MagicMock(name="neptune")
    client.init_run.side_effect = ValueError("no API token")
    monkeypatch.setattr(neptune_callback, "neptune", client)
    monkeypatch.setattr(neptune_callback, "run", None, raising=False)
    monkeypatch.setattr(neptune_callback, "_failures", {}, raising=False)
    neptune_callback.on_pretrain_routine_start(make_trainer(tmp_path))
    assert neptune_callback.run is None
    warning.assert_called_once()
    assert "no API token" in warning.call_args.args[0]


def test_neptune_train_epoch_end_logs_losses_and_lr(neptune_run, tmp_path):
    """Test that every loss and learning rate of an epoch is logged at the epoch number counted from 1."""
    neptune_callback.on_train_epoch_end(make_trainer(tmp_path, epoch=0))
    expected = {
        "train/box_loss": 1.5,
        "train/cls_loss": 2.5,
        "train/dfl_loss": 1.25,
        "lr/pg0": 0.01,
        "lr/pg1": 0.02,
        "lr/pg2": 0.03,
    }
    assert set(neptune_run.fields) == set(expected)
    for key, value in expected.items():
        neptune_run.fields[key].append.assert_called_once_with(value=value, step=1)


def test_neptune_train_epoch_end_uploads_mosaics_at_second_epoch(neptune_run, tmp_path):
    """Test that the training mosaics are uploaded under Mosaic at the end of the second epoch."""
    for name in ("train_batch0.jpg", "train_batch1.jpg", "labels.jpg"):
        (tmp_path / name).touch()
    neptune_callback.on_train_epoch_end(make_trainer(tmp_path, epoch=1))
    mosaics = {key for key in neptune_run.fields if key.startswith("Mosaic/")}
    assert mosaics == {"Mosaic/train_batch0", "Mosaic/train_batch1"}
    neptune_callback.File.assert_any_call(str(tmp_path / "train_batch0.jpg"))
    neptune_run.fields["Mosaic/train_batch0"].upload.assert_called_once_with(neptune_callback.File.return_value)


def test_neptune_fit_epoch_end_logs_model_and_metrics(neptune_run, tmp_path):
    """Test that the first fit epoch logs the model summary and every epoch its metrics at the next step."""
    summary = {"model/parameters": 3157200, "model/GFLOPs": 8.9, "model/speed_PyTorch(ms)": 12.5}
    with mock.patch("ultralytics.utils.torch_utils.model_info_for_loggers", return_value=summary):
        neptune_callback.on_fit_epoch_end(make_trainer(tmp_path, epoch=0))
    neptune_run.__setitem__.assert_called_once_with("Configuration/Model", summary)
    neptune_run.fields["metrics/mAP50(B)"].append.assert_called_once_with(value=0.5, step=1)
    neptune_run.fields["val/box_loss"].append.assert_called_once_with(value=1.75, step=1)


def test_neptune_val_end_uploads_validation_images(neptune_run, tmp_path):
    """Test that the validation images, and only they, are uploaded under Validation."""
    for name in ("val_batch0_labels.jpg", "val_batch0_pred.jpg", "train_batch0.jpg"):
        (tmp_path / name).touch()
    neptune_callback.on_val_end(SimpleNamespace(save_dir=tmp_path))
    assert set(neptune_run.fields) == {"Validation/val_batch0_labels", "Validation/val_batch0_pred"}
    neptune_callback.File.assert_any_call(str(tmp_path / "val_batch0_pred.jpg"))


def test_neptune_train_end_uploads_plots_as_figures(neptune_run, tmp_path):
    """Test that train end uploads each result plot but the batch images as a figure under Plots."""
    trainer = make_trainer(tmp_path)
    trainer.plots = {save_png(tmp_path / "results.png"): {}, save_png(tmp_path / "train_batch0.png"): {}}
    trainer.validator.plots = {save_png(tmp_path / "confusion_matrix.png"): {}}
    neptune_callback.on_train_end(trainer)
    plots = {key for key in neptune_run.fields if key.startswith("Plots/")}
    assert plots == {"Plots/results", "Plots/confusion_matrix"}
    for key in plots:
        figure = neptune_run.fields[key].upload.call_args.args[0]
        assert isinstance(figure, plt.Figure)


def test_neptune_train_end_closes_its_figures(neptune_run, tmp_path):
    """Test that train end leaves no matplotlib figure open."""
    trainer = make_trainer(tmp_path)
    trainer.plots = {save_png(tmp_path / "results.png"): {}}
    trainer.validator.plots = {save_png(tmp_path / "confusion_matrix.png"): {}}
    before = plt.get_fignums()
    neptune_callback.on_train_end(trainer)
    assert plt.get_fignums() == before


def test_neptune_train_end_uploads_best_weights(neptune_run, tmp_path):
    """Test that train end uploads the best weights under weights/<name>/best.pt."""
    trainer = make_trainer(tmp_path)
    neptune_callback.on_train_end(trainer)
    neptune_callback.File.assert_called_once_with(str(trainer.best))
    neptune_run.fields["weights/train/best.pt"].upload.assert_called_once_with(neptune_callback.File.return_value)


def test_neptune_teardown_stops_run_with_bounded_wait(neptune_run):
    """Test that teardown stops the run, waiting at most STOP_TIMEOUT seconds, and forgets it."""
    neptune_callback.teardown(SimpleNamespace())
    neptune_run.stop.assert_called_once_with(seconds=neptune_callback.STOP_TIMEOUT)
    assert neptune_callback.STOP_TIMEOUT > 0
    assert neptune_callback.run is None


def test_neptune_logging_failure_warns_once_per_kind(neptune_run, tmp_path, warning):
    """Test that failing uploads warn once per kind of failure, are counted at teardown, and raise nothing."""
    for name in ("val_batch0_labels.jpg", "val_batch0_pred.jpg"):
        (tmp_path / name).touch()
    neptune_run.__getitem__.side_effect = None
    neptune_run.__getitem__.return_value.upload.side_effect = OSError(28, "No space left on device")
    neptune_callback.on_val_end(SimpleNamespace(save_dir=tmp_path))
    neptune_callback.on_val_end(SimpleNamespace(save_dir=tmp_path))
    warning.assert_called_once()
    assert "No space left on device" in warning.call_args.args[0]
    neptune_callback.teardown(SimpleNamespace())
    assert re.search(r"\b4\b", warning.call_args.args[0])  # the count of failed operations
