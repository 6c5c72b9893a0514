"""Faults with the real Neptune 3.x client: what a training without a project, with a bad token, or with a server that
cannot be reached or never answers gets from the adapter (the README's fault table, 3.x rows); servers on loopback.
And the callbacks of both modes travel to DDP workers (cloudpickle) and log the same there."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

pytest.importorskip("neptune_scale", reason="the fault rows need the real neptune-scale client")

from run_checks import outside_pytest

from ultralytics_neptune.offline_scale import read_scale_run, scale_run_folders
from ultralytics_neptune.scale import ScaleBackend
from ultralytics_neptune.verification.recording import load_bundled
from ultralytics_neptune.verification.replay import replay
from ultralytics_neptune.verification.scale_check import scale_callbacks

RECORDING = "ultralytics-8.4.190"


def token_for(address: str) -> str:
    """A well-formed API token naming a server."""
    return base64.b64encode(json.dumps({"api_address": address, "api_url": address, "api_key": "k"}).encode()).decode()


UNREACHABLE = token_for("http://127.0.0.1:9")


class RefusingServer(BaseHTTPRequestHandler):
    """A Neptune server as the client first meets it (its configuration, its sign-in addresses) that refuses the
    token: HTTP 401 to the token exchange."""

    def do_GET(self) -> None:
        address = f"http://127.0.0.1:{self.server.server_address[1]}"
        if self.path.startswith("/api/backend/v1/clients/config"):
            security = {"clientId": "c", "openIdDiscovery": f"{address}/discovery"}
            status, body = 200, {"apiUrl": address, "pyLibVersions": {}, "security": security}
        elif self.path.startswith("/discovery"):
            status, body = 200, {"authorization_endpoint": f"{address}/auth", "token_endpoint": f"{address}/token"}
        else:
            status, body = 401, {"title": "Unauthorized"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        """Quiet."""


@pytest.fixture
def refusing_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), RefusingServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _start(tmp_path, **arguments):
    warnings = []
    run = ScaleBackend().start(
        {"log_directory": str(tmp_path), **arguments}, lambda kind, message: warnings.append(message)
    )
    return run, warnings


def _until(condition, seconds: float = 60) -> None:
    """Wait for what the client's send process reports in the background (at most seconds)."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)


def test_a_training_without_a_project_logs_offline_to_local_and_its_default_name(tmp_path, monkeypatch):
    monkeypatch.delenv("NEPTUNE_PROJECT", raising=False)
    run, _ = _start(tmp_path, project=None, name="train", mode="offline")
    run.stop(seconds=5)
    assert read_scale_run(scale_run_folders(tmp_path)[0]).trace.init_run["project"] == "local/Ultralytics"


