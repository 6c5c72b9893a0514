"""The package runs the contributed module's own file, composed from outside: one source, the process left as found,
callbacks that travel to DDP workers."""

from __future__ import annotations

import atexit
import builtins
import importlib.util
import sys
import threading
from pathlib import Path

import pytest

from ultralytics_neptune import composed, neptune_callbacks
from ultralytics_neptune.starting import StartingRun
from ultralytics_neptune.trace import Trace, diff_traces
from ultralytics_neptune.upstream.contribution import HEADER, module_source
from ultralytics_neptune.verification import parity
from ultralytics_neptune.verification.mutation import change_module_source
from ultralytics_neptune.verification.recording import load_bundled

NEWEST = "ultralytics-8.4.190"


def test_the_file_the_package_runs_is_the_file_upstream_writes_byte_for_byte():
    shipped = Path(importlib.util.find_spec(composed.MODULE).origin)
    assert composed.module_path() == shipped
    assert module_source().encode("utf-8") == HEADER.encode("utf-8") + shipped.read_bytes()


def test_each_registration_runs_that_files_code_in_a_module_of_its_own(parity_logger):
    other = composed.ParityLogger()
    assert parity_logger.module.__file__ == other.module.__file__ == str(composed.module_path())
    assert parity_logger.module is not other.module
    assert parity_logger.module.on_val_end.__code__.co_filename == str(composed.module_path())


def test_a_loss_key_dropped_from_the_shipped_file_fails_parity_on_the_newest_release(monkeypatch, tmp_path):
    change_module_source(
        monkeypatch,
        '_log_scalars(trainer.label_loss_items(trainer.tloss, prefix="train"), trainer.epoch + 1)',
        '_log_scalars(dict(list(trainer.label_loss_items(trainer.tloss, prefix="train").items())[1:]), '
        "trainer.epoch + 1)",
    )
    result = parity.check_against_golden(load_bundled(NEWEST), tmp_path)
    assert not result.passed
    assert any(line.startswith("train/box_loss") for line in result.differences), result.differences[:5]


def test_loading_the_module_leaves_the_process_as_it_found_it(parity_logger):
    import ultralytics.utils

    modules = set(sys.modules)
    composed.ParityLogger()
    assert set(sys.modules) == modules  # no client imported, no stand-in put in sys.modules
    assert ultralytics.utils.TESTS_RUNNING  # the stand-in is the module's alone
    assert builtins.__import__ is vars(builtins)["__import__"] and parity_logger.module.__builtins__ is not builtins


def test_any_number_of_runs_registers_one_exit_handler_for_the_process():
    StartingRun({}, warn=print)
    handlers = atexit._ncallbacks()
    for _ in range(3):
        StartingRun({}, warn=print)
    assert atexit._ncallbacks() == handlers


def trace_of_last_run(fake, trainer) -> Trace:
    trace = Trace.from_run(fake.last_run, trainer.save_dir).without_environment()
    trace.init_run.pop("custom_run_id", None)
    return trace


@pytest.mark.parametrize("extended", [False, True], ids=["parity", "extended"])
def test_callbacks_sent_to_ddp_workers_by_cloudpickle_log_what_they_log_here(
    extended, neptune_fake, neptune_replay, latest_recording
):
    """From 8.4.140 Ultralytics sends ``trainer.callbacks`` to every DDP rank with cloudpickle."""
    import cloudpickle

    here = neptune_replay(latest_recording, neptune_callbacks(extended=extended))
    expected = trace_of_last_run(neptune_fake, here)
    travelled = cloudpickle.loads(cloudpickle.dumps(neptune_callbacks(extended=extended)))
    there = neptune_replay(latest_recording, travelled)
    assert diff_traces(expected, trace_of_last_run(neptune_fake, there)) == []


def test_a_file_logged_while_the_client_is_still_importing_waits_for_the_import(monkeypatch):
    """On the start thread, ``neptune.types`` is in ``sys.modules`` before it has ``File``: a file logged then must
    not be made from the half-imported module (a real race, found by the live check under load)."""
    import types

    from ultralytics_neptune import starting

    monkeypatch.setattr(starting, "_client_imported", threading.Event())
    monkeypatch.setitem(sys.modules, "neptune.types", types.ModuleType("neptune.types"))
    assert isinstance(starting.client_file("runs/train/results.png"), starting.PendingFile)


def test_a_file_logged_once_the_client_is_imported_is_the_clients_file(neptune_fake, monkeypatch):
    from ultralytics_neptune import starting

    imported = threading.Event()
    imported.set()
    monkeypatch.setattr(starting, "_client_imported", imported)
    assert isinstance(starting.client_file("runs/train/results.png"), neptune_fake.module.types.File)
