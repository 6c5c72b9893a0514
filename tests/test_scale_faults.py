"""Faults with the real Neptune 3.x client: what a training without a project, or with a server that cannot be
reached, gets from the adapter (the README's fault table, 3.x rows)."""

from __future__ import annotations

import base64
import json

import pytest

pytest.importorskip("neptune_scale", reason="the fault rows need the real neptune-scale client")

from ultralytics_neptune.offline_scale import read_scale_run, scale_run_folders
from ultralytics_neptune.scale import ScaleBackend

UNREACHABLE = base64.b64encode(
    json.dumps({"api_url": "http://127.0.0.1:9", "api_address": "http://127.0.0.1:9"}).encode()
)


def _start(tmp_path, **arguments):
    warnings = []
    run = ScaleBackend().start(
        {"log_directory": str(tmp_path), **arguments}, lambda kind, message: warnings.append(message)
    )
    return run, warnings


def test_a_training_without_a_project_logs_offline_to_local_and_its_default_name(tmp_path, monkeypatch):
    monkeypatch.delenv("NEPTUNE_PROJECT", raising=False)
    run, _ = _start(tmp_path, project=None, name="train", mode="offline")
    run.stop(seconds=5)
    assert read_scale_run(scale_run_folders(tmp_path)[0]).trace.init_run["project"] == "local/Ultralytics"


def test_an_unreachable_server_keeps_what_was_logged_in_the_sqlite_file_for_a_later_sync(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run, _ = _start(tmp_path, project="ws/proj", mode="async", api_token=UNREACHABLE.decode())
    run["metrics/mAP50(B)"].append(value=0.5, step=1)
    run.stop(seconds=2)
    series = read_scale_run(scale_run_folders(tmp_path)[0]).series()
    assert series["metrics/mAP50(B)"] == [(1, 0.5)]
