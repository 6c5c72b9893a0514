"""The README's table "What the Neptune 3.x client receives", as data: what each field of a 1.x parity trace
becomes in the 3.x client's SQLite file read back. The expected side of the cross-client check is built from the 1.x
trace and this table only, never from the adapter's code.
"""

from __future__ import annotations

from collections import defaultdict

#: fields the 1.x client writes by itself at init_run: no counterpart in a 3.x run
NO_COUNTERPART = frozenset({"sys/description", "sys/failed"})
#: what each client writes about the machine by itself (1.x: monitoring, source code; 3.x: source tracking, console
#: capture under runtime/): not compared, as between two 1.x runs
ENVIRONMENT = ("monitoring", "source_code", "runtime")
#: 1.x operation type -> 3.x operation type read back (same field path)
TYPES = {
    "AssignFloat": "AssignFloat",
    "AssignInt": "AssignInt",
    "AssignBool": "AssignBool",
    "AssignString": "AssignString",  # sys/name: the experiment name
    "AddStrings": "AddStrings",  # sys/tags: add_tags
    "LogFloats": "LogFloats",  # log_metrics at the same step
    "UploadFile": "UploadFile",  # assign_files: the file by path, a figure as its PNG
}
#: a series point at a step its series already has is not sent (the 3.x server refuses it)
REPEATED_STEP = "dropped"


def _file(op: dict) -> tuple:
    content = op.get("content", {})
    if "image" in content:  # a figure: its pixels (the 1.x figure has no file path; the 3.x one a client temp file)
        return ("file", op.get("ext"), tuple(sorted(content["image"].items())))
    return ("file", op.get("ext"), op.get("file_path"), tuple(sorted(content.items())))


def expected_fields(trace_1x, without: frozenset = frozenset()) -> dict:
    """{field: [comparable item, ...]} a 3.x run must hold for a 1.x trace, per the table."""
    fields: dict = defaultdict(list)
    last_steps: dict = {}
    for op in trace_1x.operations:
        path = "/".join(op["path"])
        if path in NO_COUNTERPART or path in without or path.split("/")[0] in ENVIRONMENT:
            continue
        kind = TYPES[op["type"]]
        if kind == "LogFloats":
            for point in op["values"]:
                if REPEATED_STEP == "dropped" and point["step"] <= last_steps.get(path, float("-inf")):
                    continue
                last_steps[path] = point["step"]
                fields[path].append(("point", point["step"], point["value"]))
        elif kind == "UploadFile":
            fields[path].append(_file(op))
        elif kind == "AddStrings":
            fields[path].append(("strings", tuple(sorted(op["values"]))))
        else:
            fields[path].append((kind, op["value"]))
    return dict(fields)


def actual_fields(trace_3x, without: frozenset = frozenset()) -> dict:
    """{field: [comparable item, ...]} of a 3.x trace read back from the SQLite file."""
    fields: dict = defaultdict(list)
    for op in trace_3x.operations:
        path = "/".join(op["path"])
        if path in without or path.split("/")[0] in ENVIRONMENT:
            continue
        if op["type"] == "LogFloats":
            fields[path].extend(("point", point["step"], point["value"]) for point in op["values"])
        elif op["type"] == "UploadFile":
            fields[path].append(_file(op))
        elif op["type"] == "AddStrings":
            fields[path].append(("strings", tuple(sorted(op["values"]))))
        else:
            fields[path].append((op["type"], op.get("value")))
    return dict(fields)


def differences(trace_1x, trace_3x, without: frozenset = frozenset()) -> list:
    """Every field whose 3.x items differ from what the table expects of the 1.x trace (each field on its own)."""
    expected, actual = expected_fields(trace_1x, without), actual_fields(trace_3x, without)
    found = []
    for path in sorted(set(expected) | set(actual)):
        want, got = expected.get(path), actual.get(path)
        if want != got:
            found.append(f"{path}: expected {want}, got {got}")
    return found
