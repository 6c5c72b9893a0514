"""benchmarks/RESULTS.md: the measurements as Markdown tables of medians, spreads and per-round ratios."""

from __future__ import annotations

import os
import platform
import statistics
from dataclasses import dataclass, field
from importlib import metadata

from benchmarks.harness import Measurements, Summary
from benchmarks.training import differences, median_difference, median_of, shares

PACKAGES = (
    "ultralytics",
    "ultralytics-neptune",
    "neptune",
    "neptune-scale",
    "protobuf",
    "matplotlib",
    "numpy",
    "torch",
    "tensorboard",
    "mlflow",
    "wandb",
)
PHASES = (("start", "run start"), ("per_epoch", "ordinary epoch"), ("end", "run end"), ("whole_run", "whole run"))
PARITY, EXTENDED, UPSTREAM, FLOOR = "ours (parity)", "ours (extended)", "upstream", "floor"
PARITY_SCALE, EXTENDED_SCALE, FLOOR_SCALE = "ours (parity, 3.x)", "ours (extended, 3.x)", "floor (3.x)"
SHORT_NAMES = {
    PARITY: "parity 1.x",
    EXTENDED: "extended 1.x",
    FLOOR: "floor 1.x",
    PARITY_SCALE: "parity 3.x",
    EXTENDED_SCALE: "extended 3.x",
    FLOOR_SCALE: "floor 3.x",
}
EVENT_ORDER = ("on_pretrain_routine_start", "on_pretrain_routine_end", "on_train_start", "on_train_epoch_end")
EVENT_ORDER += ("on_val_end", "on_fit_epoch_end", "on_train_end", "teardown")
PEERS = ("TensorBoard", "MLflow", "W&B")
TARGET_UPSTREAM, TARGET_FLOOR, TARGET_STARTUP = 1.05, 1.2, 0.020
TARGET_HOOK = 0.002  # seconds the start-up hook may add to any interpreter start
TARGET_FIRST_BATCH = 0.15  # seconds a whole training's first batch may come later with Neptune on
TARGET_EXTENDED_SHARE = 0.10  # extended mode's cost as a share of the same training without Neptune
TARGET_HELD = 50 * 2**20  # bytes a whole training may still hold after train end, over the same training without it
TIMES, DASH = "\u00d7", "\u2013"  # the multiplication sign and the en dash of the tables
NOT_AVAILABLE = "not available"


@dataclass
class Results:
    """Everything one benchmark run measured."""

    epochs: int
    scenario: str
    events: int
    extended: bool
    fake: Measurements
    real: Measurements
    plots: object  # benchmarks.plots.PlotCosts
    startup: dict  # probe -> [result]
    memory: dict  # contestant key -> [result]
    checks: list  # lines: what was checked before timing, and the outcome
    training: dict = field(default_factory=dict)  # mode -> [sample] (benchmarks.training)
    scale: bool = False  # whether the Neptune 3.x client was installed and measured
    export: dict = field(default_factory=dict)  # benchmarks.export.measure
    seconds: float = 0.0
    notes: list = field(default_factory=list)


def neptune_events() -> list:
    """The events our callbacks log at, as a registration adds them."""
    from ultralytics_neptune.composed import ParityLogger

    return list(ParityLogger().callbacks())


