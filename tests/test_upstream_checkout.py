"""The upstream command on a git checkout of Ultralytics: the docs, the nav, the index, the quickstart settings table
and upstream's settings test, which an unpacked wheel does not have.

The checkout is the installed ultralytics package with small files around it, written here after the layout of
Ultralytics' repository (8.4.190: tests/test_cli.py::test_settings_migration, as PR #25972 left it; docs/en, mkdocs.yml
with the nav of the integrations; the Neptune page kept by PR #25972 as a short historical one with its notice).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_upstream import (
    DOCS_PAGE,
    TEST_FILE,
    changes,
    copy_installed_ultralytics,
    diff_targets,
    formatted,
    pytest_in_tree,
    upstream,
)

from ultralytics_neptune.upstream import docs
from ultralytics_neptune.upstream.pr_body import MEASURED
from ultralytics_neptune.upstream.settings_test import with_updated_settings_test

SETTINGS_TEST = "tests/test_cli.py"
MKDOCS = "mkdocs.yml"
INDEX = "docs/en/integrations/index.md"
QUICKSTART = "docs/en/quickstart.md"

HISTORY_NOTE = """\
!!! warning "Retired integration"

    Ultralytics no longer ships a Neptune callback: the hosted service closed in March 2026.

    Runs logged before that are described below for reference.
"""
HISTORICAL_PAGE = f"""\
---
comments: true
description: Historical notes on the retired Neptune integration.
keywords: Neptune, retired
---

# Neptune (retired)

{HISTORY_NOTE}
The callback logged hyperparameters, metrics, images and weights.

## FAQ

### What should I use instead?

Any of the other experiment trackers.
"""

SETTINGS_MIGRATION_TEST = '''\
import json
from pathlib import Path

import pytest


def test_special_modes() -> None:
    """Stand-in for the tests around the settings test."""
    assert True


@pytest.mark.parametrize("api_key", ["old_key", "ul_" + "b" * 40])
def test_settings_migration(tmp_path: Path, api_key: str) -> None:
    """Migrate a settings file of an older schema."""
    from ultralytics.utils import SettingsManager

    file = tmp_path / "settings.json"
    file.write_text(json.dumps({"settings_version": "0.0.7", "runs_dir": "/r", "api_key": api_key, "neptune": True}))
    settings = SettingsManager(file)

    assert settings["runs_dir"] == "/r"
    assert settings["settings_version"] == "0.0.8"
    assert "neptune" not in settings


def test_after() -> None:
    """Stand-in for the tests after the settings test."""
    assert True
'''

MKDOCS_YML = """\
site_name: Ultralytics YOLO Docs
docs_dir: docs/en/

plugins:
  - redirects:
      redirect_maps:
        integrations/neptune.md: integrations/index.md
        help/old.md: help/index.md

nav:
  - Home:
      - index.md
  - Integrations:
      - integrations/index.md
      - ClearML: integrations/clearml.md
      - MLflow: integrations/mlflow.md
      - TensorBoard: integrations/tensorboard.md
"""

INDEX_MD = """\
# Ultralytics Integrations

## Training Integrations

- [ClearML](clearml.md): Track experiments with ClearML.

- [MLflow](mlflow.md): Manage the ML lifecycle with MLflow.

- [TensorBoard](tensorboard.md): Visualize training with TensorBoard.
"""

SETTINGS_ROWS = [
    ["Name", "Example Value", "Data Type", "Description"],
    ["`settings_version`", "`'0.0.8'`", "`str`", "Ultralytics _settings_ version"],
    ["`clearml`", "`True`", "`bool`", "Option to use [ClearML] logging"],
    ["`mlflow`", "`True`", "`bool`", "Option to use [MLflow] for experiment tracking"],
    ["`wandb`", "`False`", "`bool`", "Option to use [Weights & Biases] logging"],
]


def markdown_table(rows: list) -> str:
    """rows as a markdown table with padded columns and a separator after the header."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = ["| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths)) + " |" for row in rows]
    lines.insert(1, "| " + " | ".join("-" * width for width in widths) + " |")
    return "\n".join(lines) + "\n"


QUICKSTART_MD = f"""\
# Quickstart

## Ultralytics Settings

{markdown_table(SETTINGS_ROWS)}
Revisit these settings as you go.

<!-- Article Links -->

[ClearML]: ./integrations/clearml.md
[MLflow]: ./integrations/mlflow.md
[Weights & Biases]: ./integrations/weights-biases.md
"""


