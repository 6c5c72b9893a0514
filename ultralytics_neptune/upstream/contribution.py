"""The changes that contribute our Neptune callback to an Ultralytics source tree, all computed before any is written.

A tree is the folder that holds the ``ultralytics`` package: a git checkout of Ultralytics or an unpacked wheel, of a
release that no longer ships its own Neptune callback (8.4.132 or later). The contribution is the module, its settings
key (off by default, the settings schema version bumped), its entry among the integrations a trainer loads, a test
file, the update of upstream's settings test, and the docs (the Neptune page, the nav, the integrations index and the
quickstart settings table). What the tree has no file for (a wheel has no docs, no mkdocs.yml, no tests) is listed as
unwritten. A tree that cannot take the code raises ``Refusal`` before anything is written; ``write`` then writes every
file or none.
"""

from __future__ import annotations

import difflib
import importlib.util
import os
import re
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from ultralytics_neptune.releases import LAST_UPSTREAM, has_upstream_module, parse_version

OUR_MODULE = "ultralytics_neptune.utils.callbacks.neptune"
TEMPLATES = Path(__file__).parent / "templates"
HEADER = "# Ultralytics 🚀 AGPL-3.0 License - https://ultralytics.com/license\n\n"  # every Ultralytics module starts so
LINE_LENGTH = 120  # Ultralytics' ruff line-length

PACKAGE_INIT = "ultralytics/__init__.py"
MODULE = "ultralytics/utils/callbacks/neptune.py"
SETTINGS = "ultralytics/utils/__init__.py"
INTEGRATIONS = "ultralytics/utils/callbacks/base.py"
DOCS_PAGE = "docs/en/integrations/neptune.md"
TEST_FILE = "tests/test_neptune.py"
SETTINGS_TEST = "tests/test_cli.py"

SETTINGS_KEY_LINE = '"neptune": False,  # Neptune logging'
# the integration line the key goes after, and any line that would mean the tree has a Neptune setting already
MLFLOW_SETTING = re.compile(r'^(?P<indent>[ \t]+)"mlflow": (?:True|False),  #[^\n]*\n', re.MULTILINE)
NEPTUNE_SETTING = re.compile(r'^[ \t]*"neptune"\s*:', re.MULTILINE)
VERSION = re.compile(r'^__version__ = "(?P<version>[^"]+)"', re.MULTILINE)
# the settings schema version, bumped with every change of the settings keys (0.0.7 -> 0.0.8 when neptune was removed)
SCHEMA_VERSION = re.compile(
    r'^(?P<indent>[ \t]+)def __init__\(self, file=SETTINGS_FILE, version="(?P<version>\d+\.\d+\.\d+)"\):\r?\n',
    re.MULTILINE,
)

# add_integration_callbacks from 8.4.177: a loop over the settings keys whose modules a trainer imports. The module
# checks no settings key itself, as Ultralytics' own integrations no longer do: trees before 8.4.177, which imported
# every integration module and let each check its key, are refused.
FIRST_TARGET = "8.4.177"
INTEGRATION_LOOP = re.compile(r'^(?P<indent>[ \t]+)for key in \((?P<keys>"\w+"(?:, "\w+")*)\):\r?\n', re.MULTILINE)


class Refusal(Exception):
    """The tree cannot take the contribution; the message says why."""


@dataclass(frozen=True)
class Change:
    """One file of the contribution: its path in the tree (with "/"), its content now (None if new) and after."""

    path: str
    old: str | None
    new: str


@dataclass(frozen=True)
class Contribution:
    """What ``upstream`` writes into a tree (changes) and what the contribution holds that the tree had no file for."""

    changes: list[Change]
    unwritten: list[str] = field(default_factory=list)
    schema_version: str = ""  # the settings schema version after the change


