"""Testing tools: a fake neptune client, recordings of real trainings, replays, traces and parity checks."""

from ultralytics_neptune.testing.fake_neptune import FakeNeptune
from ultralytics_neptune.testing.recording import Recording, bundled_recordings, load_bundled
from ultralytics_neptune.testing.replay import ReplayTrainer, replay
from ultralytics_neptune.trace import Trace, TraceMismatch, assert_traces_equal, diff_traces

__all__ = [
    "FakeNeptune",
    "Recording",
    "ReplayTrainer",
    "Trace",
    "TraceMismatch",
    "assert_traces_equal",
    "bundled_recordings",
    "diff_traces",
    "load_bundled",
    "replay",
]