def make_checkout(folder: Path, page: str | None = HISTORICAL_PAGE) -> Path:
    """A checkout-shaped tree in folder: the installed ultralytics, tests, docs and mkdocs.yml; return folder."""
    copy_installed_ultralytics(folder)
    for path, text in (
        (SETTINGS_TEST, SETTINGS_MIGRATION_TEST),
        (MKDOCS, MKDOCS_YML),
        (INDEX, INDEX_MD),
        (QUICKSTART, QUICKSTART_MD),
        (DOCS_PAGE, page),
    ):
        if text is not None:
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_text(text)
    return folder


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """A checkout before and after `ultralytics-neptune upstream --pr-body`, and the command's result."""
    pristine = make_checkout(tmp_path_factory.mktemp("checkout-pristine"))
    tree = tmp_path_factory.mktemp("checkout-patched")
    shutil.copytree(pristine, tree, dirs_exist_ok=True)
    body = tree.parent / "pr-body.md"
    result = upstream(str(tree), "--pr-body", str(body))
    assert result.returncode == 0, result.stderr
    return pristine, tree, result, body.read_text("utf-8")


def read(tree: Path, path: str) -> str:
    return (tree / path).read_text("utf-8")


# what is written


def test_on_a_checkout_every_file_is_written_and_nothing_is_listed_unwritten(checkout):
    _, _, result, _ = checkout
    assert {SETTINGS_TEST, MKDOCS, INDEX, QUICKSTART, DOCS_PAGE, TEST_FILE} <= diff_targets(result.stdout)
    assert "unwritten" not in result.stderr


def test_the_neptune_page_keeps_its_history_note_as_it_was(checkout):
    _, tree, _, _ = checkout
    assert HISTORY_NOTE in read(tree, DOCS_PAGE)


def test_the_neptune_page_becomes_the_page_of_a_supported_integration(checkout):
    _, tree, _, _ = checkout
    page = read(tree, DOCS_PAGE)
    assert "yolo settings neptune=True" in page
    assert "NEPTUNE_MODE=offline" in page
    assert "(retired)" not in page
    assert page.index(HISTORY_NOTE) < page.index("## What the Integration Logs")


def test_without_a_neptune_page_the_page_carries_its_own_note(tmp_path):
    tree = make_checkout(tmp_path / "tree", page=None)
    assert upstream(str(tree)).returncode == 0
    page = read(tree, DOCS_PAGE)
    assert "Retired integration" not in page
    assert '!!! note "Neptune\'s hosted service"' in page


def test_a_page_without_an_admonition_keeps_its_text_as_the_history_note():
    note = docs.history_note("---\ncomments: true\n---\n\n# Neptune\n\nIt was removed in 8.4.132.\n")
    assert note == '!!! note "History"\n\n    It was removed in 8.4.132.\n'


def test_the_nav_lists_the_page_after_mlflow_at_the_same_depth(checkout):
    _, tree, _, _ = checkout
    lines = read(tree, MKDOCS).splitlines()
    mlflow = lines.index("      - MLflow: integrations/mlflow.md")
    assert lines[mlflow + 1] == "      - Neptune: integrations/neptune.md"


def test_the_redirect_of_the_page_to_the_index_is_dropped_and_the_others_kept(checkout):
    _, tree, _, _ = checkout
    text = read(tree, MKDOCS)
    assert "integrations/neptune.md: integrations/index.md" not in text
    assert "help/old.md: help/index.md" in text


def test_the_integrations_index_gets_a_neptune_entry_after_mlflow(checkout):
    _, tree, _, _ = checkout
    lines = read(tree, INDEX).splitlines()
    mlflow = next(i for i, line in enumerate(lines) if line.startswith("- [MLflow]"))
    assert lines[mlflow + 1] == ""
    assert lines[mlflow + 2].startswith("- [Neptune](neptune.md): ")
    assert lines[mlflow + 3] == ""


def test_an_existing_neptune_entry_of_the_index_is_relinked_to_the_page():
    text = INDEX_MD.replace("- [TensorBoard]", "- [Neptune](https://neptune.ai/): A metadata store.\n\n- [TensorBoard]")
    new = docs.with_index_entry(text)
    assert "https://neptune.ai/" not in new
    assert new.count("- [Neptune](neptune.md): ") == 1


def test_the_settings_table_gets_a_neptune_row_after_mlflow_off_by_default(checkout):
    _, tree, _, _ = checkout
    rows = [line for line in read(tree, QUICKSTART).splitlines() if line.startswith("|")]
    mlflow = next(i for i, row in enumerate(rows) if row.startswith("| `mlflow`"))
    assert [cell.strip() for cell in rows[mlflow + 1].strip("|").split("|")][:3] == ["`neptune`", "`False`", "`bool`"]


def test_the_settings_table_stays_aligned(checkout):
    _, tree, _, _ = checkout
    rows = [line for line in read(tree, QUICKSTART).splitlines() if line.startswith("|")]
    assert len({len(row) for row in rows}) == 1
    assert len({tuple(i for i, char in enumerate(row) if char == "|") for row in rows}) == 1


def test_the_quickstart_links_neptune_to_its_page(checkout):
    _, tree, _, _ = checkout
    assert "[Neptune]: ./integrations/neptune.md" in read(tree, QUICKSTART).splitlines()


