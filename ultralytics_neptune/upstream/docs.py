"""The docs of the contribution, in the layout of Ultralytics' repository (a git checkout; a wheel has none of it).

- ``docs/en/integrations/neptune.md``: the page of a supported integration. PR #25972 (8.4.132) kept the old page as a
  short historical one; its history note (the page's admonitions) is kept, at the top, where ours would be.
- ``mkdocs.yml``: the page in the nav, after MLflow's; a redirect of the page elsewhere is dropped.
- ``docs/en/integrations/index.md``: the Neptune entry links to the page, after MLflow's entry if there was none.
- ``docs/en/quickstart.md``: a ``neptune`` row in the settings table, after ``mlflow``, and its ``[Neptune]`` link.

A file the tree does not have, or whose layout is not the expected one, is left alone and listed as unwritten.
"""

from __future__ import annotations

import re
from pathlib import Path

from ultralytics_neptune.upstream.contribution import DOCS_PAGE, TEMPLATES, Change, _decode

MKDOCS = "mkdocs.yml"
INDEX = "docs/en/integrations/index.md"
QUICKSTART = "docs/en/quickstart.md"
HISTORY_MARKER = "<!-- history -->\n"
AGAIN = (
    "The integration is supported again, off by default, for self-hosted Neptune servers, offline runs and "
    "Neptune-compatible services.\n"
)
OUR_NOTE = (
    '!!! note "Neptune\'s hosted service"\n\n'
    "    Neptune was acquired by OpenAI, and its hosted (SaaS) service stopped on March 5, 2026. Self-hosted Neptune "
    "servers keep working, and the client's offline mode works without any server: runs are written to disk and can "
    "be synchronized to a Neptune server later.\n"
)
INDEX_ENTRY = (
    "- [Neptune](neptune.md): Log Ultralytics trainings to a self-hosted Neptune server or offline, with "
    "hyperparameters, metrics, plots and weights in one run."
)
SETTINGS_ROW = ["`neptune`", "`False`", "`bool`", "Option to use [Neptune] for experiment tracking"]
NEPTUNE_LINK = "[Neptune]: ./integrations/neptune.md"

ADMONITION = re.compile(r"^!!! .*\n(?:(?:[ \t]*\n)*(?:    |\t).*\n)*", re.MULTILINE)
FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)
NAV_MLFLOW = re.compile(r"^(?P<indent>[ \t]*)- [^:\n]+: integrations/mlflow\.md[ \t]*\r?\n", re.MULTILINE)
NAV_NEPTUNE = re.compile(r"^[ \t]*- [^:\n]+: integrations/neptune\.md[ \t]*$", re.MULTILINE)
REDIRECT = re.compile(r"^[ \t]*[\"']?integrations/neptune\.md[\"']?:[ \t]*\S+[ \t]*\r?\n", re.MULTILINE)
INDEX_MLFLOW = re.compile(r"^- \[ML[Ff]low\]\(mlflow\.md\).*\n", re.MULTILINE)
INDEX_NEPTUNE = re.compile(r"^- \[Neptune\]\([^)]*\).*$", re.MULTILINE)
LINK_MLFLOW = re.compile(r"^\[ML[Ff]low\]: .*\n", re.MULTILINE)
LINK_NEPTUNE = re.compile(r"^\[Neptune\]: .*$", re.MULTILINE)


def docs_changes(root: Path) -> tuple[list, list]:
    """Return the changes of the docs in the tree at root, and what could not be written, one line each."""
    changes, unwritten = [page_change(root)], []
    for path, edit, what in (
        (MKDOCS, with_nav_entry, "the nav entry of the Neptune page"),
        (INDEX, with_index_entry, "the Neptune entry of the integrations index"),
        (QUICKSTART, with_settings_row, "the neptune row of the settings table"),
    ):
        if not (root / path).is_file():
            unwritten.append(f"{path}: not in this tree, so {what} was not written")
            continue
        old = _decode((root / path).read_bytes())
        new = edit(old)
        if new is None:
            unwritten.append(f"{path}: not in the expected layout, so {what} was not written")
        else:
            changes.append(Change(path, old, new))
    return changes, unwritten


