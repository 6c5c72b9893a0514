"""The page: one HTML file that opens from disk with no network (its style, script and charts are inline)."""

from __future__ import annotations

import math
import os
from datetime import datetime, timezone
from html import escape
from pathlib import Path

from ultralytics_neptune.report import charts
from ultralytics_neptune.report.assets import Assets
from ultralytics_neptune.report.runs import RunView

TEXT_LINES_SHOWN = 400  # of a string series (console output), the last ones
KV_COLUMNS = 3  # key/value pairs side by side in a table of many values
FAILED = {True: "yes", False: "no"}  # sys/failed; a run without it says "-"

STYLE = """
:root{--fg:#1d2330;--muted:#667085;--line:#e4e7ec;--bg:#f5f6f8;--card:#fff;--bad:#b42318;--warn:#93370d;--ok:#067647}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
  color:var(--fg);background:var(--bg)}
header.page{padding:20px 28px 4px}
h1{font-size:21px;margin:0 0 2px}
main{padding:0 28px 32px}
.muted{color:var(--muted)}
section.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 20px 18px;
  margin:14px 0}
h2{font-size:18px;margin:0 0 10px}
h3{font-size:14px;margin:20px 0 8px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h4{font-size:13px;margin:12px 0 6px;color:var(--muted)}
.badge{display:inline-block;font-size:12px;font-weight:600;padding:1px 9px;border-radius:999px;margin-left:8px;
  vertical-align:2px;background:#ecfdf3;color:var(--ok)}
.badge.failed{background:#fef3f2;color:var(--bad)}
.badge.warn{background:#fffaeb;color:var(--warn)}
dl.header{display:grid;grid-template-columns:max-content 1fr;gap:3px 18px;margin:0}
dl.header dt{color:var(--muted)}
dl.header dd{margin:0;overflow-wrap:anywhere}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:12px}
figure.chart{margin:0;border:1px solid var(--line);border-radius:8px;padding:8px 10px 4px}
figure.chart svg{display:block;width:100%;height:auto}
figure.chart figcaption{font-size:12px;line-height:1.6}
figure.chart figcaption b{font-size:13px;margin-right:8px}
.key{white-space:nowrap;margin-right:10px}
.key i{display:inline-block;width:16px;border-top:2px solid;vertical-align:middle;margin-right:4px}
.key i.dashed{border-top-style:dashed}
table{border-collapse:collapse;font-size:13px}
th,td{text-align:left;padding:3px 14px 3px 0;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.k{color:var(--muted)}
td.v{padding-right:28px;overflow-wrap:anywhere}
.scroll{overflow-x:auto}
.gallery{display:flex;flex-wrap:wrap;gap:12px}
.gallery figure{margin:0;width:188px}
.gallery img{display:block;width:188px;height:150px;object-fit:contain;background:#f0f2f5;
  border:1px solid var(--line);border-radius:6px;cursor:zoom-in}
.gallery figcaption{font-size:12px;overflow-wrap:anywhere;margin-top:3px}
.missing{color:var(--bad)}
section.warnings{border-color:#fedf89;background:#fffcf5}
section.warnings li{margin:3px 0;overflow-wrap:anywhere}
code,pre{font:12px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:#f6f7f9;border-radius:6px;padding:8px 10px;max-height:340px;overflow:auto;white-space:pre-wrap}
nav.runs a{margin-right:14px;white-space:nowrap}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
#viewer{position:fixed;inset:0;z-index:10;overflow:auto;padding:24px;background:rgba(16,24,40,.88);
  cursor:zoom-out;text-align:center}
#viewer[hidden]{display:none}
#viewer img{max-width:none;background:#fff}
#viewer p{color:#fff;margin:8px 0 0}
"""

SCRIPT = """
(function () {
  var viewer = document.getElementById("viewer"), big = viewer.querySelector("img"), note = viewer.querySelector("p");
  function close() { viewer.hidden = true; big.removeAttribute("src"); }
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a.zoom") : null;
    if (link) {
      event.preventDefault();
      var image = link.querySelector("img");
      big.src = image.currentSrc || image.src;
      note.textContent = image.alt + " (full size; click or Escape to close)";
      viewer.hidden = false;
    } else if (!viewer.hidden) {
      close();
    }
  });
  document.addEventListener("keydown", function (event) { if (event.key === "Escape") close(); });
})();
"""


