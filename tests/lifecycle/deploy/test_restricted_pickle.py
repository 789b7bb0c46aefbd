"""The restricted unpickler: real scikit-learn pipelines load; anything outside the allow-list
is refused before it is imported or called."""

from __future__ import annotations

import pickle
import pickletools
import subprocess
import sys

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

from helpers.data import CATEGORICAL, NUMERIC, churn_frames
from helpers.models import fit_pipeline
from mlops.errors import StoreIntegrityError
from mlops.lifecycle.deploy.restricted_pickle import restricted_loads


def _global(module: str, name: str, arg: str) -> bytes:
    """A protocol-0 pickle that fetches module.name and calls it with one string argument."""
    return f"c{module}\n{name}\n(V{arg}\ntR.".encode()


@pytest.fixture(scope="module")
def frames():  # type: ignore[no-untyped-def]
    train, batch = churn_frames()
    cols = list(NUMERIC) + list(CATEGORICAL)
    return train[cols], train["churned"], batch[cols]


def _pre(encoder):  # type: ignore[no-untyped-def]
    return ColumnTransformer(
        [("num", SimpleImputer(), list(NUMERIC)), ("cat", encoder, list(CATEGORICAL))]
    )


def test_loads_real_pipelines(frames):
    X, y, batch = frames
    ordinal = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
    models = [
        fit_pipeline(churn_frames()[0]),  # ColumnTransformer, OneHotEncoder, LogisticRegression
        Pipeline([("pre", _pre(ordinal)), ("m", HistGradientBoostingClassifier(max_iter=10))]).fit(
            X, y
        ),
        Pipeline(
            [
                ("pre", _pre(OneHotEncoder(handle_unknown="ignore"))),
                ("m", RandomForestRegressor(n_estimators=3, random_state=0)),
            ]
        ).fit(X, y),
    ]
    for model in models:
        loaded = restricted_loads(pickle.dumps(model, protocol=4))
        assert type(loaded) is type(model)
        np.testing.assert_array_equal(loaded.predict(batch), model.predict(batch))


@pytest.mark.parametrize(
    "module,name",
    [
        ("os", "system"),
        ("posix", "system"),
        ("builtins", "eval"),
        ("builtins", "exec"),
        ("builtins", "getattr"),
        ("builtins", "__import__"),
        ("subprocess", "Popen"),
        ("numpy", "load"),  # a function of an allowed library
        ("numpy.testing", "assert_"),
        ("sklearn.utils._testing", "assert_run_python_script_without_output"),
        ("sklearn.datasets", "fetch_openml"),
        ("scipy.io", "loadmat"),
        ("sklearn.utils", "Bunch"),  # a class, but not an estimator
        ("sklearn.pipeline", "Pipeline.__init__"),  # a dotted name
    ],
)
def test_refuses_anything_outside_the_allow_list(module, name, tmp_path):
    marker = tmp_path / "pwned"
    data = _global(module, name, f"touch {marker}")
    with pytest.raises(StoreIntegrityError, match="restricted loader does not allow"):
        restricted_loads(data)
    assert not marker.exists()


def test_refused_modules_are_never_imported():
    code = (
        "import sys\n"
        "from mlops.lifecycle.deploy.restricted_pickle import restricted_loads\n"
        "try:\n"
        "    restricted_loads(b'cthis\\nlove\\n(tR.')\n"
        "except Exception as e:\n"
        "    print(type(e).__name__)\n"
        "print('this' in sys.modules)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.split() == ["StoreIntegrityError", "False"], r.stderr
    assert "Beautiful is better" not in r.stdout  # `import this` prints the Zen of Python


def test_the_pipeline_pickle_really_names_its_classes(frames):
    """Guards the test above: a pipeline pickle does go through find_class (GLOBAL opcodes)."""
    names = {
        arg
        for op, arg, _ in pickletools.genops(pickle.dumps(fit_pipeline(churn_frames()[0]), 4))
        if op.name == "SHORT_BINUNICODE"
    }
    assert "LogisticRegression" in names and "sklearn.pipeline" in names


def test_malformed_pickle_is_an_integrity_error():
    with pytest.raises(StoreIntegrityError, match="cannot be loaded"):
        restricted_loads(b"\x80\x04not a pickle")
