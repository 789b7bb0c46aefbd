"""The one pass over a batch: each chunk is scored when it carries no predictions, split into
windows, and added to mergeable profiles (features, model outputs, labels) and a bounded row
sample for metrics. Memory depends on the chunk size and the number of windows, not on the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlops.errors import InputError, MlopsError
from mlops.lifecycle.monitor.windows import Window, window_keys

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mlops.data.readers import DataFile
    from mlops.lifecycle.model_io import LoadedModel
    from mlops.lifecycle.monitor.data import BatchLayout, Reference
    from mlops.lifecycle.monitor.performance import RowSample
    from mlops.stats.profile import DatasetProfile

Progress = Callable[[str], None]


@dataclass
class WindowState:
    """What one window of the batch has accumulated so far."""

    features: DatasetProfile
    outputs: DatasetProfile
    target: DatasetProfile | None
    sample: RowSample
    rows: int = 0
    labelled: int = 0


def subset(profile: DatasetProfile, names: list[str]) -> DatasetProfile:
    from mlops.stats.profile import DatasetProfile, ProfileSpec

    spec = ProfileSpec({n: profile.spec.columns[n] for n in names})
    return DatasetProfile(spec, {n: profile.columns[n] for n in names}, profile.rows)


def output_names(ref: Reference) -> list[str]:
    """The model outputs the reference profiles: the prediction and the class probabilities."""
    return [c for c in ref.outputs.columns if c in {ref.prediction, *ref.proba.values()}]


def single_pass(
    paths: Sequence[DataFile],
    ref: Reference,
    lay: BatchLayout,
    *,
    window: Window | None,
    label_column: str,
    labels: pd.Series | None,
    model_loader: Callable[[], LoadedModel],
    chunk_rows: int,
    sample_rows: int,
    csv: Any,
    say: Progress,
    first_row: int = 0,
) -> tuple[dict[str, WindowState], int, int]:
    """Window key -> its state, the number of rows, and how many of them carry a label.

    `first_row` is the global row number of the first row of `paths` (non-zero when an engine
    scans one partition of a larger batch); row windows and the row sample count from it.
    """
    import numpy as np
    import pandas as pd

    need_scoring = needs_scoring(ref, lay)
    has_labels = lay.label_column is not None or labels is not None
    new_state = _state_factory(ref, has_labels, sample_rows)
    out_names = output_names(ref)
    only_profiled = set() if need_scoring else _only_profiled(ref, lay, label_column)
    states: dict[str, WindowState] = {}
    model: LoadedModel | None = None
    total = 0
    labelled_total = 0
    for local, raw in _read(paths, lay, chunk_rows, csv, only_profiled):
        if not len(raw):
            continue
        offset = first_row + local
        raw, features = _split(raw, only_profiled)
        chunk = _conform(raw, ref, lay)
        if need_scoring:
            model = model or model_loader()
            chunk = _score(model, chunk, ref)
        chunk = _with_labels(chunk, ref, lay, label_column, labels, has_labels)
        keys = window_keys(window, chunk, offset, lay.time_column)
        uniq = pd.unique(keys)
        rows = offset + np.arange(len(chunk), dtype=np.int64)
        for key in uniq:
            mask = None if len(uniq) == 1 else keys == key
            part = chunk if mask is None else chunk[mask]
            st = states.get(key)
            if st is None:
                st = states[key] = new_state()
            lab = label_column if has_labels else None
            feats = part if features is None else _rows(features, mask)
            labelled_total += _add(
                st, part, feats, ref, out_names, lab, rows if mask is None else rows[mask]
            )
        total += len(chunk)
        say(f"profiled {total:,} rows")
    return states, total, labelled_total


def _only_profiled(ref: Reference, lay: BatchLayout, label_column: str) -> set[str]:
    """Feature columns the scan only profiles (no other role): these stay Arrow columns."""
    roles = {lay.id_column, lay.time_column, lay.label_column, label_column, ref.prediction}
    roles |= set(ref.proba.values()) | set(lay.rename) | set(lay.rename.values())
    return set(ref.features) - roles


def _read(
    paths: Sequence[DataFile], lay: BatchLayout, chunk_rows: int, csv: Any, arrow: set[str]
) -> Iterator[tuple[int, Any]]:
    """(offset, chunk): Arrow batches when some columns are only profiled, else DataFrames."""
    from mlops.data.readers import iter_batches_with_offset, iter_chunks_with_offset

    if not arrow:
        return iter_chunks_with_offset(
            paths, columns=lay.read, chunk_rows=chunk_rows, csv_options=csv
        )
    return iter_batches_with_offset(
        paths, columns=lay.read, chunk_rows=chunk_rows, csv_options=csv, dictionary=sorted(arrow)
    )


def _split(raw: Any, only_profiled: set[str]) -> tuple[pd.DataFrame, Any]:
    """(a DataFrame of the columns the scan uses beyond profiling, the Arrow chunk whose
    features are profiled as they are); (raw, None) for a DataFrame."""
    import pandas as pd

    if isinstance(raw, pd.DataFrame):
        return raw, None
    rest = [c for c in raw.schema.names if c not in only_profiled]
    return raw.select(rest).to_pandas(), raw


def _rows(chunk: Any, mask: np.ndarray | None) -> Any:
    import pyarrow as pa

    return chunk if mask is None else chunk.filter(pa.array(mask))


def needs_scoring(ref: Reference, lay: BatchLayout) -> bool:
    """Whether the batch lacks model outputs that the model must compute."""
    classification = ref.task == "classification"
    return not lay.has_prediction or bool(classification and ref.proba and not lay.has_proba)


def merge_states(states: list[WindowState]) -> WindowState:
    out = states[0]
    for st in states[1:]:
        out = WindowState(
            out.features.merge(st.features),
            out.outputs.merge(st.outputs),
            out.target.merge(st.target) if out.target is not None and st.target else out.target,
            out.sample.merged(st.sample),
            out.rows + st.rows,
            out.labelled + st.labelled,
        )
    return out


def _state_factory(ref: Reference, has_labels: bool, sample_rows: int) -> Callable[[], WindowState]:
    """Empty window states."""
    from mlops.lifecycle.monitor.performance import RowSample
    from mlops.stats.profile import DatasetProfile

    feat_ref = subset(ref.data, ref.features)
    out_ref = subset(ref.outputs, output_names(ref))
    tgt_ref = subset(ref.data, [ref.target]) if ref.target in ref.data.columns else None

    def new_state() -> WindowState:
        return WindowState(
            DatasetProfile.empty(feat_ref.spec),
            DatasetProfile.empty(out_ref.spec),
            DatasetProfile.empty(tgt_ref.spec) if (has_labels and tgt_ref) else None,
            RowSample(sample_rows),
        )

    return new_state


def _add(
    st: WindowState,
    part: pd.DataFrame,
    features: Any,
    ref: Reference,
    out_names: list[str],
    label_column: str | None,
    rows: np.ndarray,
) -> int:
    """Add part of a chunk (global row numbers `rows`; features profiled from `features`, a
    DataFrame or an Arrow chunk) to a window; returns how many of its rows carry a label."""
    import numpy as np

    st.rows += len(part)
    st.features.update(features)
    st.outputs.update(part[out_names])
    y: np.ndarray | None = None
    n_lab = 0
    if label_column is not None:
        ys = part[label_column]
        if st.target is not None:
            st.target.update(ys.rename(ref.target).to_frame())
        n_lab = int(ys.notna().sum())
        st.labelled += n_lab
        y = ys.to_numpy(dtype=object)
    proba_cols = list(ref.proba.values())
    proba = part[proba_cols].to_numpy(dtype=float) if proba_cols else None
    pred = part[ref.prediction].to_numpy(dtype=object)
    st.sample.add(y if y is not None else np.full(len(part), None, dtype=object), pred, proba, rows)
    return n_lab


def _conform(chunk: pd.DataFrame, ref: Reference, lay: BatchLayout) -> pd.DataFrame:
    """Rename prediction-log columns; give all-missing categorical inputs an object dtype."""
    import pandas as pd

    if lay.rename:
        chunk = chunk.rename(columns=lay.rename)
    kinds = {c["name"]: c.get("kind") for c in ref.signature.get("inputs", [])}
    for name, kind in kinds.items():
        if name not in chunk.columns:  # an Arrow column the scan only profiles
            continue
        col = chunk[name]
        if kind == "categorical" and pd.api.types.is_float_dtype(col.dtype) and col.isna().all():
            chunk[name] = col.astype(object)
    return chunk


def _predict_once(model: LoadedModel, x: pd.DataFrame) -> tuple[Any, Any]:
    """(predictions, probabilities) from one pass over the rows: a classifier with class
    probabilities predicts the most probable class (what scikit-learn's tree, forest, boosting
    and linear classifiers' `predict` returns), so `predict` is not run a second time."""
    import numpy as np

    pipe = model.pipeline
    classes = getattr(pipe, "classes_", None)
    if model.task != "classification" or classes is None or not hasattr(pipe, "predict_proba"):
        return model.predict(x)
    try:
        proba = pipe.predict_proba(model.inputs(x))
    except (AttributeError, NotImplementedError):
        return model.predict(x)
    return np.asarray(classes)[np.argmax(proba, axis=1)], proba


def _score(model: LoadedModel, chunk: pd.DataFrame, ref: Reference) -> pd.DataFrame:
    """Predictions for chunk. The model sees +/-inf as missing (scikit-learn refuses inf); the
    profiles still count them, so they surface as an `infinite_values` quality alert."""
    from mlops.lifecycle.model_io import infinities_as_missing

    x, _ = infinities_as_missing(chunk[ref.features])
    try:
        pred, proba = _predict_once(model, x)
    except MlopsError:
        raise
    except Exception as e:  # noqa: BLE001 - scikit-learn raises many types for bad input
        raise InputError(
            f"model {model.artifact.label} could not score the batch: {type(e).__name__}: {e}",
            hint="check the batch's column types against the training data",
        ) from None
    chunk = chunk.copy()
    chunk[ref.prediction] = pred
    if proba is not None:
        for j, col in enumerate(ref.proba.values()):
            if j < proba.shape[1]:
                chunk[col] = proba[:, j]
    return chunk


def _with_labels(
    chunk: pd.DataFrame,
    ref: Reference,
    lay: BatchLayout,
    label_column: str,
    labels: pd.Series | None,
    has_labels: bool,
) -> pd.DataFrame:
    """Join labels from a label file by id (the batch's own labels win); map the predictions
    and labels of a classifier onto its class values."""
    from mlops.lifecycle.monitor.data import class_labels

    if labels is not None and lay.id_column is not None:
        joined = chunk[lay.id_column].astype(str).map(labels)
        if lay.label_column is not None:
            joined = chunk[label_column].where(chunk[label_column].notna(), joined)
        chunk[label_column] = joined.to_numpy()
    if ref.task == "classification":
        chunk[ref.prediction] = class_labels(chunk[ref.prediction], ref.classes)
        if has_labels:
            chunk[label_column] = class_labels(chunk[label_column], ref.classes)
    return chunk
