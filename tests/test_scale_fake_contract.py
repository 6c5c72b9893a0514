"""The fake ``neptune_scale`` against the real client (0.30.0) in offline mode: the same calls on both, the real one's
SQLite file read back (``offline_scale``), what each kept compared; and the same errors for what both refuse."""

from __future__ import annotations

import struct
import zlib

import pytest

neptune_scale = pytest.importorskip("neptune_scale", reason="the contract needs the real neptune-scale client")

from ultralytics_neptune.offline_scale import read_scale_run, scale_run_folders  # noqa: E402
from ultralytics_neptune.verification.fake import scale as fake  # noqa: E402

QUIET = {"enable_console_log_capture": False, "source_tracking_config": None}


def _png() -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 2, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" + b"\x10" * 6))
        + chunk(b"IEND", b"")
    )


def _comparable(operations: list) -> list:
    """Operations without what differs by construction: a client temp file's name (its pixels are compared)."""
    kept = []
    for op in operations:
        if "image" in op.get("content", {}):
            op = {k: v for k, v in op.items() if k != "file_path"}
        kept.append(op)
    return kept


def both(tmp_path, calls, monkeypatch, **arguments) -> tuple:
    """Run calls(run) on a real offline run and a fake one; return (real read back, fake) as (init_run, ops)."""
    monkeypatch.chdir(tmp_path)
    arguments = {"project": "ws/proj", "run_id": "run-1", "mode": "offline", **QUIET, **arguments}
    real = neptune_scale.Run(log_directory=str(tmp_path / "real"), **arguments)
    calls(real)
    real.close()
    twin = fake.Run(log_directory=str(tmp_path / "fake"), **arguments)
    calls(twin)
    twin.close()
    read = read_scale_run(scale_run_folders(tmp_path / "real")[-1]).trace
    return (read.init_run, _comparable(read.operations)), (twin.init_run, _comparable(twin.operations))


def test_configs_of_every_kept_type_are_written_alike(tmp_path, monkeypatch):
    def calls(run):
        run.log_configs({"a/f": 1.5, "a/i": 3, "a/b": True, "a/s": "x", "a/set": ["p", "q"]})

    real, twin = both(tmp_path, calls, monkeypatch)
    assert real == twin


def test_none_paths_and_dicts_in_configs_are_dropped_alike(tmp_path, monkeypatch):
    from pathlib import Path

    def calls(run):
        run.log_configs({"n": None, "p": Path("/x"), "d": {"x": 1}, "kept": 1})

    real, twin = both(tmp_path, calls, monkeypatch)
    assert real == twin


def test_flatten_nests_dicts_alike(tmp_path, monkeypatch):
    def calls(run):
        run.log_configs({"Configuration": {"Model": {"model/GFLOPs": 8.7}}}, flatten=True)

    real, twin = both(tmp_path, calls, monkeypatch)
    assert real == twin


