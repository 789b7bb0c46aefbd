"""Data frames for tests: scikit-learn's bundled datasets, and churn months from the example's
generator with the churn model's feature columns."""

from __future__ import annotations

import numpy as np
import pandas as pd


def dataset_frame(name: str) -> pd.DataFrame:
    """A scikit-learn bundled dataset as one frame, its label in `target` (breast_cancer, wine,
    diabetes, iris...)."""
    from sklearn import datasets

    return getattr(datasets, f"load_{name}")(as_frame=True).frame


NUMERIC = {
    "tenure_months": "int",
    "monthly_charges": "float",
    "total_charges": "float",
    "support_calls": "int",
    "usage_gb": "float",
    "age": "int",
}
CATEGORICAL = {
    "contract": "string",
    "payment_method": "string",
    "region": "string",
    "has_partner": "bool",
}
FEATURES = {**NUMERIC, **CATEGORICAL}


def churn_frames(n_train: int = 800, n_batch: int = 300) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training month, a later batch) of the churn example, seeded."""
    from mlops.examples.churn import generate_month

    rng = np.random.default_rng(11)
    train = generate_month(0, n_train, rng, 100_000)
    batch = generate_month(5, n_batch, rng, 200_000)
    return train, batch


def features_of(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[list(FEATURES)]
