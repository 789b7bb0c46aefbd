"""Small matplotlib plots rendered to PNG bytes for the HTML reports (Agg backend, no display)."""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

_REF = "#5b7db1"
_CUR = "#e0823d"


def _png(fig: plt.Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def numeric_distribution(
    title: str, edges: Sequence[float], ref: Sequence[float], cur: Sequence[float]
) -> bytes:
    """Reference vs current histograms, redrawn on equal-width bins as densities.

    The profile's bins are reference quantiles: unequal widths, so their shares alone draw every
    reference histogram flat, and an integer column has near-zero-width bins around each value
    whose share / width is meaningless. `equal_width` spreads each bin's share over equal bins
    (a point mass lands in the bin holding it)."""
    fig, ax = plt.subplots(figsize=(4.2, 2.6))
    for shares, color, label in ((ref, _REF, "reference"), (cur, _CUR, "current")):
        new_edges, new_shares = equal_width(edges, shares)
        widths = [b - a for a, b in zip(new_edges[:-1], new_edges[1:], strict=True)]
        ax.bar(
            new_edges[:-1], densities(new_shares, widths), width=widths, align="edge",
            alpha=0.55, color=color, label=label,
        )  # fmt: skip
    ax.set_ylabel("density", fontsize=7)
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7)
    return _png(fig)


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
) -> bytes:
    fig, ax = plt.subplots(figsize=(4.2, 2.6))
    x = range(len(categories))
    ax.bar([i - 0.2 for i in x], ref, width=0.4, color=_REF, label="reference")
    ax.bar([i + 0.2 for i in x], cur, width=0.4, color=_CUR, label="current")
    ax.set_xticks(list(x))
    ax.set_xticklabels([str(c)[:14] for c in categories], rotation=45, ha="right", fontsize=7)
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7)
    return _png(fig)


def history(
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    threshold: float | None = None,
    threshold_label: str = "threshold",
) -> bytes:
    """A metric across runs (or windows), with its threshold drawn as a dashed line."""
    fig, ax = plt.subplots(figsize=(4.2, 2.6))
    xs = list(range(len(values)))
    ax.plot(xs, [float("nan") if v is None else v for v in values], marker="o", color=_REF)
    if threshold is not None:
        ax.axhline(threshold, color="#b3261e", linestyle="--", linewidth=1, label=threshold_label)
        ax.legend(fontsize=7)
    ax.set_xticks(xs)
    ax.set_xticklabels([str(lab)[:22] for lab in labels], rotation=45, ha="right", fontsize=7)
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)
    return _png(fig)