@pytest.mark.parametrize("client", [neptune_scale.Run, fake.Run], ids=["real", "fake"])
def test_a_list_that_is_not_all_strings_raises_type_error(client, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = client(project="ws/proj", run_id="r", mode="offline", **QUIET)
    with pytest.raises(TypeError):
        run.log_configs({"classes": [0, 1]})
    run.close()


def test_metrics_with_ints_nan_and_repeated_steps_are_written_alike(tmp_path, monkeypatch):
    def calls(run):
        run.log_metrics({"train/box_loss": 1.25, "lr/pg0": 0}, step=1)
        run.log_metrics({"metrics/mAP50(B)": float("nan")}, step=1)
        run.log_metrics({"train/box_loss": 1.0}, step=1)

    real, twin = both(tmp_path, calls, monkeypatch)
    assert str(real) == str(twin)  # NaN != NaN: compared as written


def test_a_metric_that_is_not_a_number_is_dropped_alike(tmp_path, monkeypatch):
    def calls(run):
        run.log_metrics({"m": "high", "kept": 2.0}, step=2)

    real, twin = both(tmp_path, calls, monkeypatch)
    assert real == twin


@pytest.mark.parametrize("client", [neptune_scale.Run, fake.Run], ids=["real", "fake"])
@pytest.mark.parametrize("step,error", [("1", TypeError), (-1, ValueError)])
def test_a_step_the_client_refuses_raises_alike(client, step, error, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = client(project="ws/proj", run_id="r", mode="offline", **QUIET)
    with pytest.raises(error):
        run.log_metrics({"m": 1.0}, step=step)
    run.close()


def test_tags_added_and_removed_are_written_alike(tmp_path, monkeypatch):
    def calls(run):
        run.add_tags(["Ultralytics", "yolo"])
        run.remove_tags(["yolo"])

    real, twin = both(tmp_path, calls, monkeypatch)
    assert real == twin


def test_files_by_path_and_png_bytes_are_written_alike(tmp_path, monkeypatch):
    (tmp_path / "best.pt").write_bytes(b"weights" * 10)
    (tmp_path / "train_batch0.jpg").write_bytes(b"\xff\xd8\xff" + b"0" * 20)

    def calls(run):
        run.assign_files({"weights/train/best.pt": str(tmp_path / "best.pt")})
        run.assign_files({"Mosaic/train_batch0": str(tmp_path / "train_batch0.jpg"), "Plots/results": _png()})

    real, twin = both(tmp_path, calls, monkeypatch)
    assert real == twin


def test_a_missing_file_is_skipped_alike(tmp_path, monkeypatch):
    def calls(run):
        run.assign_files({"weights/train/best.pt": str(tmp_path / "nothing.pt")})

    real, twin = both(tmp_path, calls, monkeypatch)
    assert real == twin


def test_the_experiment_name_is_written_alike(tmp_path, monkeypatch):
    real, twin = both(tmp_path, lambda run: None, monkeypatch, experiment_name="train")
    assert real == twin


def test_calls_after_close_are_ignored_alike(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    real = neptune_scale.Run(
        project="ws/proj", run_id="r", mode="offline", log_directory=str(tmp_path / "real"), **QUIET
    )
    real.close()
    real.log_metrics({"m": 1.0}, step=1)
    twin = fake.Run(project="ws/proj", run_id="r", mode="offline", **QUIET)
    twin.close()
    twin.log_metrics({"m": 1.0}, step=1)
    assert read_scale_run(scale_run_folders(tmp_path / "real")[-1]).trace.operations == twin.operations == []


@pytest.mark.parametrize("client", [neptune_scale.Run, fake.Run], ids=["real", "fake"])
@pytest.mark.parametrize("project", ["Ultralytics", "a/b/c"])
def test_a_project_that_is_not_workspace_slash_name_is_refused(client, project, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="expected format"):
        client(project=project, run_id="r", mode="offline", **QUIET)


@pytest.mark.parametrize("client", [neptune_scale.Run, fake.Run], ids=["real", "fake"])
def test_no_project_is_refused(client, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEPTUNE_PROJECT", raising=False)
    with pytest.raises(Exception) as raised:
        client(run_id="r", mode="offline", **QUIET)
    assert type(raised.value).__name__ == "NeptuneProjectNotProvided"


@pytest.mark.parametrize("client", [neptune_scale.Run, fake.Run], ids=["real", "fake"])
def test_a_run_id_with_a_slash_is_refused(client, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError):
        client(project="ws/proj", run_id="a/b", mode="offline", **QUIET)


@pytest.mark.parametrize("client", [neptune_scale.Run, fake.Run], ids=["real", "fake"])
def test_async_mode_without_a_token_is_refused(client, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEPTUNE_API_TOKEN", raising=False)
    with pytest.raises(Exception) as raised:
        client(project="ws/proj", run_id="r", mode="async", **QUIET)
    assert type(raised.value).__name__ == "NeptuneApiTokenNotProvided"
