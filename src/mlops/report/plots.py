"""The HTML reports' charts as small inline SVG (plain strings, no plotting library)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from mlops.report.svg import Chart

_REF = "#5b7db1"
_CUR = "#e0823d"
_LIMIT = "#b3261e"


def numeric_distribution(
    title: str, edges: Sequence[float], ref: Sequence[float], cur: Sequence[float]
) -> str:
    """Reference vs current histograms, redrawn on equal-width bins as densities.

    The profile's bins are reference quantiles: unequal widths, so their shares alone draw every
    reference histogram flat, and an integer column has near-zero-width bins around each value
    whose share / width is meaningless. `equal_width` spreads each bin's share over equal bins
    (a point mass lands in the bin holding it).

    Args:
        title: the chart's title (a column name).
        edges: the profile's bin edges (ascending).
        ref: the reference share per bin.
        cur: the current share per bin.

    Returns:
        An SVG element: overlaid bars of reference and current density, a legend, axes.
    """
    series = []
    for shares, colour, cls in ((ref, _REF, "ref"), (cur, _CUR, "cur")):
        grid, new_shares = equal_width(edges, shares)
        widths = [b - a for a, b in zip(grid[:-1], grid[1:], strict=True)]
        series.append((grid, widths, densities(new_shares, widths), colour, cls))
    top = max((d for s in series for d in s[2] if math.isfinite(d)), default=0.0)
    grid = series[0][0]
    chart = Chart(title, (grid[0], grid[-1]), (0.0, top * 1.08 or 1.0))
    chart.y_axis("density")
    for grid, widths, dens, colour, cls in series:
        for a, w, d in zip(grid[:-1], widths, dens, strict=True):
            chart.rect(a, 0.0, w, d, colour, cls, 0.55)
    chart.x_ticks()
    chart.legend([("reference", _REF, "box"), ("current", _CUR, "box")])
    return chart.render()


def densities(shares: Sequence[float], widths: Sequence[float]) -> list[float]:
    """Share per unit of x in each bin (0 for an empty-width bin)."""
    return [s / w if w > 0 else 0.0 for s, w in zip(shares, widths, strict=True)]


def equal_width(
    edges: Sequence[float], shares: Sequence[float], bins: int = 30
) -> tuple[list[float], list[float]]:
    """The same distribution on `bins` equal-width bins over the same range: each source bin's
    share is spread uniformly over its extent; a (near) zero-width bin's share goes to the bin
    holding its midpoint. Total share is kept."""
    import numpy as np

    lo, hi = float(edges[0]), float(edges[-1])
    if not hi > lo:
        return [lo - 0.5, lo + 0.5], [float(sum(shares))]
    grid = np.linspace(lo, hi, bins + 1)
    out = np.zeros(bins)
    tiny = (hi - lo) * 1e-9
    for a, b, s in zip(edges[:-1], edges[1:], shares, strict=True):
        if s == 0:
            continue
        if b - a <= tiny:
            i = int(np.searchsorted(grid, (a + b) / 2, side="right")) - 1
            out[min(max(i, 0), bins - 1)] += s
            continue
        overlap = np.clip(np.minimum(grid[1:], b) - np.maximum(grid[:-1], a), 0, None)
        out += s * overlap / (b - a)
    return grid.tolist(), out.tolist()


def categorical_distribution(
    title: str, categories: Sequence[str], ref: Sequence[float], cur: Sequence[float]
) -> str:
    """Reference vs current share of each category, as side-by-side bars.

    Args:
        title: the chart's title (a column name).
        categories: the category names, one bar pair each (labels cut to 14 characters).
        ref: the reference share per category.
        cur: the current share per category.

    Returns:
        An SVG element with one reference and one current bar per category.
    """
    top = max((v for v in (*ref, *cur) if math.isfinite(v)), default=0.0)
    chart = Chart(title, (-0.5, len(categories) - 0.5), (0.0, top * 1.12 or 1.0))
    chart.y_axis("share")
    for i, (r, c) in enumerate(zip(ref, cur, strict=True)):
        chart.rect(i - 0.4, 0.0, 0.4, _finite(r), _REF, "ref", 0.85)
        chart.rect(i, 0.0, 0.4, _finite(c), _CUR, "cur", 0.85)
    chart.x_labels([str(c) for c in categories], range(len(categories)), 14)
    chart.legend([("reference", _REF, "box"), ("current", _CUR, "box")])
    return chart.render()


def _finite(v: float) -> float:
    return v if math.isfinite(v) else 0.0


def history(
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    threshold: float | None = None,
    threshold_label: str = "threshold",
) -> str:
    """A metric across runs (or windows), with its threshold drawn as a dashed line.

    Args:
        title: the chart's title.
        labels: one x label per run or window (cut to 22 characters; with more than 16,
            every k-th is shown, the latest always).
        values: the metric per run; None (or a non-finite value) leaves a gap in the line.
        threshold: drawn as a dashed horizontal line, if given.
        threshold_label: the threshold's legend entry.

    Returns:
        An SVG element: a point per known value, lines joining consecutive known values.
    """
    ys = [v if v is not None and math.isfinite(v) else None for v in values]
    known = [v for v in ys if v is not None] + ([threshold] if threshold is not None else [])
    lo, hi = (min(known), max(known)) if known else (0.0, 1.0)
    pad = (hi - lo) * 0.08 or abs(hi) * 0.1 or 0.5
    chart = Chart(title, (-0.5, max(len(ys), 1) - 0.5), (lo - pad, hi + pad))
    chart.y_axis()
    for run in _runs(ys):
        pts = " ".join(f"{chart.px(i):.1f},{chart.py(v):.1f}" for i, v in run)
        chart.add(f'<polyline class="line" points="{pts}" fill="none" stroke="{_REF}"/>')
    for i, v in enumerate(ys):
        if v is not None:
            chart.add(
                f'<circle class="point" cx="{chart.px(i):.1f}" cy="{chart.py(v):.1f}" r="3" '
                f'fill="{_REF}"/>'
            )
    if threshold is not None:
        y = f"{chart.py(threshold):.1f}"
        chart.add(
            f'<line class="threshold" x1="{chart.px(-0.5):.1f}" x2="{chart.px(len(ys) - 0.5):.1f}"'
            f' y1="{y}" y2="{y}" stroke="{_LIMIT}" stroke-dasharray="4 3"/>'
        )
        chart.legend([(threshold_label, _LIMIT, "dash")])
    # at most ~16 labels fit under the axis: label every k-th run, the latest always
    k = max(1, math.ceil(len(labels) / 16))
    shown = [i for i in range(len(labels)) if (len(labels) - 1 - i) % k == 0]
    chart.x_labels([str(labels[i]) for i in shown], shown, 22)
    return chart.render()


def _runs(ys: Sequence[float | None]) -> list[list[tuple[int, float]]]:
    """The stretches of consecutive known values (a line is drawn through each)."""
    runs: list[list[tuple[int, float]]] = [[]]
    for i, v in enumerate(ys):
        if v is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((i, v))
    return [r for r in runs if len(r) > 1]
