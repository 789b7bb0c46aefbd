"""Scoring once: labels derived from probabilities equal the estimator's own predict()."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.ensemble import (
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from mlops.lifecycle.deploy.scoring import labels_follow_probabilities, predict_with_proba


def _data(classes: list, n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Integer-valued features (so neighbours and tree leaves tie) and labels from them."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.integers(0, 4, size=(n, 3)), columns=["a", "b", "c"]).astype(float)
    score = X["a"] + 0.5 * X["b"] + rng.normal(0, 1.0, n)
    bins = np.quantile(score, np.linspace(0, 1, len(classes) + 1)[1:-1])
    y = np.asarray(classes, dtype=object)[np.digitize(score, bins)]
    if all(isinstance(c, int) for c in classes):
        y = y.astype(int)
    return X, y


# SVC's `probability` is deprecated from scikit-learn 1.9 (it warns when fitted)
pytestmark = pytest.mark.filterwarnings("ignore:The `probability` parameter:FutureWarning")


def _platt_svc() -> SVC:
    return SVC(probability=True, random_state=0)


MODELS = {
    "forest": lambda: RandomForestClassifier(n_estimators=10, max_depth=3, random_state=0),
    "extra-trees": lambda: ExtraTreesClassifier(n_estimators=4, random_state=0),
    "tree": lambda: DecisionTreeClassifier(max_depth=2, random_state=0),
    "hist-gb": lambda: HistGradientBoostingClassifier(max_iter=5),
    "gb": lambda: GradientBoostingClassifier(n_estimators=5, random_state=0),
    "logistic": lambda: make_pipeline(StandardScaler(), LogisticRegression()),
    "knn-2": lambda: KNeighborsClassifier(n_neighbors=2),
    "knn-4": lambda: KNeighborsClassifier(n_neighbors=4),
    "naive-bayes": lambda: GaussianNB(),
    "lda": lambda: LinearDiscriminantAnalysis(),
    "calibrated": lambda: CalibratedClassifierCV(LogisticRegression(), cv=3),
    "svc-platt": lambda: _platt_svc(),
}
CLASSES = {
    "binary-int": [0, 1],
    "binary-str": ["no", "yes"],
    "three-str": ["high", "low", "mid"],
}


@pytest.mark.parametrize("classes", CLASSES.values(), ids=CLASSES.keys())
@pytest.mark.parametrize("name", MODELS.keys())
def test_labels_equal_the_estimators_predict(name, classes):
    X, y = _data(classes)
    model = MODELS[name]().fit(X, y)
    X_new, _ = _data(classes, n=300, seed=1)
    labels, proba = predict_with_proba(model, X_new)
    expected = model.predict(X_new)
    assert labels.tolist() == expected.tolist()
    np.testing.assert_array_equal(proba, model.predict_proba(X_new))


TIE_MODELS = {
    "knn": lambda: KNeighborsClassifier(n_neighbors=50),
    "tree": MODELS["tree"],
    "gb": MODELS["gb"],
    "logistic": MODELS["logistic"],
    "forest": lambda: RandomForestClassifier(n_estimators=3, bootstrap=False, random_state=0),
}


@pytest.mark.parametrize("name", TIE_MODELS.keys())
def test_exact_ties_follow_predict(name):
    """Rows of equal probability: the estimator's tie-break, not argmax's first column."""
    X = pd.DataFrame({"a": [0.0, 0.0, 1.0, 1.0] * 25, "b": [0.0] * 100})
    y = np.array(["yes", "no", "yes", "no"] * 25, dtype=object)  # every point is a 50/50 tie
    model = TIE_MODELS[name]().fit(X, y)
    labels, proba = predict_with_proba(model, X)
    top2 = np.sort(proba, axis=1)[:, -2:]
    assert np.all(np.abs(top2[:, 1] - top2[:, 0]) < 1e-6)  # the data really ties
    assert labels.tolist() == model.predict(X).tolist()


def test_one_pass_over_the_pipeline():
    calls: list[int] = []

    def count(X):
        calls.append(len(X))
        return X

    X, y = _data([0, 1])
    forest = RandomForestClassifier(n_estimators=5, random_state=0)
    model = make_pipeline(FunctionTransformer(count), forest).fit(X, y)
    proba = model.predict_proba(X)
    top2 = np.sort(proba, axis=1)[:, -2:]
    ties = int((top2[:, 1] - top2[:, 0] <= 1e-9).sum())
    calls.clear()
    labels, _ = predict_with_proba(model, X)
    # predict_proba over every row, then predict over the tied rows alone (if any); predict
    # then predict_proba would be two passes over every row
    assert calls == [len(X)] + ([ties] if ties else [])
    assert ties < len(X) // 4
    assert labels.tolist() == model.predict(X).tolist()


def test_classifiers_whose_predict_ignores_probabilities_are_scored_twice():
    assert labels_follow_probabilities(make_pipeline(StandardScaler(), LogisticRegression()))
    assert not labels_follow_probabilities(_platt_svc())
