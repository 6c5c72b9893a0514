"""Ultralytics releases and what their Neptune callback logged differently: the era table, as data.

The contributed module (``ultralytics_neptune/utils/callbacks/neptune.py``) is written for the newest era; the package
makes it behave as an older release's callback from this table (``ultralytics_neptune.composed``).
"""

from __future__ import annotations

from typing import NamedTuple

LAST_UPSTREAM = "8.4.131"  # the built-in callback was deleted in 8.4.132


class Era(NamedTuple):
    """What the callback of a range of releases logged differently.

    ``first``: the first release of the era; ``default_name``: the default project and the only tag; ``plots``: which
    plots train end uploads, ``"fixed"`` (the files of FIXED_PLOTS found in the run folder) or ``"registered"``
    (every plot the trainer and validator registered, batch images excepted).
    """

    first: tuple
    default_name: str
    plots: str


ERAS = (  # oldest first
    Era((8, 1, 0), "YOLOv8", "fixed"),
    Era((8, 3, 9), "Ultralytics", "fixed"),
    Era((8, 3, 235), "Ultralytics", "registered"),
)
FIXED_PLOTS = (
    "results.png",
    "confusion_matrix.png",
    "confusion_matrix_normalized.png",
    "F1_curve.png",
    "PR_curve.png",
    "P_curve.png",
    "R_curve.png",
)


def parse_version(version: str) -> tuple[int, ...]:
    """Return the numeric release of a version string: "8.4.131" -> (8, 4, 131); suffixes are ignored."""
    numbers = []
    for part in version.split("."):
        digits = ""
        for char in part:
            if not char.isdigit():
                break
            digits += char
        if not digits:
            break
        numbers.append(int(digits))
        if len(digits) != len(part):
            break
    if not numbers:
        raise ValueError(f"not a release version: {version!r}")
    return tuple(numbers)


def era_of(version: str) -> Era:
    """The era of a release (the first era for releases older than the table)."""
    release = parse_version(version)
    return next((era for era in reversed(ERAS) if release >= era.first), ERAS[0])


def has_upstream_module(version: str) -> bool:
    """Whether this Ultralytics release still ships its own Neptune callback."""
    return parse_version(version) <= parse_version(LAST_UPSTREAM)
