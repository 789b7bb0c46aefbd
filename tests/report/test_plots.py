"""The report charts as inline SVG: well-formed, one bar per bin or category, gaps for missing
values, and every text from the data escaped."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np

from mlops.report.plots import (
    categorical_distribution,
    densities,
    equal_width,
    history,
    numeric_distribution,
)

NS = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises on markup that is not well-formed XML
    assert root.tag == f"{NS}svg"
    return root


def _bars(root: ET.Element, cls: str) -> list[float]:
    return [float(r.get("height", "nan")) for r in root.iter(f"{NS}rect") if r.get("class") == cls]


def _texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{NS}text")]


def test_numeric_chart_draws_one_bar_per_equal_width_bin_scaled_to_its_density() -> None:
    edges, ref, cur = [0.0, 1.0, 3.0], [0.5, 0.5], [0.2, 0.8]
    root = _parse(numeric_distribution("income", edges, ref, cur))
    for cls, shares in (("ref", ref), ("cur", cur)):
        grid, new = equal_width(edges, shares)
        want = densities(new, np.diff(grid).tolist())
        got = _bars(root, cls)
        assert len(got) == 30
        # bar heights are proportional to the densities
        assert np.allclose(np.array(got) / max(got), np.array(want) / max(want), atol=0.01)
    texts = _texts(root)
    assert "income" in texts and "density" in texts
    assert "reference" in texts and "current" in texts


def test_categorical_chart_escapes_names_and_draws_a_bar_pair_per_category() -> None:
    cats = ["<script>alert(1)</script>", 'a&b"c', "a-very-long-category-name", "(other)"]
    svg = categorical_distribution("<b>plan</b>", cats, [0.4, 0.3, 0.2, 0.1], [0.1, 0.2, 0.3, 0.4])
    assert "<script" not in svg and "<b>" not in svg
    assert "&lt;script&gt;" in svg
    root = _parse(svg)
    ref, cur = _bars(root, "ref"), _bars(root, "cur")
    assert len(ref) == len(cur) == 4
    assert ref == sorted(ref, reverse=True) and cur == sorted(cur)
    texts = _texts(root)
    assert "<b>plan</b>" in texts  # the title, unescaped by the parser: text, not markup
    # a long label is cut to 14 characters; its full text stays in its tooltip
    labels = [t for t in root.iter(f"{NS}text") if t.find(f"{NS}title") is not None]
    tips = [t.find(f"{NS}title") for t in labels]
    assert [x.text for x in tips if x is not None] == cats
    assert [x.tail for x in tips if x is not None][2] == "a-very-long-c\u2026"


def test_history_leaves_gaps_for_missing_values_and_draws_the_threshold() -> None:
    labels = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    values: list[float | None] = [0.1, None, 0.3, 0.4, math.nan, 0.2]
    root = _parse(history("psi <x>", labels, values, 0.25, "drift_share"))
    points = [c for c in root.iter(f"{NS}circle") if c.get("class") == "point"]
    assert len(points) == 4  # None and NaN are not drawn
    lines = [p for p in root.iter(f"{NS}polyline") if p.get("class") == "line"]
    assert len(lines) == 1 and len(lines[0].get("points", "").split()) == 2  # 0.3 -> 0.4 only
    (thr,) = [x for x in root.iter(f"{NS}line") if x.get("class") == "threshold"]
    ys = {float(c.get("cx", "nan")): float(c.get("cy", "nan")) for c in points}
    y_thr = float(thr.get("y1", "nan"))
    y_by_value = dict(zip([0.1, 0.3, 0.4, 0.2], ys.values(), strict=True))
    # SVG y grows downwards: values above the threshold sit above its line
    assert y_by_value[0.3] < y_thr < y_by_value[0.2] and y_by_value[0.4] < y_thr
    texts = _texts(root)
    assert "drift_share" in texts and "psi <x>" in texts
    assert all(any(t.endswith(lab) for t in texts) for lab in labels)


def test_history_without_any_value_still_draws_the_axes() -> None:
    root = _parse(history("m", ["a", "b"], [None, None]))
    assert not list(root.iter(f"{NS}circle")) and not list(root.iter(f"{NS}polyline"))
    assert "m" in _texts(root)


def test_long_history_labels_every_kth_run_and_always_the_latest() -> None:
    labels = [f"run-{i:02d}" for i in range(50)]
    root = _parse(history("m", labels, [float(i) for i in range(50)], 25.0))
    shown = [t.find(f"{NS}title") for t in root.iter(f"{NS}text")]
    names = [x.text for x in shown if x is not None]
    assert 10 <= len(names) <= 16 and names[-1] == "run-49"
    assert len(list(root.iter(f"{NS}circle"))) == 50  # every run is still drawn
