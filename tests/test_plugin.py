"""The pytest plugin: users get the fixtures by installing the package, and can gate upgrades on parity of the tasks
they train."""

from ultralytics_neptune.synthetic import TASKS

USER_TEST = """
from ultralytics_neptune import neptune_callbacks


def test_parity_of_every_bundled_recording(neptune_recordings, neptune_parity):
    for recording in neptune_recordings.values():
        result = neptune_parity(recording)
        assert result.passed, result.differences


def test_my_training_logs_its_loss(neptune_fake, neptune_replay, neptune_recordings):
    recording = list(neptune_recordings.values())[-1]
    neptune_replay(recording, neptune_callbacks())
    fields = {"/".join(op["path"]) for op in neptune_fake.last_run.operations}
    assert "train/loss" in fields
"""


def test_the_fixtures_work_in_a_users_test_suite(pytester):
    """A user who trains classification models gates on the classification recordings."""
    pytester.makepyfile(test_user=USER_TEST)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", "--neptune-task", "classify")
    result.assert_outcomes(passed=2)


def test_the_bundled_recordings_are_of_every_task_by_default(neptune_recordings):
    assert {recording.task for recording in neptune_recordings.values()} == set(TASKS)


def test_the_task_option_keeps_the_recordings_of_the_tasks_named(pytester):
    pytester.makepyfile(
        test_tasks="""
def test_tasks(neptune_recordings):
    assert sorted({recording.task for recording in neptune_recordings.values()}) == ["pose", "segment"]
"""
    )
    result = pytester.runpytest_subprocess(
        "-q", "-p", "no:cacheprovider", "--neptune-task", "segment", "--neptune-task", "pose"
    )
    result.assert_outcomes(passed=1)


def test_the_plugin_is_registered_as_a_pytest11_entry_point():
    from importlib.metadata import entry_points

    plugins = entry_points(group="pytest11")
    assert any(ep.value == "ultralytics_neptune.verification.plugin" for ep in plugins)


def test_a_parity_failure_in_a_users_suite_names_the_field(pytester):
    pytester.makepyfile(
        test_broken="""
from ultralytics_neptune.verification import parity


def test_parity(neptune_recordings, neptune_parity, monkeypatch):
    make_logger = parity.parity_logger

    def without_mosaics(release):
        logger = make_logger(release)
        log_images = logger.module._log_images
        logger.module._log_images = lambda images, group="": None if group == "Mosaic" else log_images(images, group)
        return logger

    monkeypatch.setattr(parity, "parity_logger", without_mosaics)
    result = neptune_parity(neptune_recordings["ultralytics-8.4.131"])
    assert result.passed, "\\n".join(result.differences)
"""
    )
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Mosaic/train_batch0*expected UploadFile*got nothing*"])
    assert "Validation/" not in result.stdout.str()  # only the mosaics went missing
