"""Test set-up: Ultralytics runs without network or user settings (set before anything imports it), and replays of
the bundled recordings shared by every test of a session."""

from __future__ import annotations

import copy
import tempfile

import pytest

from ultralytics_neptune.synthetic import apply_offline_environment

pytest_plugins = ["pytester", "skip_allow_list"]  # skip_allow_list: a skip not allowed fails the run

SCRATCH = tempfile.mkdtemp(prefix="ultralytics-neptune-tests-")
apply_offline_environment(SCRATCH)


@pytest.fixture
def neptune_module():
    """The contributed module imported as Ultralytics would import it (its guard is closed under pytest)."""
    from ultralytics_neptune.utils.callbacks import neptune as module

    return module


@pytest.fixture
def parity_logger():
    """Parity mode as one registration makes it: the contributed module's code run by the package."""
    from ultralytics_neptune.composed import ParityLogger

    return ParityLogger()


@pytest.fixture
def parity_callbacks(parity_logger):
    """The callbacks a registration adds in parity mode."""
    return parity_logger.callbacks()


@pytest.fixture(scope="session")
def last_upstream_module(tmp_path_factory):
    """The Neptune callback file of 8.4.131, the last release that had one, from its wheel on the package index (so
    that upstream's behaviour is checked in every environment, whatever Ultralytics is installed)."""
    from ultralytics_neptune.releases import LAST_UPSTREAM
    from ultralytics_neptune.verification import parity

    return parity.released_module_path(LAST_UPSTREAM, tmp_path_factory.mktemp("upstream-module"))


@pytest.fixture
def upstream_callbacks(last_upstream_module):
    """upstream_callbacks() -> the callbacks of a fresh copy of 8.4.131's own module, bound to the neptune client in
    sys.modules now (call it after installing the fake)."""
    from ultralytics_neptune.releases import LAST_UPSTREAM
    from ultralytics_neptune.verification import parity

    return lambda: parity.released_callbacks(LAST_UPSTREAM, last_upstream_module)


@pytest.fixture(scope="session")
def latest_recording(neptune_recordings):
    """The detect recording of the newest Ultralytics bundled."""
    return [recording for recording in neptune_recordings.values() if recording.task == "detect"][-1]


@pytest.fixture(autouse=True)
def close_figures():
    """Parity mode leaves its figures open, as upstream did; tests close them."""
    yield
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


@pytest.fixture
def broken_step(monkeypatch):
    """Make the package run a copy of the contributed module's code that logs every series one step late."""
    from ultralytics_neptune.verification.mutation import change_module_source

    change_module_source(monkeypatch, "run[k].append(value=v, step=step)", "run[k].append(value=v, step=step + 1)")


class Replays:
    """Traces of bundled recordings replayed through our module and the installed upstream module, each made once.

    Replays in parity mode re-draw every plot on a matplotlib figure (about 0.3 s a plot), so tests share them;
    each caller gets its own copy to change.
    """

    def __init__(self, workdir):
        from ultralytics_neptune.verification import parity

        self.workdir = workdir
        self._traces: dict = {}
        # the replaying functions themselves, not whatever stands in their place when a test serves traces from here
        self._our_trace, self._upstream_trace = parity.our_trace, parity.upstream_trace

    def ours(self, name: str, as_release: str | None = None, extended: bool = False):
        """Our module's trace on a recording, behaving as a release (default: the recording's)."""
        recording = self._recording(name)
        release = as_release or recording.ultralytics_version
        return self._trace(
            ("ours", name, release, extended),
            lambda folder: self._our_trace(recording, folder, version=release, extended=extended),
        )

    def upstream(self, name: str):
        """The installed upstream module's trace on a recording (LookupError where there is none)."""
        return self._trace(("upstream", name), lambda folder: self._upstream_trace(self._recording(name), folder))

    def our_trace(self, recording, workdir, version: str | None = None, extended: bool = False):
        """``parity.our_trace`` served from the shared replays, for tests of what is done with traces."""
        return self.ours(recording.name, version, extended)

    def upstream_trace(self, recording, workdir):
        """``parity.upstream_trace`` served from the shared replays."""
        return self.upstream(recording.name)

    def _recording(self, name: str):
        from ultralytics_neptune.verification.recording import load_bundled

        return load_bundled(name)

    def _trace(self, key: tuple, replay):
        if key not in self._traces:
            with tempfile.TemporaryDirectory(dir=self.workdir) as folder:  # a replay leaves megabytes of images
                self._traces[key] = replay(folder)
        return copy.deepcopy(self._traces[key])


@pytest.fixture(scope="session")
def replays(tmp_path_factory) -> Replays:
    """The session's shared replays of bundled recordings (see ``Replays``)."""
    return Replays(tmp_path_factory.mktemp("replays"))


@pytest.fixture
def shared_replays(replays, monkeypatch):
    """Make the parity suite and command take our module's traces from the shared replays (for tests of the table and
    the exit code, not of the traces)."""
    from ultralytics_neptune.verification import parity

    monkeypatch.setattr(parity, "our_trace", replays.our_trace)
    monkeypatch.setattr(parity, "upstream_trace", replays.upstream_trace)
    return replays
