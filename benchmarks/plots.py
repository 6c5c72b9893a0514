"""Train-end plots: upstream's matplotlib re-draw of each plot against uploading the PNG file itself.

Both sides upload the same plots of the scenario's final save_dir (those Ultralytics 8.4.131 uploads: the trainer's
and validator's plots without "batch" in the name) to one run. The re-draw side calls the upstream module's own
``_log_plot``; the direct side calls ``run["Plots/<stem>"].upload(File(path))``, which is what extended mode does.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.harness import Summary


@dataclass
class PlotCosts:
    """Seconds to upload all the plots once, per round, for each way."""

    redraw: list = field(default_factory=list)
    direct: list = field(default_factory=list)
    plots: list = field(default_factory=list)  # file names
    uploaded_sizes: dict = field(default_factory=dict)  # way -> "WxH" of results.png as uploaded (fake client)

    def ratio(self) -> Summary:
        return Summary.of([redraw / direct for redraw, direct in zip(self.redraw, self.direct)])


def final_plots(scenario, workdir: Path) -> tuple[Path, list]:
    """Replay the scenario without callbacks; return its save_dir and the plots uploaded at train end."""
    from ultralytics_neptune.verification.replay import replay

    save_dir = Path(tempfile.mkdtemp(prefix="plots-", dir=workdir)).resolve() / "train"
    trainer = replay(scenario.recording, {}, save_dir)
    plots = [Path(p) for p in [*trainer.plots, *trainer.validator.plots] if "batch" not in Path(p).name]
    return save_dir, plots


def _upload_all(upstream, plots: list, redraw: bool) -> float:
    """Seconds to upload every plot one way; the run and its figures are discarded afterwards (untimed)."""
    import matplotlib.pyplot as plt

    File = sys.modules["neptune.types"].File
    upstream.run = sys.modules["neptune"].init_run(project="Ultralytics", name="plots")
    start = time.perf_counter()
    if redraw:
        for path in plots:
            upstream._log_plot(title=path.stem, plot_path=path)
    else:
        for path in plots:
            upstream.run[f"Plots/{path.stem}"].upload(File(str(path)))
    seconds = time.perf_counter() - start
    upstream.run.stop()
    upstream.run = None
    plt.close("all")
    return seconds


def measure(scenario, rounds: int, workdir: Path, log=print) -> PlotCosts:
    """Interleaved rounds of both ways with the ``neptune`` now in sys.modules (the real client, offline)."""
    from ultralytics_neptune.verification.upstream import load_upstream_module

    save_dir, plots = final_plots(scenario, workdir)
    upstream = load_upstream_module()
    costs = PlotCosts(plots=[path.name for path in plots])
    started = time.perf_counter()
    for round_number in range(-1, rounds):
        ways = (True, False) if round_number % 2 == 0 else (False, True)
        for redraw in ways:
            seconds = _upload_all(upstream, plots, redraw)
            if round_number >= 0:
                (costs.redraw if redraw else costs.direct).append(seconds)
    log(f"  {rounds} rounds of train-end plot uploads done ({time.perf_counter() - started:.0f} s)")
    costs.uploaded_sizes = _uploaded_sizes(plots)
    shutil.rmtree(save_dir.parent, ignore_errors=True)
    return costs


def _uploaded_sizes(plots: list) -> dict:
    """The pixel size of results.png as each way uploads it, read from a fake client's record of the upload."""
    from PIL import Image

    from ultralytics_neptune.verification.parity import fake_client
    from ultralytics_neptune.verification.upstream import load_upstream_module

    results = next((path for path in plots if path.name == "results.png"), plots[0])
    with fake_client() as fake:
        upstream = load_upstream_module()
        upstream.run = fake.init_run(project="Ultralytics", name="sizes")
        upstream._log_plot(title=results.stem, plot_path=results)
        image = upstream.run.operations[-1]["content"]["image"]
        upstream.run.stop()
        import matplotlib.pyplot as plt

        plt.close("all")
    with Image.open(results) as original:
        direct = f"{original.width}x{original.height}"
    return {"file": results.name, "redraw": f"{image['width']}x{image['height']}", "direct": direct}
