"""Writing and loading model artifacts.

A model file is code (a pickle): it is deserialised only from bytes whose SHA-256 was just
checked against the artifact's manifest (`Store.read_file` verifies the very bytes it returns),
so a tampered file is refused with StoreIntegrityError (exit 3) before any of it runs.

Layout of a `model` artifact (named after `project`, so `churn:3` and `churn@production` work):

    model.joblib      the fitted scikit-learn Pipeline (preprocessing + estimator)
    signature.json    input columns and dtypes, task, target, classes, output column names
    profile.json      reference profile of the training data (features, target, predictions)
    holdout.parquet   the holdout rows: input columns, target, prediction, class probabilities
    importance.json   permutation importance on a bounded holdout sample
    model_card.md     data, metrics, params and lineage, for people
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlops.errors import InputError, UsageError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mlops.store import Store
    from mlops.store.artifact import Artifact

MODEL_KIND = "model"
MODEL_FILE = "model.joblib"
SIGNATURE_FILE = "signature.json"
PROFILE_FILE = "profile.json"
HOLDOUT_FILE = "holdout.parquet"
IMPORTANCE_FILE = "importance.json"
CARD_FILE = "model_card.md"


@dataclass
class LoadedModel:
    artifact: Artifact
    pipeline: Any
    signature: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    @property
    def task(self) -> str:
        return str(self.signature["task"])

    @property
    def classes(self) -> list[Any]:
        return list(self.signature.get("classes") or [])

    @property
    def target(self) -> str:
        return str(self.signature["target"])

    @property
    def features(self) -> list[str]:
        return [c["name"] for c in self.signature["inputs"]]

    @property
    def positive_class(self) -> Any:
        return self.signature.get("positive_class")

    def inputs(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The model's input columns of frame, in training order; a missing column is an error."""
        missing = [c for c in self.features if c not in frame.columns]
        if missing:
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            raise InputError(
                f"the data has no column {missing[0]!r}{more}, which model {self.artifact.label} needs",
                hint="score data with the columns the model was trained on",
            )
        return frame[self.features]

    def predict(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        """(predictions, class probabilities or None) for the rows of frame."""
        x = self.inputs(frame)
        pred = self.pipeline.predict(x)
        proba = None
        if self.task == "classification" and hasattr(self.pipeline, "predict_proba"):
            try:
                proba = self.pipeline.predict_proba(x)
            except (AttributeError, NotImplementedError):
                proba = None
        return pred, proba


def dump_model(pipeline: Any) -> bytes:
    import joblib

    buf = io.BytesIO()
    joblib.dump(pipeline, buf)
    return buf.getvalue()


def resolve_model(store: Store, ref: str) -> Artifact:
    art = store.resolve(ref, kind=MODEL_KIND)
    if art.kind != MODEL_KIND:
        raise UsageError(f"{ref!r} is a {art.kind}, not a model")
    return art


def load_model(store: Store, ref: str | Artifact) -> LoadedModel:
    """Resolve and load a model artifact, verifying the model file's hash before unpickling.

    A model saved under another scikit-learn version loads with a warning in `.warnings`
    (cross-version unpickling is not supported by scikit-learn and may misbehave).

    Args:
        store: the store.
        ref: a model reference (`churn@production`, `churn:3`, an id) or the artifact.

    Returns:
        The loaded pipeline with its signature and the artifact.

    Raises:
        NotFoundError: the reference matches nothing.
        UsageError: the reference names an artifact that is not a model.
        StoreIntegrityError: the model file is missing or its bytes do not match its hash;
            nothing is unpickled.
    """
    import json

    art = ref if not isinstance(ref, str) else resolve_model(store, ref)
    for needed in (MODEL_FILE, SIGNATURE_FILE):
        if needed not in art.files:
            raise UsageError(f"artifact {art.label} has no {needed}; it is not a trained model")
    signature = json.loads(store.read_file(art, SIGNATURE_FILE))
    data = store.read_file(art, MODEL_FILE)  # raises StoreIntegrityError on a hash mismatch
    return _unpickle(art, signature, data)


@dataclass
class ModelBlob:
    """A model's file as bytes, to load elsewhere (a Dask worker): `load` checks the bytes
    against the artifact's recorded SHA-256 before anything is unpickled."""

    artifact: Artifact
    signature: dict[str, Any]
    data: bytes

    @classmethod
    def read(cls, store: Store, art: Artifact) -> ModelBlob:
        """The verified bytes of art's model file and its signature."""
        import json

        for needed in (MODEL_FILE, SIGNATURE_FILE):
            if needed not in art.files:
                raise UsageError(f"artifact {art.label} has no {needed}; it is not a trained model")
        signature = json.loads(store.read_file(art, SIGNATURE_FILE))
        return cls(art, signature, store.read_file(art, MODEL_FILE))

    def load(self) -> LoadedModel:
        """The model, unpickled only when the bytes match the artifact's hash; cached per
        process by that hash.

        Raises:
            StoreIntegrityError: the bytes do not match the recorded hash.
        """
        import hashlib

        from mlops.errors import StoreIntegrityError

        expected = self.artifact.files[MODEL_FILE].hash
        cached = _LOADED.get(expected)
        if cached is not None:
            return cached
        if hashlib.sha256(self.data).hexdigest() != expected:
            raise StoreIntegrityError(
                f"the model file of {self.artifact.label} received by a worker does not match "
                "its recorded SHA-256; it was not loaded"
            )
        model = _unpickle(self.artifact, self.signature, self.data)
        _LOADED[expected] = model
        return model


_LOADED: dict[str, LoadedModel] = {}


def _unpickle(art: Artifact, signature: dict[str, Any], data: bytes) -> LoadedModel:
    """Unpickle verified model bytes (callers check the hash first)."""
    import joblib
    import sklearn

    notes: list[str] = []
    saved = art.metadata.get("sklearn_version") or signature.get("sklearn_version")
    if saved and saved != sklearn.__version__:
        notes.append(
            f"model {art.label} was saved with scikit-learn {saved} but {sklearn.__version__} "
            "is installed; predictions may differ or fail (retrain, or install the saved version)"
        )
    with warnings.catch_warnings():
        # our own note above says it once and clearly
        warnings.filterwarnings("ignore", category=UserWarning, module="sklearn")
        try:
            from sklearn.exceptions import InconsistentVersionWarning

            warnings.simplefilter("ignore", InconsistentVersionWarning)
        except ImportError:  # pragma: no cover - old scikit-learn
            pass
        try:
            pipeline = joblib.load(io.BytesIO(data))
        except ModuleNotFoundError as e:
            raise UsageError(
                f"model {art.label} needs the Python module {e.name!r}, which is not installed",
                hint=f"pip install {e.name}",
            ) from None
    return LoadedModel(art, pipeline, signature, notes)


def infinities_as_missing(X: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """X with +/-inf in its numeric columns replaced by NaN, and how many each column held.

    The one rule for infinities: a model never sees them. Read from a file (`predict`,
    `monitor`), they reach the model as missing values and are counted and reported; in a JSON
    request (`serve`), which cannot hold them as numbers, they are refused with 422.
    """
    import numpy as np

    numeric = X.select_dtypes("number")
    if not len(numeric.columns):
        return X, {}
    counts = np.isinf(numeric.to_numpy(dtype="float64")).sum(axis=0)
    found = {str(c): int(n) for c, n in zip(numeric.columns, counts, strict=True) if n}
    if not found:
        return X, {}
    X = X.copy()
    X[list(found)] = X[list(found)].replace([np.inf, -np.inf], np.nan)
    return X, found
