"""The cross-client check: on every bundled recording, what parity mode logs through the Neptune 3.x adapter and the
real ``neptune-scale`` client offline (its SQLite file read back with the client's protobuf classes) holds every
field, value and step of the 1.x parity trace, mapped by the README's table (``scale_mapping``), and nothing else;
and mutations of the adapter make the check fail."""

from __future__ import annotations

import pytest

pytest.importorskip("neptune_scale", reason="the cross-client check needs the real neptune-scale client")

from scale_mapping import differences

from ultralytics_neptune.scale import ScaleRun
from ultralytics_neptune.verification.parity import our_trace
from ultralytics_neptune.verification.recording import Recording, bundled_recordings
from ultralytics_neptune.verification.scale_check import scale_replay

NAMES = sorted(bundled_recordings())
MUTATED_ON = "ultralytics-8.4.131"


def _check(recording: Recording, workdir) -> tuple:
    expected = our_trace(recording, workdir / "1x")
    actual, runs = scale_replay(recording, workdir / "3x")
    return differences(expected, actual), runs


@pytest.mark.parametrize("name", NAMES)
def test_the_3x_run_holds_every_field_value_and_step_of_the_1x_parity_trace(name, tmp_path):
    found, runs = _check(Recording.load(bundled_recordings()[name]), tmp_path)
    assert runs == 1
    assert found == []


@pytest.fixture
def mutated_recording():
    return Recording.load(bundled_recordings()[MUTATED_ON])


def test_a_dropped_series_fails_the_check(mutated_recording, tmp_path, monkeypatch):
    original = ScaleRun.add_point

    def dropping(self, key, value, step):
        if key != "metrics/mAP50(B)":
            original(self, key, value, step)

    monkeypatch.setattr(ScaleRun, "add_point", dropping)
    found, _ = _check(mutated_recording, tmp_path)
    assert [line for line in found if line.startswith("metrics/mAP50(B):")]


def test_a_step_off_by_one_fails_the_check(mutated_recording, tmp_path, monkeypatch):
    original = ScaleRun.add_point
    monkeypatch.setattr(ScaleRun, "add_point", lambda self, key, value, step: original(self, key, value, step + 1))
    found, _ = _check(mutated_recording, tmp_path)
    assert any(line.startswith("train/box_loss:") for line in found)


def test_a_missing_upload_fails_the_check(mutated_recording, tmp_path, monkeypatch):
    original = ScaleRun.upload

    def skipping(self, key, value):
        if not key.startswith("weights/"):
            original(self, key, value)

    monkeypatch.setattr(ScaleRun, "upload", skipping)
    found, _ = _check(mutated_recording, tmp_path)
    assert any(line.startswith("weights/") for line in found)
