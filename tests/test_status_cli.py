"""`ultralytics-neptune enable`, `disable` and `status`."""

import json
from importlib import metadata

import pytest

from ultralytics_neptune.cli import main


@pytest.fixture
def settings(tmp_path, monkeypatch):
    path = tmp_path / "settings.json"
    monkeypatch.setenv("ULTRALYTICS_NEPTUNE_SETTINGS", str(path))
    for name in ("ULTRALYTICS_NEPTUNE", "ULTRALYTICS_NEPTUNE_EXTENDED", "NEPTUNE_MODE"):
        monkeypatch.delenv(name, raising=False)
    return path


def status_of(capsys, exit_code: int = 0) -> dict:
    capsys.readouterr()
    assert main(["status"]) == exit_code
    rows = [line.split("  ", 1) for line in capsys.readouterr().out.splitlines() if "  " in line]
    return {label.strip(): value.strip() for label, value in rows}


def test_enable_saves_the_switch_and_status_shows_it(settings, capsys):
    assert main(["enable", "--extended"]) == 0
    assert json.loads(settings.read_text()) == {"enabled": True, "extended": True}
    shown = status_of(capsys)
    assert shown["automatic registration"] == f"on (from {settings})"
    assert shown["logging mode"] == f"extended (from {settings})"


def test_disable_turns_it_off(settings, capsys):
    main(["enable"])
    assert main(["disable"]) == 0
    assert json.loads(settings.read_text())["enabled"] is False
    assert status_of(capsys)["automatic registration"].startswith("off")


def test_without_a_settings_file_status_names_none_as_the_source(settings, capsys):
    shown = status_of(capsys)
    assert shown["automatic registration"] == "off (default): no settings file; `ultralytics-neptune enable` makes one"
    assert not settings.exists()


def test_the_environment_variable_is_named_as_the_source_when_set(settings, capsys, monkeypatch):
    monkeypatch.setenv("ULTRALYTICS_NEPTUNE", "1")
    assert status_of(capsys)["automatic registration"] == "on (from ULTRALYTICS_NEPTUNE environment variable)"


@pytest.mark.parametrize(
    ("variable", "value", "row"),
    [
        ("ULTRALYTICS_NEPTUNE", "maybe", "automatic registration"),
        ("ULTRALYTICS_NEPTUNE_EXTENDED", "maybe", "logging mode"),
        ("NEPTUNE_MODE", "bogus", "connection mode"),
    ],
)
def test_a_setting_that_means_nothing_makes_status_fail_naming_it(settings, capsys, monkeypatch, variable, value, row):
    monkeypatch.setenv(variable, value)
    capsys.readouterr()
    assert main(["status"]) == 1
    out, err = capsys.readouterr()
    assert f"{variable}={value!r} means nothing" in err
    assert f"ERROR: {variable}={value!r}" in out and "logs NOTHING to Neptune" in out


def test_status_names_versions_mode_project_and_offline_folder(settings, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("NEPTUNE_MODE", "offline")
    monkeypatch.setenv("NEPTUNE_PROJECT", "team/yolo")
    monkeypatch.setenv("NEPTUNE_DATA_DIRECTORY", str(tmp_path / "neptune-data"))
    monkeypatch.delenv("NEPTUNE_API_TOKEN", raising=False)
    shown = status_of(capsys)
    assert shown["neptune client"] == metadata.version("neptune")
    assert shown["connection mode"] == "offline" and shown["project"] == "team/yolo"
    assert shown["offline data"] == str(tmp_path / "neptune-data")
    assert shown["API token"].startswith("unset")
    assert "built-in Neptune callback" in shown