def seconds_text(value: float) -> str:
    """A duration with three significant digits and a unit that fits."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(value) >= scale or unit == "µs":
            number = value / scale
            digits = 0 if abs(number) >= 100 else 1 if abs(number) >= 10 else 2
            return f"{number:.{digits}f} {unit}"
    return f"{value} s"


def time_cell(summary: Summary | None) -> str:
    if summary is None:
        return "—"
    return f"{seconds_text(summary.median)} ({seconds_text(summary.low)}{DASH}{seconds_text(summary.high)})"


def ratio_text(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if value >= 0.01 else f"{value:.2g}"


def ratio_cell(summary: Summary | None) -> str:
    if summary is None:
        return "—"
    return f"**{ratio_text(summary.median)}{TIMES}** ({ratio_text(summary.low)}{DASH}{ratio_text(summary.high)})"


def megabytes(value: float) -> str:
    return f"{value / 2**20:,.0f} MB"


def versions() -> str:
    found = []
    for package in PACKAGES:
        try:
            found.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            found.append(f"{package} (not installed)")
    return ", ".join(found)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            cpu = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    system = f"{platform.system()} {platform.release()}"
    return f"{system}, {os.cpu_count()} CPUs ({cpu}), {memory:.0f} GiB, Python {platform.python_version()}"


def _available(measurements: Measurements, names: tuple) -> list:
    return [name for name in names if measurements.rounds.get(name)]


def per_event_table(measurements: Measurements, extended: bool) -> list:
    """Rows of the per-event table for our callbacks, upstream and the floor."""
    names = (PARITY, EXTENDED, UPSTREAM, FLOOR)
    header = ["event", *names, "parity ÷ upstream", "parity ÷ floor", "extended ÷ upstream"]
    lines = [_row(header), _row(["---"] * len(header))]
    events = [event for event in neptune_events() if event in measurements.events(PARITY)]
    if extended:
        events += [event for event in measurements.events(EXTENDED) if event not in events]
    for event in events:
        cells = [f"`{event}` {TIMES}{_calls(measurements, event)}"]
        cells += [
            time_cell(measurements.summary(name, "per_event", event)) if extended or name != EXTENDED else NOT_AVAILABLE
            for name in names
        ]
        cells.append(ratio_cell(measurements.ratio(PARITY, UPSTREAM, "per_event", event)))
        cells.append(ratio_cell(measurements.ratio(PARITY, FLOOR, "per_event", event)))
        extended_ratio = measurements.ratio(EXTENDED, UPSTREAM, "per_event", event)
        cells.append(ratio_cell(extended_ratio) if extended else NOT_AVAILABLE)
        lines.append(_row(cells))
    return lines


def scale_event_table(measurements: Measurements) -> list:
    """Rows of the per-event table of the Neptune 3.x client: ours in both modes, its floor, and the 1.x client."""
    names = (PARITY_SCALE, EXTENDED_SCALE, FLOOR_SCALE, PARITY, FLOOR)
    ratios = ((PARITY_SCALE, FLOOR_SCALE), (EXTENDED_SCALE, FLOOR_SCALE), (PARITY_SCALE, PARITY), (FLOOR_SCALE, FLOOR))
    header = ["event", *(SHORT_NAMES[name] for name in names)]
    header += [f"{SHORT_NAMES[mine]} ÷ {SHORT_NAMES[other]}" for mine, other in ratios]
    lines = [_row(header), _row(["---"] * len(header))]
    events = []
    for name in (PARITY_SCALE, EXTENDED_SCALE):
        events += [event for event in measurements.events(name) if event not in events]
    for event in sorted(events, key=_event_order):
        cells = [f"`{event}` {TIMES}{_calls(measurements, event)}"]
        cells += [time_cell(measurements.summary(name, "per_event", event)) for name in names]
        cells += [ratio_cell(measurements.ratio(mine, other, "per_event", event)) for mine, other in ratios]
        lines.append(_row(cells))
    return lines


def _calls(measurements: Measurements, event: str) -> int:
    for rounds in measurements.rounds.values():
        if event in rounds[0].calls:
            return rounds[0].calls[event]
    return 0


def run_table(measurements: Measurements) -> list:
    """Rows of the whole-run table: each contestant's cost by phase."""
    names = [name for name in measurements.rounds if measurements.rounds[name]]
    header = ["callbacks", *(label for _, label in PHASES)]
    lines = [_row(header), _row(["---"] * len(header))]
    for name in names:
        lines.append(_row([name, *(time_cell(measurements.summary(name, metric)) for metric, _ in PHASES)]))
    if EXTENDED not in names:
        lines.insert(3, _row([EXTENDED, *([NOT_AVAILABLE] * len(PHASES))]))
    return lines


