"""The evaluation data (holdout, data.test or --data) and the candidate's scores on it."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops.errors import InputError
from mlops.lifecycle import metrics as M
from mlops.lifecycle.model_io import HOLDOUT_FILE, LoadedModel

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mlops.config import Config
    from mlops.data.readers import DataFile
    from mlops.store import Store


@dataclass
class Scored:
    y: np.ndarray
    pred: np.ndarray
    proba: np.ndarray | None


def scoring_frame(
    config: Config,
    store: Store,
    candidate: LoadedModel,
    data: list[str | Path] | None,
    command: str | None,
    store_data: bool = False,
) -> tuple[pd.DataFrame, dict[str, Any], str | None]:
    """The frame to score, what it is (source, paths, rows, dataset) and its dataset's id.
    Files in object storage are recorded by URL, size and ETag (copied with store_data)."""
    import pandas as pd

    from mlops.data.readers import CsvOptions, expand_sources, read_frame

    dc = config.model.data
    csv = CsvOptions(delimiter=dc.delimiter, encoding=dc.encoding)
    mode = config.model.evaluate.data
    specs: list[str | Path] | None = None
    base: Path | None = None
    if data:
        specs, source = list(data), "data"
    elif mode == "test" or (mode == "auto" and dc.test):
        if not dc.test:
            raise config.error(("evaluate", "data"), "evaluate.data is test but data.test is empty")
        specs, source, base = list(dc.test), "test", config.base_dir
    else:
        source = "holdout"
    art = candidate.artifact
    if specs is None:
        if HOLDOUT_FILE not in art.files:
            raise InputError(
                f"model {art.label} has no stored holdout", hint="pass --data TEST_FILE"
            )
        frame = pd.read_parquet(io.BytesIO(store.read_file(art, HOLDOUT_FILE)))
        return frame, {"source": "holdout", "rows": len(frame), "dataset": None}, None
    paths = expand_sources([str(s) for s in specs], base=base)
    frame = read_frame(paths, csv_options=csv)
    ds = store.add_artifact(
        "dataset",
        f"{art.name}-test",
        *_dataset_files(paths, len(frame), store_data),
        command=command,
    )
    info = {
        "source": source,
        "paths": [str(p) for p in paths],
        "rows": len(frame),
        "dataset": {"id": ds.id, "label": ds.label},
    }
    return frame, info, ds.id


def _dataset_files(
    paths: list[DataFile], rows: int, store_data: bool
) -> tuple[dict[str, Path | bytes], dict[str, Any]]:
    """The evaluation dataset's files (local ones by their name, made unique) and metadata."""
    from mlops.lifecycle.datasets import dataset_entries

    files: dict[str, Path | bytes] = {}
    for p in paths:
        if isinstance(p, Path):
            name = p.name
            while name in files:
                name = "_" + name
            files[name] = p
    remote_files, remote = dataset_entries(
        [p for p in paths if not isinstance(p, Path)], Path.cwd(), store_data
    )
    files.update(remote_files)
    meta: dict[str, Any] = {"source": [str(p) for p in paths], "rows": rows}
    if remote:
        meta["remote"] = remote
    return files, meta


def clean_target(candidate: LoadedModel, frame: pd.DataFrame, warnings_: list[str]) -> pd.DataFrame:
    import pandas as pd

    target = candidate.target
    if target not in frame.columns:
        raise InputError(
            f"the evaluation data has no target column {target!r}",
            hint="evaluate needs labelled data",
        )
    missing = int(frame[target].isna().sum())
    if missing:
        warnings_.append(f"skipped {missing} row(s) with no value in target {target!r}")
        frame = frame[frame[target].notna()].reset_index(drop=True)
    if candidate.task == "regression":
        y = pd.to_numeric(frame[target], errors="coerce")
        if y.isna().any():
            raise InputError(f"target {target!r} has non-numeric values in the evaluation data")
        frame = frame.copy()
        frame[target] = y.astype(float)
    return frame


def score(model: LoadedModel, frame: pd.DataFrame) -> Scored:
    import numpy as np

    pred, proba = model.predict(frame)
    y = frame[model.target].to_numpy()
    if model.task == "classification" and model.classes:
        y = _as_classes(y, model.classes)
    return Scored(np.asarray(y), np.asarray(pred), proba)


def _as_classes(y: np.ndarray, classes: list[Any]) -> np.ndarray:
    """Map labels read from a file onto the model's class values (e.g. '1' -> 1)."""
    import numpy as np

    lookup = {str(c): c for c in classes}
    if all(v in classes for v in y[:1000]):
        return y
    return np.asarray([lookup.get(str(v), v) for v in y], dtype=object)


def metrics_of(model: LoadedModel, s: Scored, names: list[str]) -> dict[str, float | None]:
    classes = model.classes or None
    return M.compute(names, s.y, s.pred, s.proba, classes, model.positive_class)
