"""Charts: which series are drawn together, and each chart as an SVG drawn by matplotlib (imported when drawing).

Every drawn line is an SVG group ``<g class="series" data-series="FIELD" data-run="RUN ID">`` holding one path with
a vertex per finite point, so a reader of the page (or a test) finds each series and its points.
"""

from __future__ import annotations

import colorsys
import io
import math
import re
from dataclasses import dataclass
from html import escape

#: matplotlib's tab10 then tab20's light tones; more runs than that get evenly spread hues
PALETTE = [
    *("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"),
    *("#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5"),
]
MARKERS_UP_TO = 30  # points per line; longer lines are drawn without markers
STYLE = {
    "svg.fonttype": "none",  # text stays text: small, and drawn in the page's fonts
    "svg.hashsalt": "ultralytics-neptune",  # the same run gives the same page
    "path.simplify": False,  # one vertex per point, even where points line up
    "font.size": 8,
    "font.sans-serif": ["DejaVu Sans"],  # one family name in every text element, not matplotlib's whole list
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#98a2b3",
    "axes.grid": True,
    "grid.color": "#e4e7ec",
    "grid.linewidth": 0.6,
    "xtick.color": "#475467",
    "ytick.color": "#475467",
}


@dataclass
class Line:
    """One line of a chart: a series of one run."""

    series: str  # the field, e.g. "train/box_loss"
    run: str  # the run id
    label: str  # what the legend says
    points: list  # [(step, value)]
    color: str
    dashed: bool = False
    width: float = 1.4  # lines that may lie on one another get different widths, so that each stays visible


def color(index: int) -> str:
    """The colour of the index-th run or line."""
    if index < len(PALETTE):
        return PALETTE[index]
    red, green, blue = colorsys.hsv_to_rgb((index * 0.618034) % 1, 0.65, 0.85)
    return f"#{round(red * 255):02x}{round(green * 255):02x}{round(blue * 255):02x}"


def chart_groups(fields: list, lr_together: bool = True) -> list:
    """[(title, [(field, role)])]: the series of the same name under ``train/`` and ``val/`` drawn together, the
    learning rates together (or each alone), every other series alone; losses first, then metrics, learning rates,
    other series, and the machine's monitoring series last."""
    groups: dict = {}
    for order, path in enumerate(fields):
        parts = path.split("/")
        if len(parts) == 2 and parts[0] in ("train", "val"):
            key, rank, title, role = ("pair", parts[1]), 0, parts[1], parts[0]
        elif parts[0] == "lr" and lr_together:
            key, rank, title, role = ("lr",), 2, "lr", path[3:]
        else:
            rank = {"metrics": 1, "lr": 2, "monitoring": 4}.get(parts[0], 3)
            key, title, role = ("alone", path), path, path
        groups.setdefault(key, [rank, order, title, []])[3].append((path, role))
    for group in groups.values():
        if group[0] == 0 and len(group[3]) == 1:  # a loss without its pair is named in full
            group[2] = group[3][0][0]
    return [(title, members) for _, _, title, members in sorted(groups.values(), key=lambda g: (g[0], g[1]))]


def _finite(points: list) -> tuple:
    kept = [(step, value) for step, value in points if isinstance(value, (int, float)) and math.isfinite(value)]
    return [step for step, _ in kept], [value for _, value in kept]


def draw(lines: list, unit: str = "") -> str:
    """An SVG line chart of lines, steps on x (``unit`` labels y); pass it through ``inline`` to put it in a page."""
    import matplotlib
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(4.6, 2.6))
        figure.subplots_adjust(left=0.14, right=0.98, top=0.95, bottom=0.15)
        axes = figure.add_subplot()
        for index, line in enumerate(lines):
            steps, values = _finite(line.points)
            axes.plot(
                steps,
                values,
                color=line.color,
                linewidth=line.width,
                linestyle="--" if line.dashed else "-",
                marker="o" if len(steps) <= MARKERS_UP_TO else None,
                markersize=3,
                gid=f"series-token-{index}",
            )
        axes.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        axes.yaxis.set_major_locator(MaxNLocator(nbins=5))
        axes.set_xlabel("step")
        if unit:
            axes.set_ylabel(unit)
        text = io.StringIO()
        FigureCanvasSVG(figure).print_svg(text, metadata={"Date": None, "Creator": None})
    return _tag_lines(text.getvalue(), lines)


def _tag_lines(svg: str, lines: list) -> str:
    """Replace the gid tokens by the series and run each line shows (and a tooltip)."""
    for index, line in enumerate(lines):
        label = escape(line.label)
        tagged = (
            f'class="series" data-series="{escape(line.series)}" data-run="{escape(line.run)}"><title>{label}</title'
        )
        svg = svg.replace(f'id="series-token-{index}">', tagged + ">", 1)
    return svg


def inline(svg: str, prefix: str) -> str:
    """The SVG ready to sit in an HTML page: no XML prologue or metadata, no namespace URLs, ids unique to prefix."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    svg = re.sub(r'\s(width|height)="[\d.]+pt"', "", svg, count=2)
    return re.sub(r'(\bid="|url\(#|href="#)', rf"\g<1>{prefix}", svg)
