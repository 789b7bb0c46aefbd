"""The monitor HTML report as a user reads it: the badge, the history axis, the histograms."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from helpers.cli import run_cli
from mlops.report.monitor_html import badge, run_labels
from mlops.report.plots import densities


def _badge(html: str) -> tuple[str, str]:
    m = re.search(r'<span class="badge (\w+)">([^<]*)</span>', html)
    assert m is not None
    return m.group(1), m.group(2)


def test_badge_shows_the_worst_alert_even_when_the_run_passes(churn: Path) -> None:
    out = churn / "reports"
    for month in ("02", "03", "06"):
        r = run_cli(
            "monitor", f"data/batches/2026-{month}.csv", "--fail-on", "none",
            "--html", str(out / f"{month}.html"), cwd=churn,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
    style, text = _badge((out / "06.html").read_text())
    assert style == "fail" and text.startswith("CRITICAL: ") and "exit 0: fail on none" in text
    style, text = _badge((out / "02.html").read_text())
    assert (style, text.split(":")[0]) in (("pass", "OK"), ("warn", "WARNING"), ("warn", "INFO"))

    html = (out / "06.html").read_text()
    assert "History (3 runs)" in html
    # the history charts are labelled by batch, the labels computed from the stored runs
    from mlops.lifecycle.monitor import history
    from mlops.store import Store

    with Store.open(churn / ".mlops") as store:
        past = history(store, "churn")
    assert run_labels(past) == ["2026-02", "2026-03", "2026-06"]
    history_part = html[html.index("History (3 runs)") :]
    for label in run_labels(past):
        assert f"<title>{label}</title>{label}</text>" in history_part


def test_page_embeds_one_svg_chart_per_feature_and_history_metric(churn: Path) -> None:
    page = churn / "06.html"
    r = run_cli(
        "monitor", "data/batches/2026-06.csv", "--fail-on", "none", "--html", str(page), cwd=churn
    )
    assert r.returncode == 0, r.stderr
    html = page.read_text()
    assert "data:image" not in html and "<script" not in html  # self-contained, no JS
    dist = html[html.index("Distributions: reference vs current") : html.index("History (")]
    charts = re.findall(r"<figure>(<svg .*?</svg>)<figcaption>([^<]*)</figcaption>", dist)
    assert len(charts) == 10  # one per feature of the churn example
    names = {cap.split(":")[0] for _, cap in charts}
    assert {"payment_method", "support_calls", "tenure_months"} <= names
    for svg, _ in charts:
        ET.fromstring(svg)  # well-formed
        n_ref, n_cur = svg.count('class="ref"'), svg.count('class="cur"')
        # numeric: 30 equal-width bins; categorical: a bar pair per labelled category
        n_bars = 30 if ">density</text>" in svg else svg.count("<title>") - 1
        assert n_ref == n_cur == n_bars and n_bars >= 3
    history = html[html.index("History (") :]
    # share drifted, the non-p-value drift scores and the model's metrics, one chart each
    assert history.count("<svg ") >= 1 + 4
    assert history.count('class="threshold"') == history.count("<svg ")


def test_labels_fall_back_to_file_names_and_tell_repeats_apart() -> None:
    past = [
        {"source": ["data/batches/2026-02.csv"], "created_at": "2026-11-30T10:00:00Z"},
        {"source": ["logs/predictions.csv"], "created_at": "2026-11-30T11:00:00Z"},
        {"source": ["logs/predictions.csv"], "created_at": "2026-11-30T12:00:00Z"},
        {"source": ["a.csv", "b.csv"], "period": ["2026-03", "2026-04"]},
    ]
    assert run_labels(past) == [
        "2026-02",
        "predictions #1",
        "predictions #2",
        "2026-03..2026-04",
    ]


def test_badge_levels() -> None:
    assert badge(None, 0, 0, 3, False, "critical")[1] == "pass"
    assert badge("warning", 1, 0, 3, False, "critical")[1] == "warn"
    text, style = badge("critical", 1, 0, 3, True, "critical")
    assert style == "fail" and text.startswith("CRITICAL") and "exit 1" in text


def test_quantile_bins_drawn_as_density_show_the_shape() -> None:
    """Quantile bins of a normal sample hold equal shares (a flat bar chart); as densities the
    middle bins stand tallest, as the normal density does."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=20_000)
    edges = np.quantile(x, np.linspace(0, 1, 11))
    shares = np.histogram(x, edges)[0] / len(x)
    assert np.ptp(shares) < 0.01  # flat as shares
    dens = densities(shares.tolist(), np.diff(edges).tolist())
    assert np.allclose(dens, np.histogram(x, edges, density=True)[0])
    assert dens[4] > 2 * dens[0] and dens[5] > 2 * dens[-1]
    assert densities([0.5, 0.5], [0.0, 1.0]) == [0.0, 0.5]


def test_equal_width_rebinning_keeps_the_mass_and_point_masses() -> None:
    from mlops.report.plots import equal_width

    # an integer column: quantile edges pile up around 0, 1 and 2
    edges = [0.0, 0.0 + 1e-12, 1.0, 1.0 + 1e-12, 2.0, 10.0]
    shares = [0.5, 0.0, 0.3, 0.0, 0.2]
    grid, out = equal_width(edges, shares, bins=10)
    assert len(grid) == 11 and np.isclose(sum(out), 1.0)
    assert np.allclose(out, [0.5, 0.3] + [0.2 / 8] * 8)  # point masses stay where they are
    widths = np.diff(grid)
    assert np.allclose(widths, widths[0])
    assert max(densities(out, widths.tolist())) < 10  # no spike from a 1e-12-wide bin
