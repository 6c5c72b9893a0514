"""Trace differences the version matrix relies on being readable."""

import pytest

from ultralytics_neptune.trace import Trace, diff_traces


def tags(*values) -> Trace:
    return Trace({}, [{"type": "AddStrings", "path": ["sys", "tags"], "values": list(values)}])


@pytest.mark.xfail(
    raises=AttributeError,
    strict=True,
    reason="trace.describe reads every single-item 'values' as LogFloats; an AddStrings value is a string "
    "(reported to the owner of trace.py; remove this mark and the AttributeError guard in test_era_rules once fixed)",
)
def test_a_changed_run_tag_reads_as_a_difference_of_sys_tags():
    differences = diff_traces(tags("YOLOv8"), tags("Ultralytics"))
    assert len(differences) == 1
    assert differences[0].startswith("sys/tags: expected AddStrings(")
    assert "YOLOv8" in differences[0] and "Ultralytics" in differences[0]
