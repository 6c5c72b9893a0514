"""Replays: the fake trainer changes as the real one did, and the files appear when they appeared, for the
recordings of every task."""

import pytest

from ultralytics_neptune.synthetic import TASKS
from ultralytics_neptune.verification.recording import (
    Opaque,
    Recording,
    bundled_recordings,
    decode,
    encode,
    load_bundled,
)
from ultralytics_neptune.verification.replay import synthetic_bytes


@pytest.fixture(scope="module", params=TASKS)
def recording(request):
    """The newest release's recording of a task."""
    return load_bundled(list(bundled_recordings(request.param))[-1])


def watch(event, check):
    """A callbacks mapping that runs check(trainer_or_validator) at event and keeps what it returns."""
    seen = []
    return {event: lambda subject: seen.append(check(subject))}, seen


def test_the_epoch_does_not_exist_before_the_first_epoch_starts(neptune_replay, recording):
    callbacks, seen = watch("on_pretrain_routine_start", lambda trainer: hasattr(trainer, "epoch"))
    neptune_replay(recording, callbacks)
    assert seen == [False]


def test_the_mosaics_exist_when_the_second_epoch_ends(neptune_replay, recording):
    callbacks, seen = watch(
        "on_train_epoch_end", lambda t: (t.epoch, sorted(p.name for p in t.save_dir.glob("train_batch*.jpg")))
    )
    neptune_replay(recording, callbacks)
    assert seen[1] == (1, ["train_batch0.jpg", "train_batch1.jpg", "train_batch2.jpg"])


def test_results_png_appears_just_before_train_end(neptune_replay, recording):
    callbacks, seen = watch("on_fit_epoch_end", lambda trainer: (trainer.save_dir / "results.png").exists())
    more, at_end = watch("on_train_end", lambda trainer: (trainer.save_dir / "results.png").exists())
    neptune_replay(recording, [callbacks, more])
    assert not any(seen) and at_end == [True]


def test_validation_images_appear_only_in_the_final_evaluation(neptune_replay, recording):
    callbacks, seen = watch("on_val_end", lambda v: (v.training, len(list(v.save_dir.glob("val*.jpg")))))
    neptune_replay(recording, callbacks)
    assert [count for training, count in seen if training] == [0] * (len(seen) - 1)
    assert seen[-1][0] is False and seen[-1][1] > 0


def test_loss_items_are_named_with_the_prefix_asked(neptune_replay, recording):
    callbacks, seen = watch("on_train_epoch_end", lambda t: t.label_loss_items(t.tloss, prefix="val"))
    neptune_replay(recording, callbacks)
    assert all(key.startswith("val/") for key in seen[0])


def test_model_info_for_loggers_returns_the_recorded_summary(neptune_replay, recording):
    def model_info(trainer):
        from ultralytics.utils.torch_utils import model_info_for_loggers

        return model_info_for_loggers(trainer) if trainer.epoch == 0 else None

    callbacks, seen = watch("on_fit_epoch_end", model_info)
    neptune_replay(recording, callbacks)
    assert set(seen[0]) == {"model/parameters", "model/GFLOPs", "model/speed_PyTorch(ms)"}


def recorded_epoch_at_last(recording, event: str) -> int:
    """The trainer's epoch as recorded when the last ``event`` fired (states hold only what changed)."""
    last = max(index for index, recorded in enumerate(recording.events) if recorded["event"] == event)
    return [e["state"]["epoch"] for e in recording.events[: last + 1] if "epoch" in e.get("state", {})][-1]


def test_every_epoch_and_the_final_evaluation_end_with_the_recorded_epoch(neptune_replay, recording):
    callbacks, seen = watch("on_fit_epoch_end", lambda trainer: trainer.epoch)
    neptune_replay(recording, callbacks)
    epochs = recording.events[0]["state"]["epochs"]
    assert seen == [*range(epochs), recorded_epoch_at_last(recording, "on_fit_epoch_end")]


