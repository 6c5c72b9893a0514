"""What the disk-full tests of both clients read in a training's output: the closing line counting what a run lacks
on disk, and the namespaces a clean run has that the faulty one lacks."""

from __future__ import annotations

import re
from collections import Counter

CLOSING = re.compile(r"Neptune: (\d+) operations were not written to disk, so this run lacks them \((.*?)\): (.+)$")


def missing_by_namespace(clean: Counter, faulty: Counter) -> Counter:
    """{namespace: values} the clean run's fields hold and the faulty run's do not."""
    namespaces = Counter()
    for field, count in (clean - faulty).items():
        namespaces[field.split("/")[0]] += count
    return namespaces


def closing_warnings(text: str) -> list:
    return [line for line in text.splitlines() if "were not written to disk" in line]


def neptune_warnings(text: str) -> list:
    return [line for line in text.splitlines() if "WARNING" in line and "Neptune: " in line]


def parse(warning: str) -> tuple:
    """(count, {namespace: count}, cause) of a closing warning."""
    count, listed, cause = CLOSING.search(warning).groups()
    namespaces = Counter({name: int(n) for name, n in (item.rsplit(" ", 1) for item in listed.split(", "))})
    return int(count), namespaces, cause
