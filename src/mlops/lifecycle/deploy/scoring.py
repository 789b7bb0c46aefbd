"""Scoring a classifier once: the class from its probabilities, not a second pass.

`predict` then `predict_proba` runs the whole pipeline (every transformer and the model) twice.
For the estimators listed in ARGMAX_CLASSIFIERS, `predict` is the class of highest probability
(or a monotone function of the same decision), so one `predict_proba` gives both. Those
estimators can still break a tie differently from `argmax` (e.g. a binary gradient boosting
model predicts the second class at exactly 0.5), so rows whose two highest probabilities are
within TIE_GAP are scored again with `predict`: the labels are always the estimator's own.
Any other classifier (an SVC with Platt scaling, whose `predict` ignores its probabilities,
or a model we do not know) is scored twice.
"""

from __future__ import annotations

from typing import Any

# scikit-learn classifiers whose predict() is the argmax of predict_proba() (up to ties)
ARGMAX_CLASSIFIERS = frozenset(
    {
        "CalibratedClassifierCV",
        "DecisionTreeClassifier",
        "ExtraTreeClassifier",
        "ExtraTreesClassifier",
        "GradientBoostingClassifier",
        "HistGradientBoostingClassifier",
        "RandomForestClassifier",
        "LogisticRegression",
        "LogisticRegressionCV",
        "KNeighborsClassifier",
        "GaussianNB",
        "MultinomialNB",
        "BernoulliNB",
        "ComplementNB",
        "CategoricalNB",
        "MLPClassifier",
        "LinearDiscriminantAnalysis",
        "QuadraticDiscriminantAnalysis",
    }
)
# far above float64 rounding of a probability (~1e-16), far below any real margin
TIE_GAP = 1e-9


def final_estimator(model: Any) -> Any:
    """The last step of a (possibly nested) scikit-learn Pipeline, or the model itself."""
    steps = getattr(model, "steps", None)
    while isinstance(steps, list) and steps:
        model = steps[-1][1]
        steps = getattr(model, "steps", None)
    return model


def labels_follow_probabilities(model: Any) -> bool:
    """Whether model.predict() is the class of highest model.predict_proba() (ties aside)."""
    est = final_estimator(model)
    cls = type(est)
    return cls.__module__.startswith("sklearn.") and cls.__name__ in ARGMAX_CLASSIFIERS


def predict_with_proba(model: Any, X: Any) -> tuple[Any, Any]:
    """Labels and class probabilities of a classifier, one pass over X where that gives the
    estimator's own labels.

    Args:
        model: a fitted classifier (or Pipeline ending in one) with predict_proba.
        X: the rows to score (non-empty).

    Returns:
        (labels, probabilities): labels as `model.predict(X)` gives them, probabilities as
        `model.predict_proba(X)` (float64, one column per class in `model.classes_` order).
    """
    import numpy as np

    proba = np.asarray(model.predict_proba(X), dtype="float64")
    if not labels_follow_probabilities(model) or proba.ndim != 2:
        return np.asarray(model.predict(X)), proba
    classes = np.asarray(model.classes_)
    labels = classes.take(np.argmax(proba, axis=1), axis=0)
    if proba.shape[1] > 1:
        top2 = np.partition(proba, -2, axis=1)[:, -2:]
        ties = np.flatnonzero(top2[:, 1] - top2[:, 0] <= TIE_GAP)
        if len(ties):
            rows = X.iloc[ties] if hasattr(X, "iloc") else X[ties]
            redone = np.asarray(model.predict(rows))
            if redone.dtype != labels.dtype:
                labels = labels.astype(np.result_type(labels.dtype, redone.dtype))
            labels[ties] = redone
    return labels, proba
