"""`ultralytics-neptune enable`, `disable` and `status`."""

import json
from importlib import metadata

import pytest

from ultralytics_neptune.cli import main


@pytest.fixture
def settings(tmp_path, monkeypatch):
    path = tmp_path / "settings.json"
    monkeypatch.setenv("ULTRALYTICS_NEPTUNE_SETTINGS", str(path))
    monkeypatch.delenv("ULTRALYTICS_NEPTUNE", raising=False)
    monkeypatch.delenv("ULTRALYTICS_NEPTUNE_EXTENDED", raising=False)
    return path


def status_of(capsys) -> dict:
    capsys.readouterr()
    assert main(["status"]) == 0
    rows = [line.split("  ", 1) for line in capsys.readouterr().out.splitlines() if "  " in line]
    return {label.strip(): value.strip() for label, value in rows}


def test_enable_saves_the_switch_and_status_shows_it(settings, capsys):
    assert main(["enable", "--extended"]) == 0
    assert json.loads(settings.read_text()) == {"enabled": True, "extended": True}
    shown = status_of(capsys)
    assert shown["automatic registration"] == f"on (from {settings})"
    assert shown["logging mode"] == "extended (settings)"


def test_disable_turns_it_off(settings, capsys):
    main(["enable"])
    assert main(["disable"]) == 0
    assert json.loads(settings.read_text())["enabled"] is False
    assert status_of(capsys)["automatic registration"].startswith("off")


def test_the_environment_variable_is_named_as_the_source_when_set(settings, capsys, monkeypatch):
    monkeypatch.setenv("ULTRALYTICS_NEPTUNE", "1")
    assert status_of(capsys)["automatic registration"] == "on (from ULTRALYTICS_NEPTUNE environment variable)"


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
