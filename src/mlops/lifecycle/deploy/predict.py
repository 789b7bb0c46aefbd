"""`mlops predict`: score CSV/Parquet in chunks, write predictions, optionally log the batch.

The prediction log, read by `mlops monitor`, is a directory of Parquet files:

    <log_dir>/<YYYY-MM-DD>/<YYYYMMDDTHHMMSSffffffZ>-<source>-<batch8>.parquet
    <log_dir>/<YYYY-MM-DD>/<YYYYMMDDTHHMMSSffffffZ>-<source>-<batch8>-p<NNNNN>.parquet
                        (the Dask engine: one file per input file of the batch)

(UTC date and time the batch was scored; files appear by atomic rename, and files or
directories whose names start with '.' are unfinished and must be ignored). Columns:

    <feature>...        every model input, named and ordered as in the signature;
                        int -> int64 (nullable), float -> double, bool -> bool (nullable),
                        string/category -> string, datetime -> timestamp[us, UTC]
    _prediction         the predicted label (classifiers) or value (regressors)
    _proba_<class>      double, one per class (classifiers with predict_proba)
    _id                 string: the row's id column value, or null when there is none
    _row                int64: row number within the batch (0-based, across input files)
    _scored_at          timestamp[us, UTC]: when the chunk was scored
    _batch_id           string: one uuid per `mlops predict` run or per served request
    _source             string: "predict" or "serve"
    _model_id           string: the store id of the model artifact
    _model              string: "name:version"

Each file's Parquet schema metadata holds key `mlops` -> JSON {format, model_id, model,
features: [{name, dtype}], id_column, source}.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops.atomic import replace_durably
from mlops.errors import InputError
from mlops.jsonable import fields_dict
from mlops.lifecycle.deploy.package import ModelHandle

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from mlops.data.readers import DataFile

LOG_FORMAT = 1
OUTPUT_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def output_format(path: Path) -> str:
    fmt = OUTPUT_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"cannot write predictions to {path.name!r}: unknown format",
            hint="name the output file .csv or .parquet",
        )
    return fmt


# -- the prediction log ----------------------------------------------------------------------
def _log_schema(handle: ModelHandle, pred_type: pa.DataType) -> pa.Schema:
    import pyarrow as pa

    types = {
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "string": pa.string(),
        "category": pa.string(),
        "datetime": pa.timestamp("us", tz="UTC"),
    }
    fields = [pa.field(c.name, types[c.dtype]) for c in handle.signature.columns]
    fields.append(pa.field("_prediction", pred_type))
    if handle.signature.is_classifier and hasattr(handle.model, "predict_proba"):
        fields += [pa.field(f"_proba_{c}", pa.float64()) for c in handle.classes]
    fields += [
        pa.field("_id", pa.string()),
        pa.field("_row", pa.int64()),
        pa.field("_scored_at", pa.timestamp("us", tz="UTC")),
        pa.field("_batch_id", pa.string()),
        pa.field("_source", pa.string()),
        pa.field("_model_id", pa.string()),
        pa.field("_model", pa.string()),
    ]
    return pa.schema(fields)


def _prediction_type(handle: ModelHandle) -> pa.DataType:
    import pyarrow as pa

    if not handle.signature.is_classifier:
        return pa.float64()
    classes = handle.classes
    if classes and all(isinstance(c, bool) for c in classes):
        return pa.bool_()
    if classes and all(isinstance(c, int) for c in classes):
        return pa.int64()
    if classes and all(isinstance(c, int | float) for c in classes):
        return pa.float64()
    return pa.string()


def log_table(
    handle: ModelHandle,
    X: pd.DataFrame,
    scores: pd.DataFrame,
    ids: pd.Series | None,
    rows: Any,
    scored_at: datetime | Any,
    batch_id: str | Any,
    source: str,
    id_column: str | None = None,
) -> pa.Table:
    """One batch of the prediction log as an Arrow table with the fixed schema. scored_at and
    batch_id are one value for every row, or one per row (several requests in one table)."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    schema = _log_schema(handle, _prediction_type(handle))
    n = len(X)
    cols = _logged_inputs(handle, X)
    pred = scores["prediction"].reset_index(drop=True)
    if pa.types.is_string(schema.field("_prediction").type):
        pred = pred.astype("object").map(lambda v: None if v is None else str(v))
    cols["_prediction"] = pred
    for name in scores.columns:
        if name.startswith("proba_"):
            cols[f"_{name}"] = scores[name].reset_index(drop=True)
    cols["_id"] = (
        pd.Series([None] * n, dtype="object")
        if ids is None
        else ids.reset_index(drop=True)
        .astype("object")
        .map(lambda v: None if pd.isna(v) else str(v))
    )
    cols["_row"] = pd.Series(np.asarray(rows, dtype="int64"))
    if isinstance(scored_at, datetime):
        ts = (
            pd.Timestamp(scored_at).tz_convert("UTC")
            if pd.Timestamp(scored_at).tzinfo
            else pd.Timestamp(scored_at, tz="UTC")
        )
        naive = np.full(n, ts.tz_convert(None).to_datetime64(), dtype="datetime64[us]")
        cols["_scored_at"] = pd.Series(naive).dt.tz_localize("UTC")
    else:  # one per row, UTC
        stamps = pd.to_datetime(pd.Series(scored_at), utc=True)
        cols["_scored_at"] = stamps.astype("datetime64[us, UTC]")
    batch_ids = [batch_id] * n if isinstance(batch_id, str) else batch_id
    cols["_batch_id"] = pd.Series(batch_ids, dtype="object")
    cols["_source"] = pd.Series([source] * n, dtype="object")
    cols["_model_id"] = pd.Series([handle.model_id] * n, dtype="object")
    cols["_model"] = pd.Series([handle.label] * n, dtype="object")
    # column by column, as Table.from_pandas would convert them, without building a DataFrame
    arrays = [pa.array(cols[f.name], type=f.type, from_pandas=True) for f in schema]
    table = pa.Table.from_arrays(arrays, schema=schema)
    return table.replace_schema_metadata({b"mlops": _log_metadata(handle, id_column, source)})


