"""What the built-in Neptune callback logged in each era of Ultralytics, as data.

Every version difference of parity mode is a row here; the callback module reads the row of the installed
Ultralytics and holds no version checks of its own. See REFERENCE section 1 and the README's version table.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

SUPPORT_FLOOR = "8.1.0"
LAST_UPSTREAM = "8.4.131"  # the built-in callback was deleted in 8.4.132

#: plots uploaded at train end by the releases that named them (kept only if the file exists)
FIXED_PLOT_FILES = (
    "results.png",
    "confusion_matrix.png",
    "confusion_matrix_normalized.png",
    "F1_curve.png",
    "PR_curve.png",
    "P_curve.png",
    "R_curve.png",
)


@dataclass(frozen=True)
class Era:
    """How one range of Ultralytics releases logged to Neptune."""

    first: str  # first release of the era
    default_name: str  # Neptune project when args.project is empty, and the run's only tag
    plot_source: str  # "fixed": FIXED_PLOT_FILES in save_dir; "trainer": trainer.plots + validator.plots keys


ERAS = (
    Era(first="8.1.0", default_name="YOLOv8", plot_source="fixed"),
    Era(first="8.3.9", default_name="Ultralytics", plot_source="fixed"),
    Era(first="8.3.235", default_name="Ultralytics", plot_source="trainer"),
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


@cache
def era_for(version: str) -> Era:
    """Return the era of an Ultralytics version; releases after the last upstream one keep its behaviour."""
    release = parse_version(version)
    if release < parse_version(SUPPORT_FLOOR):
        raise ValueError(f"Ultralytics {version} is older than the supported floor {SUPPORT_FLOOR}")
    return [era for era in ERAS if release >= parse_version(era.first)][-1]


def has_upstream_module(version: str) -> bool:
    """Whether this Ultralytics release still ships its own Neptune callback."""
    return parse_version(version) <= parse_version(LAST_UPSTREAM)
