"""A telecom churn dataset, generated reproducibly, with monthly batches that drift.

Month 1 is the training data. Later months drift on a script:
- gradual: monthly_charges creeps up ~3% a month (a price rise rolling out);
- sudden: from month 5, a new payment method ("wallet") takes ~20% of customers, support calls
  jump, and the link between support calls and churn strengthens (concept drift), so a model
  trained on month 1 loses accuracy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

MONTHS = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
SUDDEN_FROM = 4  # index into MONTHS: 2026-05
ROWS_PER_MONTH = 4000


def generate_month(
    month_index: int, n: int, rng: np.random.Generator, id_start: int
) -> pd.DataFrame:
    sudden = month_index >= SUDDEN_FROM
    tenure = rng.integers(1, 73, n)
    contract = rng.choice(["month-to-month", "one-year", "two-year"], n, p=[0.55, 0.25, 0.20])
    methods = ["card", "bank-transfer", "cheque", "wallet"]
    p_method = [0.30, 0.25, 0.25, 0.20] if sudden else [0.40, 0.35, 0.25, 0.0]
    payment = rng.choice(methods, n, p=p_method)
    region = rng.choice(["north", "south", "east", "west"], n, p=[0.3, 0.3, 0.2, 0.2])
    base_charge = rng.normal(65, 20, n).clip(18, 140)
    monthly = (base_charge * (1 + 0.03 * month_index)).round(2)
    total = (monthly * tenure * rng.uniform(0.9, 1.0, n)).round(2)
    calls_lambda = 2.6 if sudden else 1.2
    support_calls = rng.poisson(calls_lambda, n)
    usage = rng.lognormal(3.0, 0.6, n).round(1)
    age = rng.integers(18, 80, n)
    partner = rng.random(n) < 0.45

    call_effect = 0.55 if sudden else 0.35
    logit = (
        -1.3
        - 0.035 * tenure
        + 0.022 * (monthly - 65)
        + call_effect * support_calls
        + np.where(contract == "month-to-month", 1.1, np.where(contract == "one-year", 0.0, -0.9))
        + np.where(payment == "cheque", 0.45, 0.0)
        - 0.25 * partner
        - 0.004 * (usage - 20)
    )
    churned = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)

    df = pd.DataFrame(
        {
            "customer_id": np.arange(id_start, id_start + n),
            "month": MONTHS[month_index],
            "tenure_months": tenure,
            "contract": contract,
            "payment_method": payment,
            "region": region,
            "monthly_charges": monthly,
            "total_charges": total,
            "support_calls": support_calls,
            "usage_gb": usage,
            "age": age,
            "has_partner": partner,
            "churned": churned,
        }
    )
    # a little realistic missingness
    miss = rng.random(n) < 0.01
    df.loc[miss, "total_charges"] = np.nan
    return df


def write_data(directory: Path, seed: int = 7) -> list[Path]:
    rng = np.random.default_rng(seed)
    data = directory / "data"
    batches = data / "batches"
    batches.mkdir(parents=True, exist_ok=True)
    written = []
    next_id = 100_000
    for i, month in enumerate(MONTHS):
        df = generate_month(i, ROWS_PER_MONTH, rng, next_id)
        next_id += ROWS_PER_MONTH
        path = data / "train.csv" if i == 0 else batches / f"{month}.csv"
        df.to_csv(path, index=False)
        written.append(path)
    return written