def page_change(root: Path) -> Change:
    """The Neptune page: our page, under the history note of the page the tree has (or ours, if it has none)."""
    old = _decode((root / DOCS_PAGE).read_bytes()) if (root / DOCS_PAGE).is_file() else None
    note = history_note(old) + "\n" + AGAIN if old is not None else OUR_NOTE
    return Change(DOCS_PAGE, old, _decode((TEMPLATES / "neptune.md").read_bytes()).replace(HISTORY_MARKER, note))


def history_note(page: str) -> str:
    """The history note of a page: its admonitions, as they are; a page without one, its text as a note."""
    body = FRONT_MATTER.sub("", page, count=1)
    notes = [block.group().rstrip("\n") + "\n" for block in ADMONITION.finditer(body)]
    if notes:
        return "\n".join(notes)
    text = [line for line in body.splitlines() if not line.startswith("# ")]
    indented = "".join(f"    {line}\n" if line.strip() else "\n" for line in text).strip("\n")
    return '!!! note "History"\n\n' + indented + "\n"


def with_nav_entry(text: str) -> str | None:
    """Return mkdocs.yml with the Neptune page in the nav after MLflow's, redirects of the page dropped; None if no
    MLflow nav entry is there exactly once."""
    text = REDIRECT.sub("", text)
    if NAV_NEPTUNE.search(text):
        return text
    found = list(NAV_MLFLOW.finditer(text))
    if len(found) != 1:
        return None
    line = found[0]
    ending = line.group()[len(line.group().rstrip("\r\n")) :]
    return text[: line.end()] + f"{line['indent']}- Neptune: integrations/neptune.md{ending}" + text[line.end() :]


def with_index_entry(text: str) -> str | None:
    """Return the integrations index with a Neptune entry linking to the page (after MLflow's if it had none), or
    None if it has neither."""
    if INDEX_NEPTUNE.search(text):
        return INDEX_NEPTUNE.sub(INDEX_ENTRY, text, count=1)
    found = list(INDEX_MLFLOW.finditer(text))
    if len(found) != 1:
        return None
    end = found[0].end()
    spaced = text[end : end + 1] == "\n"  # entries separated by blank lines, as the index writes them
    return text[:end] + ("\n" if spaced else "") + INDEX_ENTRY + "\n" + text[end:]


def with_settings_row(text: str) -> str | None:
    """Return the quickstart with a neptune row after the mlflow row of its settings table and a [Neptune] link
    reference to the page; None without an mlflow row."""
    lines = text.split("\n")
    rows = [i for i, line in enumerate(lines) if line.startswith("| `mlflow`")]
    if len(rows) != 1 or any(line.startswith("| `neptune`") for line in lines):
        return None
    first = last = rows[0]
    while first > 0 and lines[first - 1].startswith("|"):
        first -= 1
    while last + 1 < len(lines) and lines[last + 1].startswith("|"):
        last += 1
    table = [_cells(line) for line in lines[first : last + 1]]
    table.insert(rows[0] - first + 1, SETTINGS_ROW)
    if len({len(row) for row in table}) != 1 or len(table) < 3:
        return None
    lines[first : last + 1] = _aligned(table)
    text = "\n".join(lines)
    if LINK_NEPTUNE.search(text):
        return LINK_NEPTUNE.sub(NEPTUNE_LINK, text, count=1)
    mlflow = LINK_MLFLOW.search(text)
    if mlflow is None:
        return text.rstrip("\n") + "\n" + NEPTUNE_LINK + "\n"
    return text[: mlflow.end()] + NEPTUNE_LINK + "\n" + text[mlflow.end() :]


def _cells(line: str) -> list:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _aligned(table: list) -> list:
    """The rows of a markdown table (the second one the separator), padded as Prettier pads them."""
    widths = [max(3, *(len(row[column]) for i, row in enumerate(table) if i != 1)) for column in range(len(table[0]))]
    rows = []
    for i, row in enumerate(table):
        cells = ["-" * width if i == 1 else cell.ljust(width) for cell, width in zip(row, widths)]
        rows.append("| " + " | ".join(cells) + " |")
    return rows
