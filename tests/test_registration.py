"""add_neptune_callbacks: what it adds, what it refuses, and that a training starts exactly one run."""

import pytest
from run_checks import EVENTS

from ultralytics_neptune import add_neptune_callbacks
from ultralytics_neptune.verification.replay import ReplayTrainer
from ultralytics_neptune.verification.upstream import upstream_module_path


@pytest.fixture
def trainer(tmp_path):
    return ReplayTrainer(tmp_path / "save_dir")


def ours(trainer, event):
    return [
        cb
        for cb in trainer.callbacks[event]
        if getattr(getattr(cb, "func", cb), "__module__", "").startswith("ultralytics_neptune")
    ]


def builtin_lookalike(event):
    """A function that identifies as the built-in Neptune callback of Ultralytics."""

    def callback(trainer):
        trainer.builtin_calls = [*getattr(trainer, "builtin_calls", []), event]

    callback.__module__ = "ultralytics.utils.callbacks.neptune"
    return callback


def test_each_event_gets_one_callback(trainer):
    add_neptune_callbacks(trainer)
    assert {event: len(ours(trainer, event)) for event in EVENTS} == {
        "on_pretrain_routine_start": 2,  # the start of the run, and the removal of the built-in callback
        "on_train_start": 1,
        "on_train_epoch_end": 1,
        "on_fit_epoch_end": 1,
        "on_val_end": 1,
        "on_train_end": 1,
        "teardown": 1,
    }


def test_registering_twice_adds_nothing_twice(trainer):
    add_neptune_callbacks(trainer)
    add_neptune_callbacks(trainer, mode="offline")
    assert [len(ours(trainer, event)) for event in EVENTS] == [2, 1, 1, 1, 1, 1, 1]


def test_the_last_registration_decides_the_init_run_arguments(trainer, neptune_fake, latest_recording, neptune_module):
    from ultralytics_neptune.verification.replay import replay

    add_neptune_callbacks(trainer, mode="debug")
    add_neptune_callbacks(trainer, mode="offline", description="second")
    replay(latest_recording, {}, trainer.save_dir, trainer=trainer)
    assert neptune_fake.last_run.init_kwargs["description"] == "second"
    assert neptune_fake.last_run.mode == "offline"


def test_init_run_arguments_go_with_the_parity_ones(trainer, neptune_fake, latest_recording, neptune_module):
    from ultralytics_neptune.verification.replay import replay

    add_neptune_callbacks(trainer, mode="offline", custom_run_id="abc")
    replay(latest_recording, {}, trainer.save_dir, trainer=trainer)
    assert neptune_fake.last_run.init_kwargs == {
        "project": "Ultralytics",
        "name": "train",
        "tags": ["Ultralytics"],
        "mode": "offline",
        "custom_run_id": "abc",
    }


def test_an_unknown_init_run_argument_is_refused_at_registration(trainer):
    with pytest.raises(TypeError, match=r"unknown neptune\.init_run argument.*captur_stdout"):
        add_neptune_callbacks(trainer, captur_stdout=False)


def test_an_invalid_mode_is_refused_at_registration(trainer):
    with pytest.raises(ValueError, match="mode='ofline' is not a Neptune connection mode"):
        add_neptune_callbacks(trainer, mode="ofline")


def test_a_builtin_callback_already_on_the_trainer_is_replaced(trainer):
    for event in EVENTS:
        trainer.add_callback(event, builtin_lookalike(event))
    add_neptune_callbacks(trainer)
    assert not any(
        cb.__module__ == "ultralytics.utils.callbacks.neptune" for cbs in trainer.callbacks.values() for cb in cbs
    )


def test_a_builtin_callback_added_after_registration_is_dropped_before_it_runs(
    trainer, neptune_fake, latest_recording, neptune_module
):
    """Ultralytics adds its integrations when the trainer is created, after the user's callbacks."""
    from ultralytics_neptune.verification.replay import replay

    add_neptune_callbacks(trainer)
    for event in EVENTS:
        trainer.add_callback(event, builtin_lookalike(event))
    replay(latest_recording, {}, trainer.save_dir, trainer=trainer)
    assert getattr(trainer, "builtin_calls", []) == []
    assert len(neptune_fake.runs) == 1


def test_with_the_real_builtin_module_one_run_is_started(trainer, neptune_fake, latest_recording, neptune_module):
    if upstream_module_path() is None:
        pytest.skip("this Ultralytics has no built-in Neptune callback (8.4.132+); the lookalike tests cover removal")
    from ultralytics_neptune.verification.replay import replay
    from ultralytics_neptune.verification.upstream import load_upstream_module

    builtin = load_upstream_module()
    add_neptune_callbacks(trainer)
    for event, callback in builtin.callbacks.items():
        callback.__module__ = "ultralytics.utils.callbacks.neptune"  # as when Ultralytics imports it
        trainer.add_callback(event, callback)
    replay(latest_recording, {}, trainer.save_dir, trainer=trainer)
    assert len(neptune_fake.runs) == 1


def test_without_the_client_registration_warns_and_adds_nothing(trainer, monkeypatch, caplog):
    import sys

    monkeypatch.setitem(sys.modules, "neptune", None)  # as if it were not installed
    add_neptune_callbacks(trainer)
    assert ours(trainer, "on_train_end") == []
    assert (
        "neptune client is not installed" in caplog.text and "pip install 'ultralytics-neptune[neptune]'" in caplog.text
    )
