"""Reading a monitoring batch: files or the prediction log, labels joined by id, the model's
reference profile, and the column roles (features, outputs, target, id, time)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlops.errors import InputError, UsageError
from mlops.lifecycle.model_io import HOLDOUT_FILE, PROFILE_FILE, SIGNATURE_FILE

if TYPE_CHECKING:
    import pandas as pd

    from mlops.data.readers import DataFile
    from mlops.stats.profile import DatasetProfile
    from mlops.store import Store
    from mlops.store.artifact import Artifact

LOG_PREDICTION = "_prediction"
LOG_PROBA = "_proba_"
LOG_ID = "_id"
LOG_TIME = "_scored_at"


@dataclass
class Reference:
    """What the model artifact says about its training data and its outputs."""

    artifact: Artifact
    signature: dict[str, Any]
    data: DatasetProfile  # features + target (training data)
    outputs: DatasetProfile  # prediction + class probabilities (holdout)
    features: list[str]
    target: str
    prediction: str
    proba: dict[str, str]  # class (as str) -> column
    rows: dict[str, int]

    @property
    def task(self) -> str:
        return str(self.signature.get("task"))

    @property
    def classes(self) -> list[Any]:
        return list(self.signature.get("classes") or [])

    @property
    def positive(self) -> Any:
        return self.signature.get("positive_class")


def load_reference(store: Store, art: Artifact) -> Reference:
    from mlops.stats.profile import DatasetProfile

    if SIGNATURE_FILE not in art.files:
        raise UsageError(f"artifact {art.label} has no {SIGNATURE_FILE}; it is not a trained model")
    if PROFILE_FILE not in art.files:
        raise UsageError(
            f"model {art.label} has no reference profile ({PROFILE_FILE}), so there is nothing "
            "to compare the batch with",
            hint="retrain it with `mlops train`, which stores the profile of the training data",
        )
    signature = store.read_json(art, SIGNATURE_FILE)
    raw = store.read_json(art, PROFILE_FILE)
    try:
        cols = raw["columns"]
        data = DatasetProfile.from_dict(raw["data"])
        outputs = DatasetProfile.from_dict(raw["predictions"])
        features = list(cols["features"])
        ref = Reference(
            art,
            signature,
            data,
            outputs,
            features,
            str(cols["target"]),
            str(cols["prediction"]),
            {str(k): str(v) for k, v in (cols.get("proba") or {}).items()},
            dict(raw.get("rows") or {}),
        )
    except (KeyError, TypeError, AttributeError) as e:
        raise UsageError(
            f"the reference profile of model {art.label} is malformed ({e!r})",
            hint="retrain the model with `mlops train`",
        ) from None
    except InputError as e:
        raise UsageError(
            f"the reference profile of model {art.label} cannot be read: {e.message}",
            hint="retrain the model with this version of mlops",
        ) from None
    missing = [f for f in features if f not in data.columns]
    if missing:
        raise UsageError(
            f"the reference profile of model {art.label} has no column {missing[0]!r}",
            hint="retrain the model with `mlops train`",
        )
    return ref


def load_holdout(store: Store, art: Artifact) -> pd.DataFrame | None:
    import pandas as pd

    if HOLDOUT_FILE not in art.files:
        return None
    return pd.read_parquet(io.BytesIO(store.read_file(art, HOLDOUT_FILE)))


@dataclass
class BatchLayout:
    """How the batch's columns map to roles."""

    columns: list[str]  # columns present in the files
    read: list[str]  # columns to read
    rename: dict[str, str]  # prediction-log names -> model output names
    is_log: bool
    has_prediction: bool
    has_proba: bool
    label_column: str | None  # in the batch
    id_column: str | None
    time_column: str | None
    extra: list[str] = field(default_factory=list)


def file_columns(path: DataFile, delimiter: str | None, encoding: str) -> list[str]:
    """The column names of one data file, without reading its rows."""
    from mlops.data.readers import _file_format, parquet_columns

    if _file_format(path) == "parquet":
        return parquet_columns(path)
    from mlops.data.readers import CsvOptions, iter_chunks

    for frame in iter_chunks(
        [path], chunk_rows=1, csv_options=CsvOptions(delimiter or None, encoding)
    ):
        return [str(c) for c in frame.columns]
    return []


