"""Plots: valid PNGs, byte-identical on repeat, atomic (no temp files left), input checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from xner.evaluation.plots import plot_bars, plot_confusion, plot_curves, plot_heatmap

PNG = b"\x89PNG\r\n\x1a\n"
CURVES = {
    "random": ([0, 10, 20], [0.30, 0.35, 0.41], [0.02, 0.03, 0.01]),
    "similar": ([0, 10, 20], [0.30, 0.38, 0.44], None),
}


def _draw_all(folder: Path) -> dict[str, bytes]:
    plot_curves(CURVES, "% added", "F1", "Learning curve", folder / "curves.png")
    plot_heatmap([[0.0, 0.5], [0.5, np.nan]], ["a", "b"], ["a", "b"], "distances", folder / "heat.png")
    plot_confusion(np.array([[50, 1], [2, 3]]), ["O", "B-PER"], folder / "conf.png")
    plot_bars({"raw": 0.2, "normalised": 0.6}, "F1", "flat", folder / "bars.png")
    plot_bars(
        {"ai": {"raw": 0.2, "norm": 0.5}, "music": {"raw": 0.4, "norm": 0.7}},
        "F1", "grouped", folder / "grouped.png",
        errors={"ai": {"raw": 0.01, "norm": 0.02}, "music": {"raw": 0.03, "norm": 0.01}},
    )
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_all_plots_write_pngs_deterministically_and_atomically(tmp_path: Path) -> None:
    first = _draw_all(tmp_path / "a")
    second = _draw_all(tmp_path / "b")
    assert set(first) == {"curves.png", "heat.png", "conf.png", "bars.png", "grouped.png"}  # no temp files
    for name, data in first.items():
        assert data.startswith(PNG), name
        assert data == second[name], f"{name} differs between two identical runs"


def test_std_band_is_drawn(tmp_path: Path) -> None:
    xs, means, stds = CURVES["random"]
    with_band = plot_curves({"r": (xs, means, stds)}, "x", "y", "t", tmp_path / "band.png").read_bytes()
    without = plot_curves({"r": (xs, means, None)}, "x", "y", "t", tmp_path / "none.png").read_bytes()
    assert with_band != without


def test_overwrite_replaces_file(tmp_path: Path) -> None:
    path = tmp_path / "bars.png"
    path.write_bytes(b"old")
    plot_bars({"x": 1.0}, "y", "t", path)
    assert path.read_bytes().startswith(PNG)


def test_input_checks(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="2 x values but 3 means"):
        plot_curves({"s": ([0, 1], [1, 2, 3], None)}, "x", "y", "t", tmp_path / "c.png")
    with pytest.raises(ValueError, match="does not match 2x3 labels"):
        plot_heatmap([[1, 2], [3, 4]], ["a", "b"], ["a", "b", "c"], "t", tmp_path / "h.png")
    with pytest.raises(ValueError, match="no values"):
        plot_bars({}, "y", "t", tmp_path / "b.png")
    assert not any(tmp_path.iterdir())
