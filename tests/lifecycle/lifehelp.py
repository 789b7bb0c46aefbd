"""Helpers shared by the lifecycle tests (a uniquely named module, importable from tests)."""

from __future__ import annotations

import pandas as pd


def dataset_frame(name: str) -> pd.DataFrame:
    from sklearn import datasets

    loader = {
        "breast_cancer": datasets.load_breast_cancer,
        "wine": datasets.load_wine,
        "diabetes": datasets.load_diabetes,
    }[name]
    return loader(as_frame=True).frame


FAST_LR = {
    "estimator": "sklearn.linear_model.LogisticRegression",
    "params": {"max_iter": 2000},
    "importance": {"max_rows": 200, "repeats": 2},
}