def layout(
    ref: Reference,
    columns: list[str],
    label_column: str,
    id_column: str | None,
    time_column: str | None,
) -> BatchLayout:
    """Check the batch's columns against the model; a missing feature is an input error."""
    present = set(columns)
    is_log = LOG_PREDICTION in present
    rename: dict[str, str] = {}
    if is_log:
        rename[LOG_PREDICTION] = ref.prediction
        for cls, col in ref.proba.items():
            if f"{LOG_PROBA}{cls}" in present:
                rename[f"{LOG_PROBA}{cls}"] = col
        if id_column and id_column not in present and LOG_ID in present:
            rename[LOG_ID] = id_column
        if (time_column is None or time_column not in present) and LOG_TIME in present:
            rename[LOG_TIME] = time_column or LOG_TIME
            time_column = time_column or LOG_TIME
    mapped = {rename.get(c, c) for c in columns}
    missing = [f for f in ref.features if f not in mapped]
    if missing:
        more = (
            f" (and {len(missing) - 1} more: {', '.join(missing[1:6])})" if len(missing) > 1 else ""
        )
        raise InputError(
            f"the batch has no column {missing[0]!r}{more}, which model {ref.artifact.label} "
            "needs: it cannot score these rows",
            hint="monitor data with the columns the model was trained on",
        )
    has_prediction = ref.prediction in mapped
    has_proba = bool(ref.proba) and all(c in mapped for c in ref.proba.values())
    label = label_column if label_column in mapped else None
    id_col = id_column if id_column and id_column in mapped else None
    time_col = time_column if time_column and time_column in mapped else None
    known = set(ref.features) | set(ref.proba.values()) | {ref.prediction}
    known |= {c for c in (label, id_col, time_col) if c}
    extra = [
        c for c in columns if rename.get(c, c) not in known and not (is_log and c.startswith("_"))
    ]
    read = [c for c in columns if rename.get(c, c) in known]
    return BatchLayout(
        columns, read, rename, is_log, has_prediction, has_proba, label, id_col, time_col, extra
    )


def load_labels(
    paths: Sequence[DataFile],
    id_column: str,
    label_column: str,
    delimiter: str | None,
    encoding: str,
) -> tuple[pd.Series, list[str]]:
    """Labels keyed by the id's string form; later rows win over earlier ones for one id."""
    from mlops.data.readers import CsvOptions, read_frame

    notes: list[str] = []
    cols = file_columns(paths[0], delimiter, encoding)
    for needed in (id_column, label_column):
        if needed not in cols:
            raise InputError(
                f"the label file '{paths[0]}' has no column {needed!r}",
                hint=f"a label file needs the id column {id_column!r} and the label column "
                f"{label_column!r}",
            )
    frame = read_frame(
        paths,
        columns=[id_column, label_column],
        csv_options=CsvOptions(delimiter or None, encoding),
    )
    frame = frame.dropna(subset=[id_column])
    keys = frame[id_column].astype(str)
    dups = int(keys.duplicated(keep="last").sum())
    if dups:
        notes.append(f"{dups} label rows repeat an id; the last label of each id is used")
    series = frame[label_column].copy()
    series.index = keys.to_numpy()
    series = series[~keys.duplicated(keep="last").to_numpy()]
    return series, notes


def class_labels(series: pd.Series, classes: list[Any]) -> pd.Series:
    """Labels or predictions in the classes' own type, so '1', 1.0 and 1 are one class."""
    import pandas as pd

    if not classes or series.empty:
        return series
    if all(isinstance(c, bool) for c in classes):
        lookup: dict[str, Any] = {str(c).lower(): c for c in classes}
        return series.map(lambda v: lookup.get(str(v).lower(), v) if pd.notna(v) else None)
    if all(isinstance(c, int) for c in classes):
        numeric = pd.to_numeric(series, errors="coerce")
        whole = numeric.dropna()
        if len(whole) == series.notna().sum() and (whole == whole.round()).all():
            return numeric.astype("Int64")
    lookup = {str(c): c for c in classes}
    return series.map(lambda v: lookup.get(str(v), v) if pd.notna(v) else None).astype(object)
