"""Which Ultralytics releases ship their own Neptune callback. What each release's callback logged is the table
``ERAS`` of the drop-in module (``ultralytics_neptune/utils/callbacks/neptune.py``), not here."""

from __future__ import annotations

LAST_UPSTREAM = "8.4.131"  # the built-in callback was deleted in 8.4.132


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


def has_upstream_module(version: str) -> bool:
    """Whether this Ultralytics release still ships its own Neptune callback."""
    return parse_version(version) <= parse_version(LAST_UPSTREAM)