def ratio_table(measurements: Measurements, ours: str) -> list:
    """Rows of ours ÷ each other contestant, by phase, ratios taken per round."""
    others = [name for name in measurements.rounds if name != ours and measurements.rounds[name]]
    header = [f"{ours} ÷", *(label for _, label in PHASES)]
    lines = [_row(header), _row(["---"] * len(header))]
    for other in others:
        lines.append(_row([other, *(ratio_cell(measurements.ratio(ours, other, metric)) for metric, _ in PHASES)]))
    return lines


#: the ratios of the 3.x contestants by phase: to the 3.x floor, to the 1.x client, and between the two modes
SCALE_RATIOS = (
    (PARITY_SCALE, FLOOR_SCALE),
    (EXTENDED_SCALE, FLOOR_SCALE),
    (PARITY_SCALE, PARITY),
    (EXTENDED_SCALE, EXTENDED),
    (FLOOR_SCALE, FLOOR),
    (EXTENDED_SCALE, PARITY_SCALE),
)


def scale_ratio_table(measurements: Measurements) -> list:
    """Rows of each 3.x contestant ÷ its counterpart, by phase, ratios taken per round."""
    lines = [_row(["ratio", *(label for _, label in PHASES)]), _row(["---"] * (len(PHASES) + 1))]
    for mine, other in SCALE_RATIOS:
        cells = [ratio_cell(measurements.ratio(mine, other, metric)) for metric, _ in PHASES]
        lines.append(_row([f"{SHORT_NAMES[mine]} ÷ {SHORT_NAMES[other]}", *cells]))
    return lines


def peer_event_table(measurements: Measurements) -> list:
    """Per-event costs of the other trackers next to ours, on the events they share."""
    names = _available(measurements, (PARITY, EXTENDED, *PEERS))
    events = []
    for name in names:
        events += [event for event in measurements.events(name) if event not in events]
    events = sorted(events, key=_event_order)
    header = ["event", *names]
    lines = [_row(header), _row(["---"] * len(header))]
    for event in events:
        cells = [f"`{event}`"] + [time_cell(measurements.summary(name, "per_event", event)) for name in names]
        lines.append(_row(cells))
    return lines


def _event_order(event: str) -> int:
    return EVENT_ORDER.index(event) if event in EVENT_ORDER else len(EVENT_ORDER)


def _row(cells: list) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def _summary(values: list) -> Summary | None:
    return Summary.of(values)


def startup_table(startup: dict) -> list:
    bare, yolo = startup.get("bare", []), startup.get("yolo", [])
    rows = [
        ("`import ultralytics_neptune` in a bare interpreter", [r["import"] for r in bare], bare),
        ("`import ultralytics_neptune` after `import ultralytics`", [r["import"] for r in yolo], yolo),
        ("`add_neptune_callbacks(model)`", [r["register"] for r in yolo], yolo),
        ("import + registration", [r["import"] + r["register"] for r in yolo], yolo),
        ("upstream (8.4.131) module import with `neptune` on", [r["upstream_import"] for r in yolo], []),
    ]
    for probe, label in (("hook_off", "switch off"), ("hook_on", "switch on")):
        samples = startup.get(probe, [])
        if samples and all(r["hook"] is not None for r in samples):
            how = "the `.pth` line" if probe == "hook_off" else "the `.pth` line's import of the hook (`-X importtime`)"
            rows.append(
                (
                    f"start-up hook, {label}: {how}",
                    [r["hook"] for r in samples],
                    samples,
                )
            )
        elif samples:
            rows.append((f"start-up hook, {label}: not installed in this environment (editable install)", [], samples))
    lines = [_row(["what", "median (IQR)", f"min{DASH}max", "`neptune` imported"]), _row(["---"] * 4)]
    for label, values, results in rows:
        summary = _summary(values)
        imported = "yes" if not results else ("yes" if any(r["neptune_imported"] for r in results) else "no")
        spread = f"{seconds_text(summary.minimum)}{DASH}{seconds_text(summary.maximum)}" if summary else "—"
        lines.append(_row([label, time_cell(summary), spread, imported]))
    return lines


