"""Extended mode, fix 4: a resumed training continues its Neptune run, with no repeated step and no second run."""

import pytest

from ultralytics_neptune import add_neptune_callbacks
from ultralytics_neptune.synthetic import make_detection_dataset
from ultralytics_neptune.trace import Trace, step_violations

TRAIN = {"epochs": 3, "imgsz": 64, "batch": 4, "workers": 0, "device": "cpu", "plots": False, "verbose": False}
NEPTUNE = {"mode": "async", "api_token": "token", "project": "team/yolo"}


def interrupt_in_epoch(epoch):
    """Ctrl-C after the epoch's training losses were logged, before its checkpoint: that epoch is trained again."""

    def callback(trainer):
        if trainer.epoch == epoch:
            raise KeyboardInterrupt

    return callback


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return make_detection_dataset(tmp_path_factory.mktemp("data"))


@pytest.fixture
def interrupted_then_resumed(tmp_path, dataset, neptune_fake):
    from ultralytics import YOLO

    neptune_fake.api_tokens.add("token")
    model = YOLO("yolov8n.yaml")
    add_neptune_callbacks(model, extended=True, **NEPTUNE)
    model.add_callback("on_train_epoch_end", interrupt_in_epoch(2))
    with pytest.raises(KeyboardInterrupt):
        model.train(data=str(dataset), project=str(tmp_path / "runs"), name="train", **TRAIN)
    resumed = YOLO(tmp_path / "runs" / "train" / "weights" / "last.pt")
    add_neptune_callbacks(resumed, extended=True, **NEPTUNE)
    resumed.train(resume=True)
    return neptune_fake.runs


def test_the_resumed_training_continues_the_same_run(interrupted_then_resumed):
    first, second = interrupted_then_resumed
    assert second.continues is first
    assert second.init_kwargs["custom_run_id"] == first.init_kwargs["custom_run_id"]


def test_no_step_is_logged_twice_across_the_interruption(interrupted_then_resumed):
    first, second = interrupted_then_resumed
    both = Trace({}, first.operations + second.operations)
    assert step_violations(both) == []
    steps = [v["step"] for op in both.by_field()["metrics/mAP50(B)"] for v in op["values"]]
    assert steps == [1, 2, 3, 4]
    assert [v["step"] for op in both.by_field()["train/box_loss"] for v in op["values"]] == [1, 2, 3]


def test_the_interruption_marks_the_run_failed_and_the_resumed_end_clears_it(interrupted_then_resumed):
    first, second = interrupted_then_resumed
    assert first.stopped and second.stopped
    failed = [op["value"] for op in first.operations + second.operations if op["path"] == ["sys", "failed"]]
    assert failed[-2:] == [True, False]


def test_parity_mode_starts_a_second_run_for_the_resumed_training(tmp_path, dataset, neptune_fake):
    from ultralytics import YOLO

    neptune_fake.api_tokens.add("token")
    model = YOLO("yolov8n.yaml")
    add_neptune_callbacks(model, **NEPTUNE)
    model.add_callback("on_train_epoch_end", interrupt_in_epoch(1))
    with pytest.raises(KeyboardInterrupt):
        model.train(data=str(dataset), project=str(tmp_path / "runs"), name="train", **TRAIN)
    resumed = YOLO(tmp_path / "runs" / "train" / "weights" / "last.pt")
    add_neptune_callbacks(resumed, **NEPTUNE)
    resumed.train(resume=True)
    assert len(neptune_fake.runs) == 2
    assert neptune_fake.runs[1].continues is None
