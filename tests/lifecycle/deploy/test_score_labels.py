"""Labels read off the probabilities are exactly what the model's own predict() returns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import (
    ExtraTreesClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlops.lifecycle.deploy.package import ModelHandle, predicts_by_argmax
from mlops.lifecycle.deploy.signature import Column, Signature


@pytest.mark.parametrize(
    "estimator",
    [
        HistGradientBoostingClassifier(max_iter=20, random_state=0),
        RandomForestClassifier(n_estimators=15, random_state=0),
        ExtraTreesClassifier(n_estimators=15, random_state=0),
        LogisticRegression(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_score_labels_equal_predict(estimator) -> None:
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(3000, 3)), columns=["a", "b", "c"])
    noise = rng.normal(scale=1.5, size=len(x))
    y = np.where(x["a"] + noise > 0.5, "yes", np.where(x["b"] + noise > 0, "maybe", "no"))
    model = make_pipeline(StandardScaler(), estimator).fit(x, y)
    signature = Signature(columns=tuple(Column(n, "float") for n in x.columns))
    handle = ModelHandle(model, signature, None, "m", None, "test")
    scores = handle.score(x)
    assert (scores["prediction"].to_numpy() == model.predict(x)).all()
    assert predicts_by_argmax(model) == (not isinstance(estimator, LogisticRegression))