def plan(root: Path | str) -> Contribution:
    """Return the contribution of our Neptune callback to the Ultralytics tree at root.

    Raises:
        Refusal: root holds no Ultralytics package of a known layout, its release still ships a Neptune callback, or
            the tree has a Neptune module or setting already.
    """
    from ultralytics_neptune.upstream.docs import docs_changes
    from ultralytics_neptune.upstream.settings_test import settings_test_change

    root = Path(root)
    if not (root / PACKAGE_INIT).is_file():
        raise Refusal(f"{root} holds no Ultralytics source tree: {root / PACKAGE_INIT} does not exist")
    version = _version(_read(root, PACKAGE_INIT), root)
    if has_upstream_module(version):
        raise Refusal(
            f"Ultralytics {version} in {root} is older than 8.4.132: releases up to {LAST_UPSTREAM} still ship their "
            "own Neptune callback"
        )
    if parse_version(version) < parse_version(FIRST_TARGET):
        raise Refusal(
            f"Ultralytics {version} in {root} is older than {FIRST_TARGET}: the contribution targets the layout where "
            "add_integration_callbacks imports an integration only when its settings key is on"
        )
    if (root / MODULE).exists():
        raise Refusal(f"{root / MODULE} already exists: this tree already has a Neptune callback")
    settings = _read(root, SETTINGS)
    if NEPTUNE_SETTING.search(settings):
        raise Refusal(f'{root / SETTINGS} already has a "neptune" settings key')
    integrations = _read(root, INTEGRATIONS)
    new_settings, old_schema, new_schema = with_settings_key(settings)
    changes = [
        Change(MODULE, None, module_source()),
        Change(SETTINGS, settings, new_settings),
        Change(INTEGRATIONS, integrations, with_neptune_integration(integrations)),
        _template_change(root, TEST_FILE, "test_neptune.py"),
    ]
    unwritten = []
    for found, missing in (settings_test_change(root, old_schema, new_schema), docs_changes(root)):
        changes.extend(found)
        unwritten.extend(missing)
    return Contribution([change for change in changes if change.old != change.new], unwritten, new_schema)


def module_source() -> str:
    """Return our drop-in module as Ultralytics would hold it: the installed file under Ultralytics' header."""
    return _under_header(_decode(Path(importlib.util.find_spec(OUR_MODULE).origin).read_bytes()))


def _under_header(source: str) -> str:
    """A Python file of ours as a module of Ultralytics' tree: under the header every one of its modules carries."""
    return source if source.startswith(HEADER) else HEADER + source


def with_settings_key(text: str) -> tuple[str, str, str]:
    """Add the "neptune" settings default (off) after the MLflow one and bump the settings schema version.

    Ultralytics bumps ``SettingsManager(version=...)`` with every change of its settings keys; an existing settings
    file of another version is then migrated: values of known keys with the right type are kept, new keys get their
    defaults.

    Args:
        text (str): The content of ``ultralytics/utils/__init__.py``.

    Returns:
        (tuple[str, str, str]): The new content, the schema version before and the schema version after.

    Raises:
        Refusal: the MLflow line of the settings defaults or the schema version is not there exactly once.
    """
    mlflow = _only(MLFLOW_SETTING, text, f'{SETTINGS}: the settings defaults line "mlflow": True,  # ...')
    text = _insert_after(text, mlflow, mlflow["indent"] + SETTINGS_KEY_LINE)
    schema = _only(SCHEMA_VERSION, text, f'{SETTINGS}: def __init__(self, file=SETTINGS_FILE, version="...")')
    old = schema["version"]
    major, minor, patch = old.split(".")
    new = f"{major}.{minor}.{int(patch) + 1}"
    line = schema.group().rstrip("\r\n")
    text = _replace(text, schema, line.replace(f'version="{old}"', f'version="{new}"'))
    return text, old, new


def with_neptune_integration(text: str) -> str:
    """Return ``ultralytics/utils/callbacks/base.py`` with "neptune" among the integrations a trainer loads.

    The key joins, in alphabetical order, the keys whose settings the loop of ``add_integration_callbacks`` reads.
    Where the docstring names the integrations, it names Neptune too.

    Raises:
        Refusal: the loop is not there exactly once, or has no "mlflow".
    """
    if not INTEGRATION_LOOP.search(text):
        raise Refusal(
            f'unrecognised layout: {INTEGRATIONS} has no loop `for key in ("clearml", ...):` over integration keys'
        )
    loop = _only(INTEGRATION_LOOP, text, f"{INTEGRATIONS}: the loop over integration keys")
    keys = re.findall(r'"(\w+)"', loop["keys"])
    if "mlflow" not in keys:
        raise Refusal(f"unrecognised layout: {INTEGRATIONS} loops over ({loop['keys']}), without mlflow")
    keys.insert(next((i for i, key in enumerate(keys) if key > "neptune"), len(keys)), "neptune")
    quoted = ", ".join(f'"{key}"' for key in keys)
    changed = f"{loop['indent']}for key in ({quoted}):"
    if len(changed) > LINE_LENGTH:
        raise Refusal(f"unrecognised layout: with neptune, a line of {INTEGRATIONS} would exceed {LINE_LENGTH}")
    return _with_neptune_in_docstring(_replace(text, loop, changed))


def _insert_after(text: str, line: re.Match, new_line: str) -> str:
    """Insert new_line after a matched line, ended as that line is."""
    ending = line.group()[len(line.group().rstrip("\r\n")) :]
    return text[: line.end()] + new_line + ending + text[line.end() :]


