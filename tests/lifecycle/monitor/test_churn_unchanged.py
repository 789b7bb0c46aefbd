"""The churn example monitored on fresh draws of its own training month: the data did not
change, so no alert at warning or above may fire (performance, drift, quality, target drift).
Drawn like a later month instead (MONTH = 2, charges up 6%), the same loop raises drift
warnings on every draw, so the check can fail."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mlops.lifecycle.monitor import monitor

ROWS = 4000  # the example's training month
MONTH = 0


def _serious_alerts(churn: Path, open_project, draws: range) -> dict[int, list[str]]:
    """Per draw that raised any, its alerts at warning or above."""
    from mlops.examples.churn import generate_month

    config, store = open_project
    raised: dict[int, list[str]] = {}
    for i in draws:
        fresh = generate_month(MONTH, ROWS, np.random.default_rng(5000 + i), 1_000_000 + i * ROWS)
        path = churn / f"fresh-{i}.csv"
        fresh.to_csv(path, index=False)
        result = monitor(config, store, [str(path)])
        assert result.performance["labelled_rows"] == ROWS
        serious = [f"{a.severity} {a.message}" for a in result.alerts if a.severity != "info"]
        if serious:
            raised[i] = serious
    return raised


def test_fresh_draws_of_the_training_month_raise_no_alert(churn: Path, open_project) -> None:
    assert _serious_alerts(churn, open_project, range(3)) == {}


@pytest.mark.slow
def test_twenty_fresh_draws_of_the_training_month_raise_no_alert(churn: Path, open_project) -> None:
    assert _serious_alerts(churn, open_project, range(3, 23)) == {}
