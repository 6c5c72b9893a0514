"""What an exported run holds, whatever wrote it: the form every reader produces and every destination writes.

A reader (``offline_runs``, for the offline runs of both Neptune clients) gives a ``SourceRun``: the
run's identity, how many operations it holds, and its contents after its first N operations. Exports are
incremental on that count: a run that grew since its export is brought up to date by comparing the contents of the
operations exported then with those of all of them now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Point:
    """One value of a float series."""

    step: int
    value: float
    timestamp_ms: int


@dataclass(frozen=True)
class ExportFile:
    """One file of a run, at its artifact path (the Neptune field path and its extension).

    Its bytes are in ``source`` (a file on disk) or ``data``; ``missing`` says why there are none ("" when there are).
    """

    artifact_path: str
    field: str
    source: Path | None = None
    data: bytes | None = None
    missing: str = ""


@dataclass
class RunContents:
    """A run's final state after some of its operations.

    ``params`` are the configuration's single values (``Configuration/...``), ``values`` every other single value
    (string sets as their sorted members), ``series`` the float series, ``files`` the uploads, text series and image
    series, ``listed`` what has no place of its own in a tracker (file sets, operations no reader interprets) as
    JSON-ready values. Keys are Neptune field paths.
    """

    name: str = ""
    description: str = ""
    failed: bool | None = None
    params: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)
    series: dict = field(default_factory=dict)  # field -> [Point]
    files: list = field(default_factory=list)  # [ExportFile]
    listed: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)  # what could not be exported, one readable line each


class SourceRun(Protocol):
    """A Neptune run as a reader gives it to a destination."""

    run_id: str
    label: str  # how messages name the run: its name, or the start of its id
    location: str  # where it lies (a folder, a file), as messages and the exported run name it
    created_ms: int
    ended_ms: int
    operations: int  # how many operations it holds now
    problems: list  # what reading it skipped (a truncated or corrupt file...), one readable line each

    def fingerprint(self, operations: int) -> str:
        """A digest of the first ``operations`` operations: equal digests, same operations."""

    def contents(self, operations: int | None = None) -> RunContents:
        """The run's contents after its first ``operations`` operations (all of them by default)."""
