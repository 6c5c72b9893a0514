"""Testing tools: a fake neptune client, recordings of real trainings, replays, traces and parity checks."""

from ultralytics_neptune.trace import Trace, TraceMismatch, assert_traces_equal, diff_traces
from ultralytics_neptune.verification.fake import FakeNeptune
from ultralytics_neptune.verification.recording import Recording, bundled_recordings, load_bundled
from ultralytics_neptune.verification.replay import ReplayTrainer, replay

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