def _logged_inputs(handle: ModelHandle, X: pd.DataFrame) -> dict[str, Any]:
    """The model's input columns, as pyarrow converts them to the log's types (missing values,
    NaN included, as nulls; text as string, int and bool nullable)."""
    return {c.name: X[c.name] for c in handle.signature.columns}


def _log_metadata(handle: ModelHandle, id_column: str | None, source: str) -> bytes:
    """The `mlops` schema metadata of a log file: its format, model and features."""
    return json.dumps(
        {
            "format": LOG_FORMAT,
            "model_id": handle.model_id,
            "model": handle.label,
            "features": [{"name": c.name, "dtype": c.dtype} for c in handle.signature.columns],
            "id_column": id_column,
            "source": source,
        },
        sort_keys=True,
    ).encode()


class PredictionLogFile:
    """One Parquet file of the log, written as row groups and published by atomic rename."""

    def __init__(
        self,
        log_dir: Path,
        source: str,
        batch_id: str,
        started: datetime,
        part: int | None = None,
    ) -> None:
        log_dir = Path(log_dir)
        if log_dir.is_symlink():
            raise InputError(f"prediction log {log_dir} is a symlink")
        day = log_dir / started.strftime("%Y-%m-%d")
        day.mkdir(parents=True, exist_ok=True)
        stamp = started.strftime("%Y%m%dT%H%M%S%fZ")
        suffix = "" if part is None else f"-p{part:05d}"
        self.path = day / f"{stamp}-{source}-{batch_id[:8]}{suffix}.parquet"
        self.tmp = day / f".{self.path.name}.tmp"
        self._writer: Any = None
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        import pyarrow.parquet as pq

        if self._writer is None:
            self._writer = pq.ParquetWriter(self.tmp, table.schema)
        self._writer.write_table(table)
        self.rows += table.num_rows

    def close(self) -> Path | None:
        if self._writer is None:
            return None
        self._writer.close()
        self._writer = None
        replace_durably(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
            self._writer = None
        with contextlib.suppress(FileNotFoundError):
            self.tmp.unlink()


# -- batch prediction ------------------------------------------------------------------------
@dataclass
class PredictResult:
    model: dict[str, Any]
    inputs: list[str]
    output: str
    rows: int
    chunks: int
    id_column: str | None
    log_file: str | None = None
    ignored_columns: list[str] = field(default_factory=list)
    prediction_counts: dict[str, int] = field(default_factory=dict)
    # +/-inf values per column, scored as missing (model_io.infinities_as_missing)
    infinite_values: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return fields_dict(self)


class _OutputWriter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.fmt = output_format(path)
        self.tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        self._pq: Any = None
        self._schema: Any = None
        self._csv: Any = None

    def write(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.fmt == "csv":
            if self._csv is None:
                self._csv = open(self.tmp, "w", encoding="utf-8", newline="")  # noqa: SIM115
                frame.to_csv(self._csv, index=False)
            else:
                frame.to_csv(self._csv, index=False, header=False)
            return
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._pq is None:
            self._schema = table.schema
            self._pq = pq.ParquetWriter(self.tmp, self._schema)
        else:
            table = table.cast(self._schema)
        self._pq.write_table(table)

    def close(self) -> None:
        if self._csv is not None:
            self._csv.close()
        if self._pq is not None:
            self._pq.close()
        replace_durably(self.tmp, self.path)

    def abort(self) -> None:
        for h in (self._csv, self._pq):
            if h is not None:
                with contextlib.suppress(Exception):
                    h.close()
        with contextlib.suppress(FileNotFoundError):
            self.tmp.unlink()


def _id_column(
    handle: ModelHandle, columns: list[str], requested: str | None, default: str | None
) -> str | None:
    """An explicit id column must exist; the signature's or the config's is used if present."""
    if requested:
        if requested not in columns:
            raise InputError(
                f"the input has no id column {requested!r}",
                hint=f"its columns: {', '.join(columns[:30])}",
            )
        return requested
    for cand in (handle.signature.id_column, default):
        if cand and cand in columns:
            return cand
    return None


def predict_files(
    handle: ModelHandle,
    inputs: Sequence[str | Path],
    output: Path,
    *,
    chunk_rows: int = 100_000,
    id_column: str | None = None,
    default_id_column: str | None = None,
    log_dir: Path | None = None,
    csv_options: Any = None,
) -> PredictResult:
    """Score every row of the inputs, chunk by chunk (memory is bounded by chunk_rows), into
    one CSV or Parquet file written atomically.

    Args:
        handle: the model (from the store or a bundle).
        inputs: CSV or Parquet files.
        output: the output file; its suffix picks the format.
        chunk_rows: rows scored at a time.
        id_column: the column copied to the output beside the predictions.
        default_id_column: used when id_column is not given and the inputs have it.
        log_dir: also append the predictions to the prediction log here (for `monitor`).
        csv_options: delimiter and encoding of CSV inputs.

    Returns:
        Rows and chunks scored, the output and log files, counts per predicted class.

    Raises:
        InputError: an input cannot be read, or the output path cannot be written.
        SchemaMismatch: the inputs lack a feature or carry the wrong type; names the column.
    """
    # long: one pass whose output file and log are closed, or aborted, in one try block
    from mlops.data.readers import iter_chunks_with_offset

    output = Path(output)
    paths = _input_paths(inputs, output)
    text_cols = {
        c.name: "str" for c in handle.signature.columns if c.dtype in ("string", "category")
    }

    writer = _OutputWriter(output)
    batch_id = uuid.uuid4().hex
    started = datetime.now(UTC)
    log = PredictionLogFile(log_dir, "predict", batch_id, started) if log_dir is not None else None
    rows = chunks = 0
    ignored: list[str] = []
    counts: dict[str, int] = {}
    infinities: dict[str, int] = {}
    id_col: str | None = None
    source = ", ".join(str(p) for p in paths[:3]) + (" ..." if len(paths) > 3 else "")
    try:
        for offset, frame in iter_chunks_with_offset(
            paths, chunk_rows=chunk_rows, csv_options=csv_options, dtypes=text_cols
        ):
            columns = [str(c) for c in frame.columns]
            if chunks == 0:
                handle.signature.check_columns(columns, source)
                id_col = _id_column(handle, columns, id_column, default_id_column)
                ignored = _ignored_columns(handle, columns, id_col)
            chunks += 1
            if len(frame) == 0 and rows > 0:
                continue
            X, scores, ids, row_numbers = score_chunk(
                handle, frame, offset, source, id_col, infinities
            )
            writer.write(_output_frame(scores, ids, id_col, row_numbers))
            if log is not None and len(X):
                log.write(_log_rows(handle, X, scores, ids, row_numbers, batch_id, id_col))
            _count_predictions(counts, scores)
            rows += len(frame)
        writer.close()
        log_path = log.close() if log is not None else None
    except BaseException:
        writer.abort()
        if log is not None:
            log.abort()
        raise
    return PredictResult(
        model=handle.describe(),
        inputs=[str(p) for p in paths],
        output=str(output),
        rows=rows,
        chunks=chunks,
        id_column=id_col,
        log_file=str(log_path) if log_path else None,
        ignored_columns=ignored,
        prediction_counts=dict(sorted(counts.items())),
        infinite_values=infinities,
    )


def score_chunk(
    handle: ModelHandle,
    frame: pd.DataFrame,
    offset: int,
    source: str,
    id_col: str | None,
    infinities: dict[str, int] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series | None, range]:
    """(model inputs, scores, ids, global row numbers) of one chunk starting at row offset.
    +/-inf reach the model as missing values; their counts per column are added to
    `infinities` when given."""
    from mlops.lifecycle.model_io import infinities_as_missing

    X, infinite = infinities_as_missing(handle.signature.coerce(frame, offset, source))
    if infinities is not None:
        for column, n in infinite.items():
            infinities[column] = infinities.get(column, 0) + n
    scores = handle.score(X)
    return X, scores, (frame[id_col] if id_col else None), range(offset, offset + len(frame))


def _input_paths(inputs: Sequence[str | Path], output: Path) -> list[DataFile]:
    """The input files (local, or URLs in object storage); the output must be none of them,
    in a directory that exists."""
    from mlops.data.readers import expand_sources

    output_format(output)
    paths = expand_sources(list(inputs))
    out_resolved = output.resolve()
    if any(isinstance(p, Path) and p.resolve() == out_resolved for p in paths):
        raise InputError(f"the output {output} is also an input", hint="write to another file")
    if not output.parent.is_dir():
        raise InputError(f"the directory of {output} does not exist")
    return paths


def _ignored_columns(handle: ModelHandle, columns: list[str], id_col: str | None) -> list[str]:
    wanted = set(handle.signature.names) | ({id_col} if id_col else set())
    return [c for c in columns if c not in wanted]


def _output_frame(
    scores: pd.DataFrame, ids: pd.Series | None, id_col: str | None, row_numbers: range
) -> pd.DataFrame:
    """The rows written: the id (or the row number) and the model's outputs."""
    import pandas as pd

    first = ids.reset_index(drop=True) if ids is not None else pd.Series(row_numbers, name="row_id")
    return pd.concat([first.rename(id_col or "row_id"), scores.reset_index(drop=True)], axis=1)


def _log_rows(
    handle: ModelHandle,
    X: pd.DataFrame,
    scores: pd.DataFrame,
    ids: pd.Series | None,
    row_numbers: range,
    batch_id: str,
    id_col: str | None,
) -> pa.Table:
    """The prediction-log rows of one chunk, stamped now."""
    return log_table(
        handle, X, scores, ids, row_numbers, datetime.now(UTC), batch_id, "predict", id_col
    )


def _count_predictions(counts: dict[str, int], scores: pd.DataFrame) -> None:
    for v, n in scores["prediction"].astype(str).value_counts().items():
        counts[str(v)] = counts.get(str(v), 0) + int(n)