MEMORY_NAMES = {
    "none": "replay alone (no callbacks)",
    "parity": PARITY,
    "extended": EXTENDED,
    "upstream": UPSTREAM,
    "tensorboard": "TensorBoard",
    "mlflow": "MLflow",
    "wandb": "W&B",
}


TRAINING_NAMES = {
    "off": "no Neptune",
    "parity": PARITY,
    "extended": EXTENDED,
    "upstream": "upstream 8.4.131",
    "parity-scale": PARITY_SCALE,
    "extended-scale": EXTENDED_SCALE,
}


def training_table(training: dict) -> list:
    """Whole real trainings: medians over rounds, and each mode's cost against no Neptune in the same round."""
    off = training.get("off", [])
    if not off:
        return [NOT_AVAILABLE]
    header = ["", "train() total", "cost", "CPU time", "cost", "client start (CPU)", "time to first batch", "cost"]
    memory = ["peak RSS", "RSS after", "RSS after, heap trimmed", "figures open"]
    lines = [_row([*header, *memory]), _row(["---"] * (len(header) + len(memory)))]
    for mode, samples in training.items():
        if not samples:
            continue
        started = [sample.get("client_start") for sample in samples]
        lines.append(
            _row(
                [
                    TRAINING_NAMES.get(mode, mode),
                    *_median_and_cost(samples, off, "total", mode == "off"),
                    *_median_and_cost(samples, off, "cpu", mode == "off"),
                    time_cell(_summary(started)) if None not in started else "—",
                    *_median_and_cost(samples, off, "first_batch", mode == "off", share=False),
                    megabytes(median_of(samples, "peak_rss")),
                    _megabytes_and_cost(samples, off, "end_rss", mode == "off"),
                    _megabytes_and_cost(samples, off, "end_rss_trimmed", mode == "off"),
                    " / ".join(str(n) for n in sorted({sample["figures"] for sample in samples})),
                ]
            )
        )
    return lines


def _median_and_cost(samples: list, off: list, key: str, baseline: bool, share: bool = True) -> list:
    """Two cells: the median over rounds, and the cost against the training without Neptune (none for itself)."""
    if not all(key in sample for sample in samples):
        return ["—", "—"]
    median = f"{median_of(samples, key):.2f} s"
    if baseline:
        return [median, "—"]
    cost = _seconds_range(_summary(differences(samples, off, key)))
    return [median, f"{cost}, {_share_cell(_summary(shares(samples, off, key)))}" if share else cost]


def _megabytes_and_cost(samples: list, off: list, key: str, baseline: bool) -> str:
    """One cell: the median over rounds, then the cost against the training without Neptune (none for itself)."""
    if any(sample.get(key) is None for sample in samples):
        return "—"
    median = megabytes(median_of(samples, key))
    return median if baseline else f"{median}, {_megabytes_range(_summary(differences(samples, off, key)))}"


def _megabytes_range(summary: Summary) -> str:
    """A difference in bytes as ``median (25th to 75th percentile)`` in MB."""
    return f"{summary.median / 2**20:+,.0f} MB ({summary.low / 2**20:+,.0f}{DASH}{summary.high / 2**20:+,.0f})"


def _seconds_range(summary: Summary) -> str:
    """A difference in seconds as ``median (25th to 75th percentile)``."""
    return f"{summary.median:+.2f} s ({summary.low:+.2f}{DASH}{summary.high:+.2f})"


def _share_cell(summary: Summary | None) -> str:
    if summary is None:
        return "—"
    return f"{summary.median:+.1%} ({summary.low:+.1%}{DASH}{summary.high:+.1%})"


