"""Upstream's settings test follows the settings change: the schema version it expects, and the Neptune key.

Ultralytics' ``tests/test_cli.py::test_settings_migration`` (8.4.132 on) writes a settings file of an older schema,
with ``"neptune": True`` in it, migrates it and asserts the new schema version and that "neptune" is gone. With the key
back, the migration keeps that valid value: the test then expects the bumped version and the kept value.
"""

from __future__ import annotations

import re
from pathlib import Path

from ultralytics_neptune.upstream.contribution import SETTINGS_TEST, Change, _decode

FUNCTION = re.compile(r"^def test_settings_migration\(.*?(?=^(?:def |@|class )|\Z)", re.MULTILINE | re.DOTALL)
GONE = re.compile(r'^(?P<indent>[ \t]+)assert "neptune" not in settings[ \t]*$', re.MULTILINE)
KEPT = 'assert settings["neptune"] is True  # a value of an older schema with the right type is kept'


def settings_test_change(root: Path, old_schema: str, new_schema: str) -> tuple[list, list]:
    """Return ([the change of upstream's settings test], []), or ([], [why it was not changed]).

    Args:
        root (Path): The tree.
        old_schema (str): The settings schema version before the change, e.g. "0.0.8".
        new_schema (str): The settings schema version after it, e.g. "0.0.9".
    """
    path = root / SETTINGS_TEST
    if not path.is_file():
        return [], [f"{SETTINGS_TEST}: not in this tree, so its settings migration test was not updated"]
    old = _decode(path.read_bytes())
    new = with_updated_settings_test(old, old_schema, new_schema)
    if new is None:
        return [], [
            f"{SETTINGS_TEST}: test_settings_migration is not in the expected shape; expect settings_version "
            f'"{new_schema}" there by hand'
        ]
    return [Change(SETTINGS_TEST, old, new)], []


def with_updated_settings_test(text: str, old_schema: str, new_schema: str) -> str | None:
    """Return test_cli.py with test_settings_migration expecting the new schema and the kept Neptune value, or None.

    Args:
        text (str): The content of ``tests/test_cli.py``.
        old_schema (str): The schema version the test expects now.
        new_schema (str): The schema version it must expect.
    """
    functions = list(FUNCTION.finditer(text))
    expected = f'settings["settings_version"] == "{old_schema}"'
    if len(functions) != 1 or functions[0].group().count(expected) != 1:
        return None
    body = functions[0].group().replace(expected, f'settings["settings_version"] == "{new_schema}"')
    if '"neptune": True' in body:  # the old file had the key on: migration keeps it
        body = GONE.sub(lambda line: line["indent"] + KEPT, body, count=1)
    if GONE.search(body):
        return None
    return text[: functions[0].start()] + body + text[functions[0].end() :]