def test_an_unreachable_server_keeps_what_was_logged_in_the_sqlite_file_for_a_later_sync(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run, _ = _start(tmp_path, project="ws/proj", mode="async", api_token=UNREACHABLE)
    run["metrics/mAP50(B)"].append(value=0.5, step=1)
    run.stop(seconds=2)
    series = read_scale_run(scale_run_folders(tmp_path)[0]).series()
    assert series["metrics/mAP50(B)"] == [(1, 0.5)]


def test_an_unreachable_server_is_one_warning_naming_it(tmp_path):
    run, warnings = _start(tmp_path, project="ws/proj", mode="async", api_token=UNREACHABLE)
    run["metrics/mAP50(B)"].append(value=0.5, step=1)
    run.flush()
    _until(lambda: warnings)
    run.stop(seconds=2)
    (warning,) = warnings
    assert "cannot send this run (" in warning and "Connection refused" in warning and "for `neptune sync`" in warning


def test_a_token_the_client_cannot_read_logs_the_run_offline_with_one_warning(tmp_path):
    run, warnings = _start(tmp_path, project="ws/proj", mode="async", api_token="not-a-token")
    run["metrics/mAP50(B)"].append(value=0.5, step=1)
    run.stop(seconds=2)
    (warning,) = warnings
    assert "the API token cannot be read (InvalidApiTokenException" in warning and "logged offline" in warning
    assert read_scale_run(scale_run_folders(tmp_path)[0]).series()["metrics/mAP50(B)"] == [(1, 0.5)]


def test_a_token_the_server_refuses_is_one_warning_naming_it_and_the_run_stays_for_sync(tmp_path, refusing_server):
    run, warnings = _start(tmp_path, project="ws/proj", mode="async", api_token=token_for(refusing_server))
    run["metrics/mAP50(B)"].append(value=0.5, step=1)
    run.flush()
    _until(lambda: warnings)
    time.sleep(1.5)  # the client's send process stopping on it: reported later, and not warned about again
    run.stop(seconds=5)
    (warning,) = warnings
    assert "cannot send this run (NeptuneInvalidCredentialsError: The provided API token is invalid" in warning
    assert read_scale_run(scale_run_folders(tmp_path)[0]).series()["metrics/mAP50(B)"] == [(1, 0.5)]


SILENT_SERVER_TRAINING = """
import base64, json, socket, sys, threading, time
from ultralytics_neptune.composed import ParityLogger
from ultralytics_neptune.scale import flush_after_events
from ultralytics_neptune.verification.recording import load_bundled
from ultralytics_neptune.verification.replay import replay

if __name__ == "__main__":
    bound, save_dir, log_directory = float(sys.argv[1]), sys.argv[2], sys.argv[3]
    listener = socket.create_server(("127.0.0.1", 0))  # accepts connections and never answers
    held = []
    threading.Thread(target=lambda: [held.append(listener.accept()) for _ in range(100)], daemon=True).start()
    address = f"http://127.0.0.1:{listener.getsockname()[1]}"
    token = base64.b64encode(json.dumps({"api_address": address, "api_url": address, "api_key": "k"}).encode())
    logger = ParityLogger(client="scale", mode="async", project="ws/p", api_token=token.decode(),
                          log_directory=log_directory)
    logger.module.STOP_TIMEOUT = bound
    seen = {}
    first = {"teardown": lambda trainer: seen.setdefault("teardown", time.monotonic())}
    trainer = replay(load_bundled(sys.argv[4]), [first, flush_after_events(logger.callbacks(), lambda: logger.run)],
                     save_dir)
    seen["teardown waited"] = time.monotonic() - seen.pop("teardown")
    seen["finished"] = (trainer.save_dir / "weights" / "best.pt").exists()
    print(json.dumps(seen), flush=True)
"""


@pytest.fixture(scope="module")
def silent_server_training(tmp_path_factory):
    """A replayed training logging in async mode to a server that accepts and never answers, its stop bounded at
    3 s: (what it reported, its output, its log directory)."""
    workdir = tmp_path_factory.mktemp("silent-server")
    script = workdir / "train.py"
    script.write_text(SILENT_SERVER_TRAINING)
    log_directory = workdir / ".neptune"
    result = subprocess.run(
        [sys.executable, str(script), "3", str(workdir / "save_dir"), str(log_directory), RECORDING],
        capture_output=True,
        text=True,
        env=outside_pytest(),
        timeout=50,  # the client's send process, left retrying, held the interpreter's exit 60 s and more
    )
    report = json.loads([line for line in result.stdout.splitlines() if line.startswith("{")][-1])
    return report, result.stdout + result.stderr, log_directory


def test_with_a_server_that_never_answers_the_training_completes(silent_server_training):
    report, output, _ = silent_server_training
    assert report["finished"], output[-3000:]


def test_with_a_server_that_never_answers_teardown_waits_its_bound_then_says_what_stays_for_sync(
    silent_server_training,
):
    report, output, _ = silent_server_training
    assert report["teardown waited"] >= 3 - 0.5
    assert "Neptune: the server did not take every operation within 3.0 s; the rest stays in" in output


def test_with_a_server_that_never_answers_every_series_point_stays_in_the_sqlite_file(silent_server_training):
    *_, log_directory = silent_server_training
    series = read_scale_run(scale_run_folders(log_directory)[0]).series()
    assert [step for step, _ in series["metrics/mAP50(B)"]] == [1, 2, 3, 4]


UNGUARDED_SCRIPT = """
import base64, json, os, sys
from ultralytics_neptune.scale import ScaleBackend

print("the script's body runs", flush=True)  # a training, in a script without `if __name__ == "__main__":`
token = base64.b64encode(json.dumps({"api_address": sys.argv[2], "api_url": sys.argv[2], "api_key": "k"}).encode())
warnings = []
run = ScaleBackend().start(
    {"log_directory": sys.argv[1], "project": "ws/p", "mode": "async", "api_token": token.decode()},
    lambda kind, message: warnings.append(message),
)
run["metrics/mAP50(B)"].append(value=0.5, step=1)
run.flush()
for _ in range(600):  # until the send process reports the server out of reach (60 s at most)
    if warnings:
        break
    __import__("time").sleep(0.1)
run.stop(seconds=1)
print("warnings:", json.dumps(warnings), flush=True)
"""


def test_the_send_process_of_async_mode_does_not_run_an_unguarded_main_script_again(tmp_path):
    """The client spawns its send process; "spawn" runs the main script again in it unless told not to, and a script
    that trains at its top level would train twice."""
    script = tmp_path / "train.py"
    script.write_text(UNGUARDED_SCRIPT)
    result = subprocess.run(
        [sys.executable, str(script), str(tmp_path / ".neptune"), "http://127.0.0.1:9"],
        capture_output=True,
        text=True,
        env=outside_pytest(),
        timeout=120,
    )
    assert result.stdout.count("the script's body runs") == 1, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Connection refused" in result.stdout  # and the send process did its work: it met the server's refusal


RELEASE = RECORDING.removeprefix("ultralytics-")


def _logged(callbacks, directory, save_dir) -> dict:
    """{field: its operations in order} a replay through callbacks wrote to the SQLite file in directory (not the
    client's own fields), a figure by its pixels (the client stores its bytes under a random name). Fields, not one
    sequence: where the run's start lands among the events changes which values share a step's call."""
    replay(load_bundled(RECORDING), callbacks, save_dir)
    fields: dict = {}
    for op in read_scale_run(scale_run_folders(directory)[0]).trace.relative_to(save_dir).operations:
        if op["path"][0] not in ("source_code", "runtime"):
            op = {**op, "file_path": None} if "image" in op.get("content", {}) else op
            fields.setdefault("/".join(op["path"]), []).append(op)
    return fields


@pytest.mark.parametrize("extended", [False, True], ids=["parity", "extended"])
def test_callbacks_sent_to_ddp_workers_by_cloudpickle_log_what_they_log_here(extended, tmp_path):
    """From 8.4.140 Ultralytics sends ``trainer.callbacks`` to every DDP rank with cloudpickle."""
    import cloudpickle

    _, here = scale_callbacks(RELEASE, tmp_path / "here", extended)
    _, callbacks = scale_callbacks(RELEASE, tmp_path / "there", extended)
    travelled = cloudpickle.loads(cloudpickle.dumps(callbacks))
    assert _logged(travelled, tmp_path / "there", tmp_path / "there-save_dir") == _logged(
        here, tmp_path / "here", tmp_path / "here-save_dir"
    )