def memory_table(memory: dict) -> list:
    lines = [
        _row(["callbacks", "peak RSS growth", "RSS still held after", "figures left open", "samples"]),
        _row(["---"] * 5),
    ]
    if "extended" not in memory:
        memory = {**memory, "extended": []}
        memory = {key: memory[key] for key in MEMORY_NAMES if key in memory}
    for key, results in memory.items():
        if not results:
            lines.append(_row([MEMORY_NAMES[key], NOT_AVAILABLE, NOT_AVAILABLE, NOT_AVAILABLE, 0]))
            continue
        peak = [r["peak_growth"] for r in results]
        held = [r["held_growth"] for r in results]
        figures = sorted({r["figures_open"] for r in results})
        lines.append(
            _row(
                [
                    MEMORY_NAMES.get(key, key),
                    _range(peak, megabytes),
                    _range(held, megabytes),
                    " / ".join(str(f) for f in figures),
                    len(results),
                ]
            )
        )
    return lines


def _range(values: list, text) -> str:
    if len(values) == 1:
        return text(values[0])
    return f"{text(statistics.median(values))} ({text(min(values))}{DASH}{text(max(values))})"


def verdict(ratio: Summary | None, target: float) -> str:
    """met: even the 75th percentile is within target; missed: even the 25th is over; else within noise."""
    if ratio is None:
        return "—"
    if ratio.high <= target:
        return "met"
    if ratio.low > target:
        return "**missed**"
    return "within noise"


def event_targets(results: Results) -> list:
    """Rows: parity mode per event against upstream and against the floor, with both clients."""
    targets = ((UPSTREAM, TARGET_UPSTREAM), (FLOOR, TARGET_FLOOR))
    pairs = [(other, target, client) for other, target in targets for client in ("real", "fake")]
    header = ["event", *(f"parity ÷ {other} ({client} client)" for other, _, client in pairs)]
    lines = [_row(header), _row(["---"] * len(header))]
    for event in neptune_events():
        cells = [f"`{event}`"]
        for other, target, client in pairs:
            measurements = results.real if client == "real" else results.fake
            ratio = measurements.ratio(PARITY, other, "per_event", event)
            cells.append(f"{ratio_cell(ratio)} {verdict(ratio, target)}")
        lines.append(_row(cells))
    return lines


def _status(met: bool) -> str:
    return "met" if met else "**missed**"


def other_targets(results: Results) -> list:
    """Rows: the import and registration target, and the figures left open by extended mode."""
    lines = [_row(["target", "measured", "status"]), _row(["---"] * 3)]
    yolo = results.startup.get("yolo", [])
    if yolo:
        total = _summary([r["import"] + r["register"] for r in yolo])
        imported = any(r["neptune_imported"] for r in yolo)
        status = _status(total.high < TARGET_STARTUP and not imported)
        measured = f"{time_cell(total)}; `neptune` imported: {'yes' if imported else 'no'}"
        lines.append(_row(["import + registration under 20 ms, no `neptune` import", measured, status]))
    hook = results.startup.get("hook_off", [])
    target = "start-up hook under 2 ms in an unrelated `python -c pass` (switch off)"
    if hook and all(r["hook"] is not None for r in hook):
        cost = _summary([r["hook"] for r in hook])
        lines.append(_row([target, time_cell(cost), _status(cost.high < TARGET_HOOK)]))
    else:
        lines.append(_row([target, "hook not installed here (editable install)", "—"]))
    extended = results.memory.get("extended")
    target = "figures left open after a run, extended mode: 0"
    if extended:
        figures = max(r["figures_open"] for r in extended)
        lines.append(_row([target, str(figures), _status(figures == 0)]))
    else:
        lines.append(_row([target, "extended mode not available", "—"]))
    return lines + training_targets(results)


