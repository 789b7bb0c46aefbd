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
    """Reference vs current histograms on the same (finite) bin edges, as frequencies."""
    fig, ax = plt.subplots(figsize=(4.2, 2.6))
    widths = [b - a for a, b in zip(edges[:-1], edges[1:], strict=True)]
    ax.bar(edges[:-1], ref, width=widths, align="edge", alpha=0.55, color=_REF, label="reference")
    ax.bar(edges[:-1], cur, width=widths, align="edge", alpha=0.55, color=_CUR, label="current")
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7)
    return _png(fig)


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
    ax.set_xticklabels([str(lab)[:16] for lab in labels], rotation=45, ha="right", fontsize=7)
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)
    return _png(fig)