@pytest.mark.parametrize(
    ("path", "edit"),
    [(MKDOCS, docs.with_nav_entry), (INDEX, docs.with_index_entry), (QUICKSTART, docs.with_settings_row)],
)
def test_a_docs_file_of_another_layout_is_listed_unwritten_and_left_alone(tmp_path, path, edit):
    tree = make_checkout(tmp_path / "tree")
    (tree / path).write_text("# nothing this command knows\n")
    result = upstream(str(tree))
    assert result.returncode == 0, result.stderr
    assert f"unwritten: {path}: not in the expected layout" in result.stderr
    assert read(tree, path) == "# nothing this command knows\n"
    assert edit("# nothing this command knows\n") is None


# upstream's settings test


def test_the_settings_test_expects_the_bumped_schema_and_the_kept_neptune_value(checkout):
    pristine, tree, _, _ = checkout
    assert changes(read(pristine, SETTINGS_TEST), read(tree, SETTINGS_TEST)) == [
        (
            ['    assert settings["settings_version"] == "0.0.8"', '    assert "neptune" not in settings'],
            [
                '    assert settings["settings_version"] == "0.0.9"',
                '    assert settings["neptune"] is True  # a value of an older schema with the right type is kept',
            ],
        )
    ]


def test_a_settings_test_of_another_shape_is_not_edited():
    assert with_updated_settings_test("def test_settings_migration():\n    pass\n", "0.0.8", "0.0.9") is None


@pytest.fixture(scope="module")
def checkout_tests(checkout, tmp_path_factory):
    """pytest of the written test file and upstream's settings test, inside the patched checkout."""
    _, tree, _, _ = checkout
    return pytest_in_tree(tree, tmp_path_factory.mktemp("checkout-pytest"), f"{SETTINGS_TEST}::test_settings_migration")


def test_the_settings_test_and_the_written_test_pass_inside_the_patched_checkout(checkout_tests):
    assert checkout_tests.returncode == 0, checkout_tests.stdout[-3000:] + checkout_tests.stderr[-3000:]
    assert "skipped" not in checkout_tests.stdout


def test_the_settings_test_as_it_was_fails_inside_the_patched_checkout(checkout, tmp_path):
    pristine, tree, _, _ = checkout
    shutil.copytree(tree, tmp_path / "tree", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "tree" / SETTINGS_TEST).write_text(read(pristine, SETTINGS_TEST))
    result = pytest_in_tree(tmp_path / "tree", tmp_path, f"{SETTINGS_TEST}::test_settings_migration")
    assert result.returncode == 1, result.stdout[-3000:]


def test_ultralytics_formatter_changes_the_settings_test_only_as_it_changes_the_original(checkout, tmp_path):
    pristine, tree, _, _ = checkout
    ours = formatted(tree, tmp_path / "ours", [SETTINGS_TEST])
    theirs = formatted(pristine, tmp_path / "theirs", [SETTINGS_TEST])
    assert changes(read(tree, SETTINGS_TEST), read(ours, SETTINGS_TEST)) == changes(
        read(pristine, SETTINGS_TEST), read(theirs, SETTINGS_TEST)
    )


# the pull request's description


def test_the_pr_body_says_who_needs_the_integration(checkout):
    body = checkout[3]
    for who in ("Self-hosted Neptune servers", "Offline runs", "Neptune-compatible services"):
        assert who in body


def test_the_pr_body_gives_each_fix_with_its_measured_figure_and_source(checkout):
    body = checkout[3]
    rows = [line for line in body.splitlines() if line.startswith("| ") and line.endswith(("| probe |", "| results |"))]
    assert len(rows) == 3
    assert f"| {MEASURED['8.4.131']['figures']} | {MEASURED['this PR']['figures']} |" in body
    assert "probe: a real tiny detect training" in body


def test_the_pr_body_says_what_the_settings_manager_does_with_an_existing_file(checkout):
    body = checkout[3]
    assert "bumped to `0.0.9`" in body
    assert "keeps every value whose key is still a setting" in body


def test_the_pr_body_says_how_to_try_it_offline(checkout):
    assert "NEPTUNE_MODE=offline yolo train" in checkout[3]


def test_the_pr_body_lists_every_changed_file(checkout):
    _, _, result, body = checkout
    for path in diff_targets(result.stdout):
        assert f"- `{path}`" in body


def test_check_with_pr_body_writes_the_body_and_leaves_the_tree_alone(tmp_path):
    tree = make_checkout(tmp_path / "tree")
    before = {path: path.read_bytes() for path in tree.rglob("*") if path.is_file()}
    result = upstream(str(tree), "--check", "--pr-body", str(tmp_path / "body.md"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "body.md").read_text("utf-8").startswith("## Re-add the Neptune integration")
    assert {path: path.read_bytes() for path in tree.rglob("*") if path.is_file()} == before