def test_the_final_evaluation_of_the_newest_recordings_ends_at_epoch_e(recording):
    """From 8.4.52 the final evaluation's on_fit_epoch_end runs with epoch = epochs (REFERENCE section 2)."""
    assert recorded_epoch_at_last(recording, "on_fit_epoch_end") == recording.events[0]["state"]["epochs"]


#: a replayed file's bytes, pinned: goldens made in other processes, and on other days, depend on them
RESULTS_PNG_SHA256 = "f8cdf4157ec45a7c9b8ff724af05ddb8f4ddedfb897ba85aef31cd7f162f671e"


def test_replayed_files_are_the_same_bytes_in_every_process():
    import hashlib

    from ultralytics_neptune.verification.replay import synthetic_png

    spec = {"size": 10, "image": [40, 20, "RGBA"], "revision": 1}
    synthetic_png.cache_clear()  # made now, not served from this process's cache
    assert hashlib.sha256(synthetic_bytes("results.png", spec)).hexdigest() == RESULTS_PNG_SHA256


def test_another_revision_of_a_file_is_other_bytes():
    spec = {"size": 10, "image": [40, 20, "RGBA"], "revision": 1}
    assert synthetic_bytes("results.png", spec) != synthetic_bytes("results.png", {**spec, "revision": 2})


def test_replayed_images_are_readable_with_their_recorded_size(tmp_path):
    from PIL import Image

    path = tmp_path / "labels.jpg"
    path.write_bytes(synthetic_bytes("labels.jpg", {"size": 1, "image": [33, 17, "RGB"]}))
    with Image.open(path) as image:
        assert (image.width, image.height, image.mode) == (33, 17, "RGB")


@pytest.mark.parametrize(
    "value",
    [1, 1.5, "text", None, True, float("inf"), (1, 2), [1, (2, 3)], {"a": {"b": 1}}, {1: "x"}],
    ids=repr,
)
def test_recorded_values_come_back_as_they_were(value):
    assert decode(encode(value)) == value


def test_numpy_and_torch_values_keep_their_type():
    import numpy as np
    import torch

    assert type(decode(encode(np.float32(0.5)))) is np.float32
    assert decode(encode(torch.tensor(2.0))).dtype == torch.float32


def test_paths_under_the_recording_root_become_relative():
    from pathlib import Path

    assert encode(Path("/tmp/root/runs/detect"), "/tmp/root") == {"$path": "runs/detect"}
    assert encode("/tmp/root/data.yaml", "/tmp/root") == "data.yaml"


def test_unknown_objects_are_kept_as_their_repr():
    class Thing:
        def __repr__(self):
            return "Thing()"

    assert decode(encode(Thing())) == Opaque(
        "Thing()", f"{__name__}.test_unknown_objects_are_kept_as_their_repr.<locals>.Thing"
    )


def test_a_recording_of_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown recording format 99"):
        Recording.from_json('{"format": 99, "meta": {}, "events": []}')


@pytest.mark.parametrize(
    ("width", "height", "mode"), [(2400, 1200, "RGBA"), (33, 17, "RGB"), (8, 5, "L"), (1, 1, "LA")]
)
def test_replayed_images_show_the_banded_picture_whatever_zlib_is_installed(width, height, mode):
    import io

    import numpy as np
    from PIL import Image

    from ultralytics_neptune.verification.synthetic_png import band_pixel, banded_png

    channels = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}[mode]
    with Image.open(io.BytesIO(banded_png(width, height, channels, seed=77))) as image:
        pixels = np.asarray(image).reshape(height, width, channels)
    corner = [band_pixel(width - 1, height - 1, channel, 77) for channel in range(channels)]
    assert pixels[-1, -1].tolist() == corner and pixels[0, 0, 0] == band_pixel(0, 0, 0, 77)
    assert len(banded_png(width, height, channels, seed=77)) < 200_000  # a few bytes per row, not per pixel