def training_targets(results: Results) -> list:
    """Rows: what switching Neptune on may cost a whole real training, and extended mode's epoch against parity's.
    A cost is judged on its per-round values as the per-event ratios are (``verdict``)."""
    lines = []
    epoch = results.real.ratio(EXTENDED, PARITY, "per_epoch")
    if epoch is not None:
        target = "ordinary epoch, 100-epoch replay, real client: extended ÷ parity at most 1"
        lines.append(_row([target, ratio_cell(epoch), verdict(epoch, 1.0)]))
    for name in (PARITY_SCALE, EXTENDED_SCALE):
        epoch = results.real.ratio(name, FLOOR_SCALE, "per_epoch")
        if epoch is not None:
            target = f"{name}: ordinary epoch, 100-epoch replay, within {TARGET_FLOOR}{TIMES} of the 3.x floor"
            lines.append(_row([target, ratio_cell(epoch), verdict(epoch, TARGET_FLOOR)]))
    off = results.training.get("off", [])
    our_modes = ("parity", "extended", "parity-scale", "extended-scale")
    modes = [mode for mode in our_modes if results.training.get(mode)]
    if not off:
        return lines
    for mode in modes:
        samples = results.training[mode]
        name = TRAINING_NAMES[mode]
        first = _summary(differences(samples, off, "first_batch"))
        target = f"{name}: first batch at most {TARGET_FIRST_BATCH:+.2f} s after the training's without Neptune"
        lines.append(_row([target, _seconds_range(first), verdict(first, TARGET_FIRST_BATCH)]))
        held = _summary(differences(samples, off, "end_rss"))
        live = _summary(differences(samples, off, "end_rss_trimmed"))
        measured = _megabytes_range(held) + (f"; heap trimmed {_megabytes_range(live)}" if live else "")
        target = f"{name}: RSS after train end within {megabytes(TARGET_HELD)} of the training's without Neptune"
        lines.append(_row([target, measured, verdict(held, TARGET_HELD)]))
        figures = max(sample["figures"] for sample in samples)
        lines.append(_row([f"{name}: figures open after train end: 0", str(figures), _status(figures == 0)]))
    for mode in ("extended", "extended-scale"):
        if mode not in modes:
            continue
        share = _summary(shares(results.training[mode], off, "total"))
        cpu = _summary(shares(results.training[mode], off, "cpu"))
        measured = _share_cell(share) + (f"; CPU time {_share_cell(cpu)}" if cpu else "")
        target = f"{TRAINING_NAMES[mode]}: whole training costs under {TARGET_EXTENDED_SHARE:.0%} more"
        lines.append(_row([target, measured, verdict(share, TARGET_EXTENDED_SHARE)]))
    for mode in ("parity", "parity-scale"):
        if mode not in modes or not results.training.get("upstream"):
            continue
        cost = median_difference(results.training[mode], off, "total")
        theirs = median_difference(results.training["upstream"], off, "total")
        beyond = _summary(differences(results.training[mode], results.training["upstream"], "total"))
        target = f"{TRAINING_NAMES[mode]}: whole training costs at most what upstream 8.4.131's callback did"
        lines.append(_row([target, f"{cost:+.2f} s against {theirs:+.2f} s", verdict(beyond, 0.0)]))
    return lines


def plots_table(plots) -> list:
    redraw, direct = Summary.of(plots.redraw), Summary.of(plots.direct)
    count = len(plots.plots)
    sizes = plots.uploaded_sizes
    lines = [
        _row(["train-end plots", f"all {count} plots", "per plot", f"{sizes.get('file', 'results.png')} as uploaded"]),
        _row(["---"] * 4),
        _row(
            [
                "upstream: re-drawn on a matplotlib figure",
                time_cell(redraw),
                seconds_text(redraw.median / count),
                sizes.get("redraw", "?"),
            ]
        ),
        _row(["PNG file uploaded as is", time_cell(direct), seconds_text(direct.median / count), sizes.get("direct")]),
        _row(["re-draw ÷ file", ratio_cell(plots.ratio()), "", ""]),
    ]
    return lines


SCALE_NOTE = (
    '- Neptune 3.x client (`neptune-scale`): ours in both modes with `client="scale"`, offline, console capture '
    "and source tracking off, each replay's run in a folder of its own (`NEPTUNE_LOG_DIRECTORY`); its floor is the "
    "`neptune_scale.Run` calls our parity callbacks make with that client, recorded once by wrapping `Run` and "
    "replayed with every argument prepared beforehand (the run's arguments, each step's metrics dict, file paths, "
    "the PNG bytes of the figures parity mode draws). No fake 3.x client is measured. The 3.x client commits each "
    "`log_metrics` call as one SQLite transaction in WAL mode with `synchronous = FULL` (one fsync a call), so its "
    "times, the floor's included, follow the flush latency of the disk under the scratch folder."
)
NO_SCALE_NOTE = "- Neptune 3.x client: `neptune-scale` is not installed here, so it is not measured."