def _value(value) -> str:
    """A logged value as a table shows it."""
    if isinstance(value, float):
        return f"{value:.6g}"
    if value == "":
        return '<span class="muted">""</span>'
    return escape(str(value))


def _key_values(values: dict) -> str:
    """A table of key/value pairs; many pairs are laid out in columns, read top to bottom."""
    items = list(values.items())
    columns = KV_COLUMNS if len(items) > 12 else 1
    rows = math.ceil(len(items) / columns)
    body = []
    for row in range(rows):
        cells = []
        for column in range(columns):
            index = column * rows + row
            if index < len(items):
                key, value = items[index]
                cells.append(f'<td class="k">{escape(str(key))}</td><td class="v">{_value(value)}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f'<div class="scroll"><table class="kv">{"".join(body)}</table></div>'


def _size(size: int | None) -> str:
    if size is None:
        return "-"
    if size < 1024:
        return f"{size} B"
    exponent = min(int(math.log(size, 1024)), 3)
    return f"{size / 1024**exponent:.1f} {'KMG'[exponent - 1]}B"


class Page:
    """Builds the HTML of a report of views written to ``out``."""

    def __init__(self, views: list, out: Path, embed_images: bool, progress=None):
        self.views = views
        self.assets = Assets(out, embed_images)
        self.progress = progress or (lambda stage, done, total: None)
        self.several = len(views) > 1
        self.colors = {view.run_id: charts.color(index) for index, view in enumerate(views)}
        fields = list(dict.fromkeys(path for view in views for path in view.series))
        self.groups = charts.chart_groups(fields, lr_together=not self.several)
        self.charts_drawn = 0
        self.images = sum(1 for view in views for files in view.uploads.values() for f in files if f.image)
        self.images_done = 0

    def html(self, sources: list) -> str:
        runs = "".join(self._run(view, index) for index, view in enumerate(self.views, start=1))
        compare = self._comparison() if self.several else ""
        title = f"{len(self.views)} Neptune runs" if self.several else f"Neptune run {self.views[0].label}"
        generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        from_text = ", ".join(escape(str(source)) for source in sources)
        nav = ""
        if self.several:
            links = "".join(
                f'<a href="#run-{index}"><span class="swatch" style="background:{self.colors[view.run_id]}"></span>'
                f"{escape(view.label)}</a>"
                for index, view in enumerate(self.views, start=1)
            )
            nav = f'<nav class="runs">{links}</nav>'
        return (
            f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
            f'<header class="page"><h1>{escape(title)}</h1><p class="muted">Offline Neptune data from {from_text}; '
            f"newest first. Report written {generated} by ultralytics-neptune.</p>{nav}</header>"
            f"<main>{self._warnings()}{compare}{runs}</main>"
            '<div id="viewer" hidden><img alt=""><p></p></div>'
            f"<script>{SCRIPT}</script></body></html>\n"
        )

    def _warnings(self) -> str:
        items = [
            f"<li><b>{escape(view.label)}</b> ({escape(view.run.folder.name)}): {escape(warning)}</li>"
            for view in self.views
            for warning in view.warnings
        ]
        if not items:
            return ""
        return (
            f'<section class="card warnings" id="warnings"><h2>Warnings ({len(items)})</h2>'
            f"<p>Something in these runs was skipped or could not be read; everything else is reported.</p>"
            f"<ul>{''.join(items)}</ul></section>"
        )

    def _chart(self, title: str, lines: list, unit: str, keys: list) -> str:
        """A chart figure; keys are the (text, colour, dashed) entries of its legend."""
        svg = charts.inline(charts.draw(lines, unit), f"c{self.charts_drawn}-")
        self.charts_drawn += 1
        self.progress("drawing charts", self.charts_drawn, len(self.groups))
        legend = "".join(
            f'<span class="key"><i class="{"dashed" if dashed else ""}" style="border-color:{color}"></i>'
            f"{escape(text)}</span>"
            for text, color, dashed in keys
        )
        return f'<figure class="chart">{svg}<figcaption><b>{escape(title)}</b>{legend}</figcaption></figure>'

    def _charts(self) -> str:
        """One chart per group of series: a run's lines in its colours, or every run's lines in the run's colour."""
        figures = []
        for title, members in self.groups:
            lines = []
            for view in self.views:
                for index, (path, role) in enumerate(members):
                    if path not in view.series:
                        continue
                    label = f"{view.label} {role}" if self.several else role
                    color = self.colors[view.run_id] if self.several else charts.color(index)
                    width = 1.4 if self.several else 1.2 + 0.8 * (len(members) - 1 - index)
                    dashed = self.several and role == "val"
                    lines.append(charts.Line(path, view.run_id, label, view.series[path], color, dashed, width))
            if self.several:
                keys = [("train", "#475467", False), ("val", "#475467", True)] if len(members) > 1 else []
            else:
                keys = [(line.label, line.color, False) for line in lines] if len(lines) > 1 else []
            unit = next((view.units[path] for view in self.views for path, _ in members if path in view.units), "")
            figures.append(self._chart(title, lines, unit, keys))
        return f'<h3>Charts ({len(figures)})</h3><div class="charts">{"".join(figures)}</div>' if figures else ""

    def _comparison(self) -> str:
        head = "".join(
            f'<th><span class="swatch" style="background:{self.colors[v.run_id]}"></span>{escape(v.label)}</th>'
            for v in self.views
        )
        runs = "".join(
            f'<tr><td><a href="#run-{index}">{escape(view.label)}</a></td><td><code>{escape(view.run_id)}</code></td>'
            f"<td>{escape(dict(view.header)['Created'])}</td><td>{FAILED.get(view.failed, '-')}</td>"
            f'<td class="num">{len(view.series)}</td><td class="num">{len(view.warnings)}</td></tr>'
            for index, view in enumerate(self.views, start=1)
        )
        overview = (
            "<h3>Runs</h3><div class=scroll><table><tr><th>run</th><th>id</th><th>created</th><th>failed</th>"
            f"<th>series</th><th>warnings</th></tr>{runs}</table></div>"
        )
        return (
            f'<section class="card" id="compare"><h2>Comparison of {len(self.views)} runs</h2>{overview}'
            f"{self._final_values(head)}{self._differing_hyperparameters(head)}{self._charts()}</section>"
        )

    def _final_values(self, head: str) -> str:
        rows = []
        for path in (path for _, members in self.groups for path, _ in members):
            finals = [_last_finite(view.series.get(path, [])) for view in self.views]
            known = [value for value in finals if value is not None]
            best = None
            if len(set(known)) > 1 and ("loss" in path or path.startswith("metrics/")):
                best = min(known) if "loss" in path else max(known)
            cells = "".join(
                '<td class="num">-</td>'
                if value is None
                else f'<td class="num">{f"<b>{value:.5g}</b>" if value == best else f"{value:.5g}"}</td>'
                for value in finals
            )
            rows.append(f"<tr><td>{escape(path)}</td>{cells}</tr>")
        if not rows:
            return ""
        return (
            "<h3>Final values</h3><p class=muted>The last value of every series; the best loss (lowest) and metric "
            "(highest) in bold.</p>"
            f"<div class=scroll><table><tr><th>series</th>{head}</tr>{''.join(rows)}</table></div>"
        )

    def _differing_hyperparameters(self, head: str) -> str:
        tables = [view.tables.get("Hyperparameters", {}) for view in self.views]
        keys = list(dict.fromkeys(key for table in tables for key in table))
        missing = object()
        rows = []
        for key in keys:
            values = [table.get(key, missing) for table in tables]
            if any(value != values[0] for value in values):
                cells = "".join(f"<td>{'-' if v is missing else _value(v)}</td>" for v in values)
                rows.append(f"<tr><td>{escape(key)}</td>{cells}</tr>")
        if not rows:
            return ""
        return (
            f"<h3>Hyperparameters that differ ({len(rows)} of {len(keys)})</h3>"
            f"<div class=scroll><table><tr><th>hyperparameter</th>{head}</tr>{''.join(rows)}</table></div>"
        )

    def _run(self, view: RunView, index: int) -> str:
        badges = {True: '<span class="badge failed">failed</span>', False: '<span class="badge">not failed</span>'}
        badge = badges.get(view.failed, "")
        if view.warnings:
            badge += f'<a class="badge warn" href="#warnings">{len(view.warnings)} warning(s)</a>'
        header = "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in view.header)
        parts = [
            f'<section class="card run" id="run-{index}" data-run="{escape(view.run_id)}">',
            f"<h2>{escape(view.label)}{badge}</h2><dl class=header>{header}</dl>",
        ]
        if not self.several:
            parts.append(self._charts())
        elif view.series:
            parts.append(f'<p class="muted">Its {len(view.series)} series are in the comparison charts above.</p>')
        parts.append(self._uploads(view))
        for title, values in view.tables.items():
            parts.append(f"<h3>{escape(title)} ({len(values)})</h3>{_key_values(values)}")
        parts.append(self._texts(view))
        parts.append(self._others(view))
        if not (view.series or view.tables or view.uploads or view.texts or view.others):
            parts.append('<p class="muted">This run holds nothing besides its header.</p>')
        parts.append("</section>")
        return "".join(parts)

    def _image(self, view: RunView, upload) -> str:
        source = self.assets.source(upload)
        self.images_done += 1
        self.progress("embedding images" if self.assets.embed else "copying images", self.images_done, self.images)
        if source is None:
            view.warnings.append(f"{upload.field}: {upload.missing}; not shown")
            return ""
        alt = escape(f"{upload.field}: {upload.name}")
        href = "" if self.assets.embed else f' href="{source}"'
        return (
            f'<figure><a class="zoom"{href}><img src="{source}" alt="{alt}" loading="lazy" '
            f'data-field="{escape(upload.field)}"></a><figcaption>{escape(upload.name)}</figcaption></figure>'
        )

    def _uploads(self, view: RunView) -> str:
        if not view.uploads:
            return ""
        total = sum(len(files) for files in view.uploads.values())
        parts = [f"<h3>Uploads ({total})</h3>"]
        for namespace, files in view.uploads.items():
            images = [self._image(view, upload) for upload in files if upload.image]
            rows = [
                f"<tr><td>{escape(f.field)}</td><td>{escape(f.name)}</td><td class=num>{_size(f.size)}</td>"
                f"<td><code title='{escape(f.sha256)}'>{escape(f.sha256[:16]) or '-'}</code></td>"
                f"<td{' class=missing' if f.missing else ''}>{escape(f.missing or f.origin)}</td></tr>"
                for f in files
                if not f.image
            ]
            parts.append(f"<h4>{escape(namespace)} ({len(files)})</h4>")
            if any(images):
                parts.append(f'<div class="gallery">{"".join(images)}</div>')
            if rows:
                parts.append(
                    "<div class=scroll><table><tr><th>field</th><th>file</th><th>size</th><th>sha256</th>"
                    f"<th>where</th></tr>{''.join(rows)}</table></div>"
                )
        return "".join(parts)

    def _texts(self, view: RunView) -> str:
        parts = []
        for path, lines in view.texts.items():
            shown = lines[-TEXT_LINES_SHOWN:]
            note = f", the last {len(shown)} shown" if len(shown) < len(lines) else ""
            text = escape("".join(line if line.endswith("\n") else line + "\n" for line in shown))
            parts.append(
                f"<details><summary>{escape(path)} ({len(lines)} entries{note})</summary><pre>{text}</pre></details>"
            )
        return f"<h3>Text series ({len(parts)})</h3>{''.join(parts)}" if parts else ""

    def _others(self, view: RunView) -> str:
        if not view.others:
            return ""
        rows = "".join(
            f"<tr><td>{escape(path)}</td><td>{escape(kind)}</td><td><code>{escape(text)}</code></td></tr>"
            for path, kind, text in view.others
        )
        return (
            f"<h3>Other fields ({len(view.others)})</h3>"
            f"<div class=scroll><table><tr><th>field</th><th>kind</th><th>value</th></tr>{rows}</table></div>"
        )


def _last_finite(points: list):
    for _, value in reversed(points):
        if isinstance(value, (int, float)) and math.isfinite(value):
            return value
    return None


def render(views: list, out: Path, *, sources: list, embed_images: bool = False, progress=None) -> Path:
    """Write the report of views to out (and its images beside it, unless embedded); return its path."""
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    html = Page(views, out, embed_images, progress).html(sources)
    partial = out.with_name(f".{out.name}.partial")
    partial.write_text(html, encoding="utf-8")
    os.replace(partial, out)
    return out
