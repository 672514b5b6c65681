"""Deterministic PNG plots (matplotlib Agg, no pyplot state), written atomically.

Each function builds its own ``Figure`` so plots never share global state, renders to memory
and swaps the file in with one rename; the same inputs give byte-identical files.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np

# The Agg canvas directly, never pyplot: headless, and no global backend switch for callers.
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from xner.atomic import write_bytes

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType  # the Literal of rc keys that rc_context takes

# Fixed style so output does not depend on a user's matplotlibrc.
_STYLE: dict[RcKeyType, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.grid": False,
    "savefig.dpi": 120,
    "svg.hashsalt": "xner",
}
Series = tuple[Sequence[float], Sequence[float], Sequence[float] | None]


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: str | Path) -> Path:
    buffer = io.BytesIO()
    # No metadata: the default "Software" tag carries the matplotlib version.
    fig.savefig(buffer, format="png", metadata={"Software": None})
    write_bytes(path, buffer.getvalue())
    return Path(path)


def plot_curves(
    series: Mapping[str, Series], xlabel: str, ylabel: str, title: str, path: str | Path
) -> Path:
    """One line per series (mean over seeds) with a shaded ±std band; ``stds`` may be None."""
    with matplotlib.rc_context(_STYLE):
        fig = _new_figure(6.0, 4.0)
        ax = fig.add_subplot()
        for name, (xs, means, stds) in series.items():
            x, m = np.asarray(xs, dtype=float), np.asarray(means, dtype=float)
            if x.shape != m.shape:
                raise ValueError(f"series {name!r}: {x.size} x values but {m.size} means")
            (line,) = ax.plot(x, m, marker="o", markersize=3, label=name)
            if stds is not None:
                s = np.asarray(stds, dtype=float)
                ax.fill_between(x, m - s, m + s, color=line.get_color(), alpha=0.2, linewidth=0)
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
        ax.grid(True, alpha=0.3)
        if series:
            ax.legend(loc="best", fontsize=8)
        return _save(fig, path)


def plot_heatmap(
    matrix: Sequence[Sequence[float]] | np.ndarray,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    title: str,
    path: str | Path,
    fmt: str = ".2f",
    log_colour: bool = False,
) -> Path:
    """Coloured matrix with every cell annotated using ``fmt``.

    ``log_colour`` colours by log(1 + value) (labels keep the raw values): in a tag confusion
    matrix the O/O cell is thousands of times larger than the rest and would flatten them.
    """
    data = np.asarray(matrix, dtype=float)
    if data.shape != (len(row_labels), len(col_labels)):
        raise ValueError(f"matrix shape {data.shape} does not match {len(row_labels)}x{len(col_labels)} labels")
    with matplotlib.rc_context(_STYLE):
        size = max(3.0, 0.5 * max(data.shape) + 2.0)
        fig = _new_figure(size + 1.0, size)
        ax = fig.add_subplot()
        shade = np.log1p(np.clip(data, 0, None)) if log_colour else data
        image = ax.imshow(shade, cmap="viridis", aspect="auto")
        fig.colorbar(image, ax=ax, label="log(1 + value)" if log_colour else None)
        _annotate(ax, data, shade, fmt)
        ax.set_xticks(range(len(col_labels)), labels=list(col_labels), rotation=45, ha="right")
        ax.set_yticks(range(len(row_labels)), labels=list(row_labels))
        ax.set_title(title)
        return _save(fig, path)


def _annotate(ax: object, data: np.ndarray, shade: np.ndarray, fmt: str) -> None:
    """Write each value in its cell, dark text on light cells and light on dark."""
    finite = shade[np.isfinite(shade)]
    middle = (finite.min() + finite.max()) / 2 if finite.size else 0.0
    crowded = data.shape[0] * data.shape[1] > 150  # smaller digits keep big matrices readable
    for (i, j), value in np.ndenumerate(data):
        text = "" if not np.isfinite(value) else format(value, fmt)
        colour = "black" if np.isfinite(shade[i, j]) and shade[i, j] > middle else "white"
        ax.text(j, i, text, ha="center", va="center", color=colour, fontsize=6 if crowded else 8)  # type: ignore[attr-defined]


def plot_confusion(matrix: Sequence[Sequence[int]] | np.ndarray, labels: Sequence[str], path: str | Path) -> Path:
    """Confusion matrix (rows gold, columns predicted) with counts in the cells."""
    title = "Confusion matrix (rows: gold, columns: predicted)"
    return plot_heatmap(matrix, labels, labels, title, path, fmt=".0f", log_colour=True)


def plot_bars(
    values: Mapping[str, float] | Mapping[str, Mapping[str, float]],
    ylabel: str,
    title: str,
    path: str | Path,
    errors: Mapping[str, float] | Mapping[str, Mapping[str, float]] | None = None,
) -> Path:
    """Bar chart. ``{category: value}`` gives one series; ``{category: {series: value}}``
    gives grouped bars. ``errors`` has the same shape and draws ±error whiskers."""
    if not values:
        raise ValueError("plot_bars: no values to plot")
    categories = list(values)
    grouped = {c: (v if isinstance(v, Mapping) else {"": v}) for c, v in values.items()}
    err_grouped = {c: (v if isinstance(v, Mapping) else {"": v}) for c, v in (errors or {}).items()}
    names = list(dict.fromkeys(name for c in categories for name in grouped[c]))
    with matplotlib.rc_context(_STYLE):
        fig = _new_figure(max(4.0, 0.8 * len(categories) * max(1, len(names)) ** 0.5 + 2.0), 4.0)
        ax = fig.add_subplot()
        width = 0.8 / max(1, len(names))
        x = np.arange(len(categories), dtype=float)
        for k, name in enumerate(names):
            heights = [grouped[c].get(name, np.nan) for c in categories]
            errs = [err_grouped.get(c, {}).get(name, 0.0) for c in categories] if errors else None
            ax.bar(x + (k - (len(names) - 1) / 2) * width, heights, width, yerr=errs, capsize=3, label=name or None)
        crowded = len(categories) > 6
        ax.set_xticks(x, labels=categories, rotation=30 if crowded else 0, ha="right" if crowded else "center")
        ax.set(ylabel=ylabel, title=title)
        ax.grid(True, axis="y", alpha=0.3)
        if names != [""]:
            ax.legend(loc="best", fontsize=8)
        return _save(fig, path)