def scale_sections(results: Results) -> list:
    """The per-event section of the Neptune 3.x client."""
    return [
        "## Per event, Neptune 3.x client (offline)",
        "",
        f"Measured in the same interleaved rounds as the 1.x client above, so every ratio compares replays taken "
        f"seconds apart. One call: the median over the run's calls of that event ({TIMES}N: calls in the run).",
        "",
        *scale_event_table(results.real),
        "",
    ]


def render(results: Results, command: str, started: str) -> str:
    """The whole RESULTS.md."""
    from benchmarks.export import results_section

    fake_rounds = len(next(iter(results.fake.rounds.values())))
    real_rounds = len(next(iter(results.real.rounds.values())))
    startup_rounds = len(results.startup.get("yolo", []))
    extended_note = "available"
    if not results.extended:
        extended_note = "not available in this version of ultralytics-neptune (marked so in the tables)"
    checks = "; ".join(results.checks)
    sections = [
        "# Benchmark results",
        "",
        f"Written by `{command}` on {started} in {results.seconds / 60:.1f} minutes. Do not edit by hand.",
        "",
        f"- Machine: {machine()}. Shared and noisy: read the ratios, not the absolute times.",
        f"- Versions: {versions()}.",
        f"- Extended mode: {extended_note}.",
        f"- Scenario: the bundled recording `{results.scenario}` (a real detect training) replayed, its middle epoch "
        f"repeated to make a {results.epochs}-epoch training ({results.events} events). Only the time inside the "
        "callbacks is counted (a timer around each event's callbacks); the replay's own work is not.",
        f"- Interleaving: each round replays the whole training once through every contestant, in an order that "
        f"rotates from round to round, after one warm-up round. Fake client: {fake_rounds} rounds; real client: "
        f"{real_rounds} rounds. A cell is `median (25th{DASH}75th percentile)` over the rounds; a ratio is computed "
        "in each round, then summarised the same way.",
        "- Floor: the same Neptune client calls our parity callbacks make, recorded once and replayed with every "
        "argument prepared beforehand (keys, values, steps, file paths, and the figures parity mode uploads, drawn "
        "untimed just before the event): what the client itself costs.",
        *([SCALE_NOTE] if results.scale else [NO_SCALE_NOTE]),
        f"- Checked in the warm-up round: {checks}.",
        "",
        "## Targets",
        "",
        f"Parity mode per event: at most {TARGET_UPSTREAM}{TIMES} upstream and within {TARGET_FLOOR}{TIMES} of the "
        "floor. Met when even the 75th percentile of the per-round ratios is within the target, missed when even "
        "the 25th percentile is over it, within noise otherwise.",
        "",
        *event_targets(results),
        "",
        "The floor does no work of its own, so two events cannot come near it in parity mode: at `on_val_end` the "
        "floor skips the search for `val*.jpg` that finds nothing during training (that search is the whole cost "
        "there), and at `on_train_end` its figures are drawn untimed, while parity mode decodes each PNG and draws "
        "it (the re-draw upstream did, and extended mode drops).",
        "",
        *other_targets(results),
        "",
        "## Per event, real Neptune client (offline)",
        "",
        f"One call: the median over the run's calls of that event ({TIMES}N: calls in the run).",
        "",
        *per_event_table(results.real, results.extended),
        "",
        *(scale_sections(results) if results.scale else []),
        "## Per event, fake client",
        "",
        *per_event_table(results.fake, results.extended),
        "",
        f"## The {results.epochs}-epoch run, real Neptune client (offline) and other trackers",
        "",
        "Run start: every callback before the first epoch (Neptune's `init_run`, W&B's `init`, MLflow's run and "
        "autolog, TensorBoard's writer and model graph). Ordinary epoch: the mean of the repeated epochs. Run end: "
        "the final evaluation, train end and teardown. Parity mode and upstream leave their run open at train end "
        "(it is stopped untimed after the replay); extended mode stops it inside train end.",
        "",
        *run_table(results.real),
        "",
        *ratio_table(results.real, PARITY),
        "",
        *([*ratio_table(results.real, EXTENDED), ""] if results.extended else []),
        *(
            ["The Neptune 3.x client against its floor and the 1.x client:", "", *scale_ratio_table(results.real), ""]
            if results.scale
            else []
        ),
        "Other trackers' callbacks per event (they register on different events):",
        "",
        *peer_event_table(results.real),
        "",
        "## Train end: re-drawn plots against the PNG files",
        "",
        f"Real client, offline, {len(results.plots.redraw)} rounds. The plots: {', '.join(results.plots.plots)}.",
        "",
        *plots_table(results.plots),
        "",
        "## Import and registration",
        "",
        f"Fresh processes, {startup_rounds} of each probe, alternated. Registration is on a real `YOLO` model, after "
        "Ultralytics is imported and the model built (untimed: a user pays for those anyway).",
        "",
        *startup_table(results.startup),
        "",
        "## A whole real training",
        "",
        f"yolov8n.yaml, 3 epochs at 64 px on the synthetic dataset, CPU, plots on, the real client offline with its "
        f"default capture; each sample a fresh process (imports included), {len(results.training.get('off', []))} "
        "rounds in rotating order. Medians over rounds; a cost is the per-round difference from the training without "
        "Neptune, as `median (25th to 75th percentile)`, then as a share of that training. CPU time: every thread of "
        "the process during `train()` (the client's start and its own threads included); it varies less than wall "
        "time on a shared machine. Client start: the CPU time of our start thread, the `neptune` import and "
        "`init_run` (3.x: the `neptune_scale` import and `Run`; upstream imports the client with its module and starts "
        "the run on the training thread). Time to first batch: from `train()` to the first `on_train_batch_start`. "
        "RSS after: right after `train()` and a "
        "full garbage collection. Heap trimmed: the same process's RSS once glibc's `malloc_trim(0)` has handed back "
        "the free memory it keeps for reuse (up to twice its mmap threshold after a large temporary, such as a decoded "
        "plot; the amount varies from run to run): what is still live. The target is on RSS after, untrimmed.",
        "",
        *training_table(results.training),
        "",
        *([results_section(results.export)] if results.export else []),
        f"## Memory over the {results.epochs}-epoch replay",
        "",
        "Real client, offline; each sample in a fresh process, everything imported and warmed before the baseline. "
        "Figures left open are counted right after the replay.",
        "",
        *memory_table(results.memory),
        "",
        "## How the other trackers run",
        "",
        "Ultralytics' own callback modules of the installed release, loaded as fresh copies with their settings "
        "gate open (in memory only). TensorBoard writes event files in the run folder; MLflow uses a local file "
        "store (`MLFLOW_TRACKING_URI=file:...`, `MLFLOW_ALLOW_FILE_STORE=true`); W&B runs offline (`WANDB_MODE="
        "offline`, no git, code, console or system-metrics capture). Neptune runs offline with capture_stdout, "
        "capture_stderr and capture_hardware_metrics off, no source files and no git. The replay trainer gets what "
        "the recording does not hold: `args` as an `IterableSimpleNamespace` (MLflow calls `dict(args)`), a real "
        "`yolov8n` model and `data={'channels': 3}` (TensorBoard traces the graph at train start), validator "
        "metrics without curves (W&B logs no curve tables), and W&B's `model_info_for_loggers` looked up at call "
        "time so it logs the recorded model summary, as Neptune does.",
        "",
        "## Notes",
        "",
        "- The fake client (`ultralytics_neptune.verification.fake`) checks every call as the real one does, "
        "keeps operations in memory and hashes every uploaded file and figure: its appends are cheaper than the "
        "real client's (which writes each operation to disk offline), its uploads dearer. It shows our logic's "
        "share next to a cheap client; the real client's numbers are what a training pays.",
        *(f"- {note}" for note in results.notes),
        "",
    ]
    return "\n".join(sections)
