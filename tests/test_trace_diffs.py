"""Trace differences the version matrix relies on being readable."""

from ultralytics_neptune.trace import Trace, diff_traces


def tags(*values) -> Trace:
    return Trace({}, [{"type": "AddStrings", "path": ["sys", "tags"], "values": list(values)}])


def test_a_changed_run_tag_reads_as_a_difference_of_sys_tags():
    differences = diff_traces(tags("YOLOv8"), tags("Ultralytics"))
    assert len(differences) == 1
    assert differences[0].startswith("sys/tags: expected AddStrings(")
    assert "YOLOv8" in differences[0] and "Ultralytics" in differences[0]
