"""The switches: one reader, one rule, and an error naming the switch for a value that means nothing."""

from pathlib import Path

import pytest
import ultralytics.utils  # noqa: F401  (Ultralytics sets its logger up when imported: before caplog watches it)

import _ultralytics_neptune_startup as startup
from ultralytics_neptune import settings
from ultralytics_neptune.registration import register_automatically
from ultralytics_neptune.verification.replay import ReplayTrainer


@pytest.fixture
def clean(monkeypatch, tmp_path):
    """No switch in the environment, and a settings file path under tmp_path (absent until written)."""
    for name in (settings.SWITCH_ENV, settings.EXTENDED_ENV, settings.MODE_ENV):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "settings.json"
    monkeypatch.setenv(settings.SETTINGS_ENV, str(path))
    return path


def test_everything_is_off_by_default(clean):
    assert settings.automatic_registration() == settings.Choice(False, "default")
    assert settings.extended_mode() == settings.Choice(False, "default")


@pytest.mark.parametrize(("value", "on"), [("1", True), ("true", True), ("On", True), ("0", False), (" no ", False)])
def test_the_environment_variable_turns_automatic_registration_on_or_off(clean, monkeypatch, value, on):
    monkeypatch.setenv(settings.SWITCH_ENV, value)
    assert settings.automatic_registration() == settings.Choice(on, "ULTRALYTICS_NEPTUNE environment variable")


@pytest.mark.parametrize("variable", [settings.SWITCH_ENV, settings.EXTENDED_ENV])
@pytest.mark.parametrize("value", ["maybe", "2", ""])
def test_a_value_that_means_nothing_is_an_error_naming_the_variable_value_and_choices(
    clean, monkeypatch, variable, value
):
    monkeypatch.setenv(variable, value)
    reader = settings.automatic_registration if variable == settings.SWITCH_ENV else settings.extended_mode
    with pytest.raises(settings.SettingError, match=rf"^{variable}={value!r} means nothing; use one of 1, true"):
        reader()


def test_enable_writes_a_settings_file_that_is_read_back(clean):
    settings.save_settings(enabled=True, extended=True)
    assert settings.automatic_registration() == settings.Choice(True, str(clean))
    assert settings.extended_mode() == settings.Choice(True, str(clean))
    settings.save_settings(enabled=False)
    assert settings.automatic_registration().value is False


def test_the_environment_variable_wins_over_the_settings_file(clean, monkeypatch):
    settings.save_settings(enabled=True)
    monkeypatch.setenv(settings.SWITCH_ENV, "0")
    assert settings.automatic_registration().value is False


@pytest.mark.parametrize(
    ("content", "complaint"),
    [("{not json", "is not JSON"), ("[1]", "holds no object"), ('{"enabled": "yes"}', "has enabled='yes'")],
)
def test_a_settings_file_that_means_nothing_is_an_error_naming_the_file(clean, content, complaint):
    clean.write_text(content)
    with pytest.raises(settings.SettingError, match=complaint) as error:
        settings.automatic_registration()
    assert str(clean) in str(error.value)


@pytest.mark.parametrize("mode", ["async", "offline", "debug"])
def test_a_neptune_mode_of_the_client_is_accepted(clean, monkeypatch, mode):
    monkeypatch.setenv(settings.MODE_ENV, mode)
    assert settings.connection_mode() == mode


def test_a_neptune_mode_the_client_does_not_know_is_an_error(clean, monkeypatch):
    monkeypatch.setenv(settings.MODE_ENV, "bogus")
    with pytest.raises(settings.SettingError, match="NEPTUNE_MODE='bogus' means nothing; use one of async, sync"):
        settings.connection_mode()


def test_the_pth_line_looks_for_the_settings_file_the_reader_reads(monkeypatch, tmp_path):
    line = (Path(startup.__file__).parent / "ultralytics_neptune_startup.pth").read_text()
    for variables in ({settings.SETTINGS_ENV: str(tmp_path / "s.json")}, {"XDG_CONFIG_HOME": str(tmp_path)}, {}):
        for name in (settings.SETTINGS_ENV, "XDG_CONFIG_HOME"):
            monkeypatch.delenv(name, raising=False)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        scope: dict = {}
        exec(line.replace('and __import__("_ultralytics_neptune_startup")', ""), scope)
        assert scope["settings"] == settings.settings_path()


def test_automatic_registration_with_a_meaningless_switch_warns_once_and_registers_nothing(
    clean, monkeypatch, tmp_path, caplog
):
    monkeypatch.setenv(settings.SWITCH_ENV, "1")
    monkeypatch.setenv(settings.EXTENDED_ENV, "maybe")
    trainers = [ReplayTrainer(tmp_path / str(index)) for index in range(2)]
    for trainer in trainers:
        register_automatically(trainer)
    assert all(not any(trainer.callbacks.values()) for trainer in trainers)
    (warning,) = [record.getMessage() for record in caplog.records if "NOT logging" in record.getMessage()]
    assert "ULTRALYTICS_NEPTUNE_EXTENDED='maybe' means nothing" in warning