def _replace(text: str, line: re.Match, new_line: str) -> str:
    """Replace a matched line by new_line, ended as that line is."""
    ending = line.group()[len(line.group().rstrip("\r\n")) :]
    return text[: line.start()] + new_line + ending + text[line.end() :]


def _with_neptune_in_docstring(text: str) -> str:
    """Name Neptune after MLflow where the docstring of add_integration_callbacks lists integrations by name."""
    start = text.find("def add_integration_callbacks(")
    opening = text.find('"""', start)
    closing = text.find('"""', opening + 3)
    if start < 0 or opening < 0 or closing < 0:
        return text
    docstring = text[opening:closing]
    if "Neptune" in docstring or not re.search(r"MLflow,\s", docstring):
        return text
    lines = re.sub(r"MLflow,(\s)", r"MLflow, Neptune,\1", docstring, count=1).split("\n")
    edited = next(i for i, line in enumerate(lines) if "Neptune," in line)
    first, last = edited, edited  # the paragraph around the edit: the lines between blank ones
    while first > 0 and lines[first - 1].strip():
        first -= 1
    while last + 1 < len(lines) and lines[last + 1].strip():
        last += 1
    paragraph = lines[first : last + 1]
    if max(map(len, paragraph)) > LINE_LENGTH:  # re-wrapped as Ultralytics' docstring formatter does, greedily
        indent = paragraph[0][: len(paragraph[0]) - len(paragraph[0].lstrip())]
        words = " ".join(line.strip() for line in paragraph)
        wrapped = textwrap.wrap(
            words, LINE_LENGTH, initial_indent=indent, subsequent_indent=indent, break_long_words=False
        )
        lines[first : last + 1] = wrapped
    return text[:opening] + "\n".join(lines) + text[closing:]


def _template_change(root: Path, path: str, template: str) -> Change:
    """The change that puts a template at path: a new file, or a rewrite of the one there."""
    new = _decode((TEMPLATES / template).read_bytes())
    if template.endswith(".py"):
        new = _under_header(new)
    return Change(path, _decode((root / path).read_bytes()) if (root / path).is_file() else None, new)


def _version(text: str, root: Path) -> str:
    found = VERSION.search(text)
    if found is None:
        raise Refusal(f'unrecognised layout: {root / PACKAGE_INIT} has no line __version__ = "..."')
    try:
        parse_version(found["version"])
    except ValueError:
        raise Refusal(f"unrecognised layout: {root / PACKAGE_INIT} has version {found['version']!r}") from None
    return found["version"]


def _only(pattern: re.Pattern, text: str, what: str) -> re.Match:
    """The one match of pattern in text; anything else means a layout this command does not know."""
    found = list(pattern.finditer(text))
    if len(found) != 1:
        raise Refusal(f"unrecognised layout: {what} found {len(found)} times, expected once")
    return found[0]


def _read(root: Path, path: str) -> str:
    try:
        return _decode((root / path).read_bytes())
    except OSError as error:
        raise Refusal(f"unrecognised layout: cannot read {root / path} ({type(error).__name__})") from None


def _decode(data: bytes) -> str:
    return data.decode("utf-8")  # bytes, not read_text: line endings are kept as they are


def unified_diff(changes: list[Change]) -> str:
    """Return every change as one unified diff, paths ``a/...`` and ``b/...`` (``/dev/null`` for new files)."""
    parts = []
    for change in changes:
        lines = difflib.unified_diff(
            _lines(change.old or ""),
            _lines(change.new),
            fromfile="/dev/null" if change.old is None else f"a/{change.path}",
            tofile=f"b/{change.path}",
        )
        for line in lines:
            # a last line without newline is marked as diff and patch expect
            parts.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(parts)


def _lines(text: str) -> list:
    """The lines of text with their ends; only "\n" ends a line, as for diff and patch (str.splitlines would split
    at form feeds and other separators too)."""
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


def write(root: Path | str, changes: list[Change]) -> None:
    """Write every change under root, or none: each file is staged next to its target, then all are renamed."""
    root = Path(root)
    staged = []
    try:
        for change in changes:
            target = root / change.path
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
            staged.append((temporary, target))
            with os.fdopen(handle, "wb") as stream:
                stream.write(change.new.encode("utf-8"))
            os.chmod(temporary, target.stat().st_mode & 0o7777 if target.exists() else 0o666 & ~_umask())
    except BaseException:
        for temporary, _ in staged:
            Path(temporary).unlink(missing_ok=True)
        raise
    for temporary, target in staged:
        os.replace(temporary, target)


def _umask() -> int:
    """The process's umask, which a new file's mode leaves out (mkstemp makes files private)."""
    mask = os.umask(0)  # reading it means setting it; set back at once
    os.umask(mask)
    return mask
