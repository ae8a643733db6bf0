"""Draw a timeline: replicas (and Ready pods) against the load, with the HPA's bounds.

matplotlib with the Agg backend, so it works on CI runners without a display.

    >>> write_plot(timeline, Path("healthz.png"))
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gitops.errors import GitopsError
from gitops.simulate.engine import Timeline


def write_plot(timeline: Timeline, path: Path, title: str | None = None) -> Path:
    """Write a PNG of ``timeline`` to ``path`` and return it."""
    figure = _figure([timeline], [None], title or timeline.scenario.hpa_name)
    return _save(figure, path)


def write_comparison_plot(
    timelines: Sequence[Timeline], labels: Sequence[str], path: Path, title: str
) -> Path:
    """Several timelines of the same load (base and head of a change) on one chart."""
    figure = _figure(timelines, list(labels), title)
    return _save(figure, path)


def _figure(timelines: Sequence[Timeline], labels: Sequence[str | None], title: str) -> object:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axis = pyplot.subplots(figsize=(9, 4.5), dpi=100)
    load_axis = axis.twinx()
    first = timelines[0]
    minutes = [s.t / 60 for s in first.steps]
    loads = [s.load for s in first.steps]
    if any(v is not None for v in loads):
        load_axis.fill_between(
            minutes, [v or 0 for v in loads], step="post", color="tab:gray", alpha=0.2,
            label="load (mCPU)",
        )  # fmt: skip
        load_axis.set_ylabel("load (milli-CPU)")
        load_axis.set_ylim(bottom=0)
    styles = ["tab:blue", "tab:orange", "tab:green", "tab:red"]
    for index, (timeline, label) in enumerate(zip(timelines, labels, strict=True)):
        color = styles[index % len(styles)]
        times = [s.t / 60 for s in timeline.steps]
        prefix = f"{label}: " if label else ""
        axis.step(times, [s.replicas for s in timeline.steps], where="post", color=color,
                  linewidth=2, label=f"{prefix}replicas")  # fmt: skip
        axis.step(times, [s.ready for s in timeline.steps], where="post", color=color,
                  linestyle=":", label=f"{prefix}ready")  # fmt: skip
        hpa = timeline.scenario.hpa
        axis.axhline(hpa.max_replicas, color=color, linestyle="--", linewidth=1,
                     label=f"{prefix}max {hpa.max_replicas}")  # fmt: skip
        axis.axhline(hpa.min_replicas, color=color, linestyle="-.", linewidth=1,
                     label=f"{prefix}min {hpa.min_replicas}")  # fmt: skip
    top = max(max(t.scenario.hpa.max_replicas for t in timelines),
              max(s.replicas for t in timelines for s in t.steps))  # fmt: skip
    axis.set_ylim(0, top + 1)
    axis.set_xlabel("minutes")
    axis.set_ylabel("pods")
    axis.set_title(title)
    axis.set_zorder(load_axis.get_zorder() + 1)
    axis.patch.set_visible(False)
    handles, names = axis.get_legend_handles_labels()
    load_handles, load_names = load_axis.get_legend_handles_labels()
    axis.legend(handles + load_handles, names + load_names, loc="upper right", fontsize=8)
    figure.tight_layout()
    return figure


def _save(figure: object, path: Path) -> Path:
    from matplotlib import pyplot

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, format="png")  # type: ignore[attr-defined]
    except OSError as exc:
        raise GitopsError(f"{path}: cannot write the plot: {exc.strerror or exc}") from exc
    finally:
        pyplot.close(figure)  # type: ignore[arg-type]
    return path
