"""``ultralytics-neptune report``: one HTML page of offline Neptune runs, to look at with no server and no network.

Importing this package is cheap: the offline reader and matplotlib are imported when a report is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "write an HTML report of offline Neptune runs (charts, tables, images), viewable with no server"
DESCRIPTION = (
    "Write one HTML page of the offline Neptune runs under PATH (a folder holding .neptune, .neptune itself, or one "
    "run folder .neptune/offline/run__...; default: the current folder), newest first. Per run: its header, "
    "hyperparameters and model summary, a chart per series, its uploads by namespace, and everything else it holds. "
    "Several runs are also compared: overlaid charts, final values side by side, the hyperparameters that differ. "
    "The page needs no network: its style, script and charts are inside it; its images are copied into a folder "
    "beside it (FILE_files/, keep the two together) unless --embed-images puts them inside the page. A run that "
    "cannot be read in full is still reported, with a warning naming what was skipped."
)
DEFAULT_OUTPUT = Path("neptune-report.html")


def write_report(
    paths: list, out: Path | str = DEFAULT_OUTPUT, *, last: int | None = None, embed_images: bool = False, progress=None
) -> Path:
    """Write the report of the offline runs under paths to out; return its absolute path.

    Args:
        paths (list): Neptune data folders, ``.neptune`` folders or run folders.
        out (Path | str): The HTML file to write (or a folder to write ``neptune-report.html`` in); images go to
            the ``<stem>_files`` folder beside it.
        last (int | None): Report only the newest ``last`` runs.
        embed_images (bool): Put the images inside the page as data URIs instead of copying them beside it.
        progress (Callable | None): Called as ``progress(stage, done, total)`` while runs are read, charts drawn
            and images copied.

    Returns:
        (Path): The page written.

    Raises:
        FileNotFoundError: When there is no offline run under paths.

    Examples:
        >>> write_report([".neptune"], "report.html")  # doctest: +SKIP
    """
    return _report(paths, out, last, embed_images, progress)[0]


def _report(paths: list, out: Path | str, last: int | None, embed_images: bool, progress) -> tuple:
    """(the page written, the views of its runs, with their warnings)."""
    from ultralytics_neptune.report.page import render
    from ultralytics_neptune.report.runs import find_runs, read_views

    folders = find_runs(paths, last)
    if not folders:
        where = ", ".join(str(Path(path).resolve()) for path in paths)
        raise FileNotFoundError(f"no offline Neptune run under {where}")
    views = read_views(folders, progress)
    out = Path(out) / DEFAULT_OUTPUT.name if Path(out).is_dir() else Path(out)
    return render(views, out, sources=paths, embed_images=embed_images, progress=progress), views


class Progress:
    """Progress on a stream: one line counted in place on a terminal, one line per finished stage elsewhere."""

    def __init__(self):
        self.stream = sys.stderr
        self.terminal = self.stream.isatty()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.terminal:
            self.stream.write(f"\rreport: {stage} {done}/{total}" + ("\n" if done == total else ""))
        elif done == total:
            self.stream.write(f"report: {stage} {done}/{total}\n")
        self.stream.flush()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ultralytics_neptune.cli import add_run_selection

    add_run_selection(parser)
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        metavar="FILE",
        help=f"the page to write, or a folder to write {DEFAULT_OUTPUT} in (default: {DEFAULT_OUTPUT})",
    )
    parser.add_argument(
        "--embed-images", action="store_true", help="put the images inside the page (one file) instead of beside it"
    )
    parser.add_argument("--open", action="store_true", help="open the page in the default web browser")


def _open(page: Path) -> None:
    import webbrowser

    try:
        opened = webbrowser.open(page.as_uri())
    except webbrowser.Error:
        opened = False
    if not opened:
        print(f"No web browser found here: open {page} in one.", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from ultralytics_neptune.report.assets import files_folder

    try:
        page, views = _report(args.paths, args.output, args.last, args.embed_images, Progress())
    except FileNotFoundError as error:
        print(f"ultralytics-neptune report: {error}", file=sys.stderr)
        return 1
    for view in views:
        for warning in view.warnings:
            print(f"warning: {view.label}: {warning}", file=sys.stderr)
    images = f" (images in {files_folder(page)})" if files_folder(page).is_dir() and not args.embed_images else ""
    print(f"Report of {len(views)} run{'s' if len(views) > 1 else ''}: {page}{images}")
    if args.open:
        _open(page)
    return 0
