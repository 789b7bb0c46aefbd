"""`predict` on the Dask engine: each input file is scored on a worker, by a model whose bytes
are checked against the store's SHA-256 there before loading, and written as one part of a
partitioned Parquet dataset (`part-00000.parquet`, ... in input order). The dataset appears by
renaming its temporary directory once every part is written; rows and values are those of the
local engine's single file.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops.errors import InputError

if TYPE_CHECKING:
    from mlops.lifecycle.deploy.predict import PredictResult
    from mlops.lifecycle.engine.cluster import DaskEngine
    from mlops.lifecycle.engine.partitions import Partition
    from mlops.lifecycle.model_io import ModelBlob


def predict_on_dask(
    engine: DaskEngine,
    blob: ModelBlob,
    inputs: Sequence[str | Path],
    output: Path,
    *,
    chunk_rows: int,
    id_column: str | None = None,
    default_id_column: str | None = None,
    csv_options: Any = None,
    log_dir: Path | None = None,
) -> PredictResult:
    """Score every row of inputs on the cluster into the Parquet dataset directory output.

    Args:
        engine: the Dask engine.
        blob: the model's verified bytes (from the store).
        inputs: CSV or Parquet files, directories or globs.
        output: the dataset directory to create (it must not exist).
        chunk_rows: rows a worker scores at a time.
        id_column: the column copied beside the predictions.
        default_id_column: used when id_column is not given and the inputs have it.
        csv_options: delimiter and encoding of CSV inputs.
        log_dir: also write the predictions to the prediction log here, one file per input
            file (for `monitor`).

    Returns:
        What `predict_files` returns; `output` is the directory, `log_file` the log's
        first file.

    Raises:
        InputError: an input cannot be read, or output exists.
        SchemaMismatch: the inputs lack a feature; names the column.
    """
    from mlops.data.readers import expand_sources
    from mlops.lifecycle.deploy.package import handle_of
    from mlops.lifecycle.deploy.predict import PredictResult, _id_column, _ignored_columns
    from mlops.lifecycle.engine.partitions import plan_partitions, scatter

    output = _new_directory(output)
    paths = expand_sources(list(inputs))
    parts = plan_partitions(engine, paths, csv_options)
    handle = handle_of(blob.artifact, blob.load())
    source = ", ".join(str(p) for p in paths[:3]) + (" ..." if len(paths) > 3 else "")
    columns = list(parts[0].columns)
    handle.signature.check_columns(columns, source)
    id_col = _id_column(handle, columns, id_column, default_id_column)
    tmp = output.with_name(f".{output.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.mkdir()
    log = _LogPlan(Path(log_dir).absolute(), uuid.uuid4().hex) if log_dir is not None else None
    try:
        shared = scatter(engine, blob)
        args = (shared, tmp, chunk_rows, csv_options, id_col, source, log)
        futures = [
            engine.client.submit(predict_partition, part, i, *args, pure=False)
            for i, part in enumerate(parts)
        ]
        done = engine.client.gather(futures)
        tmp.rename(output)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    counts: dict[str, int] = {}
    for _, _, part_counts, _ in done:
        for k, v in part_counts.items():
            counts[k] = counts.get(k, 0) + v
    logged = [d[3] for d in done if d[3]]
    return PredictResult(
        model=handle.describe(),
        inputs=[str(p) for p in paths],
        output=str(output),
        rows=sum(d[0] for d in done),
        chunks=sum(d[1] for d in done),
        id_column=id_col,
        log_file=logged[0] if logged else None,
        ignored_columns=_ignored_columns(handle, columns, id_col),
        prediction_counts=dict(sorted(counts.items())),
    )


def _new_directory(output: Path) -> Path:
    """output as an absolute path (workers run elsewhere); it must not exist yet."""
    output = Path(output).absolute()
    if output.exists():
        raise InputError(
            f"the output {output} exists; the Dask engine writes a new dataset directory",
            hint="remove it or name another directory",
        )
    if not output.parent.is_dir():
        raise InputError(f"the directory of {output} does not exist")
    return output


def predict_partition(
    part: Partition,
    index: int,
    blob: ModelBlob,
    out_dir: Path,
    chunk_rows: int,
    csv_options: Any,
    id_col: str | None,
    source: str,
    log: _LogPlan | None = None,
) -> tuple[int, int, dict[str, int], str | None]:
    """On a worker: score one file into out_dir/part-NNNNN.parquet (and its prediction-log
    file); (rows, chunks, counts, the log file)."""
    from mlops.data.readers import iter_chunks_with_offset
    from mlops.lifecycle.deploy.package import handle_of
    from mlops.lifecycle.deploy.predict import (
        PredictionLogFile,
        _count_predictions,
        _log_rows,
        _output_frame,
        _OutputWriter,
        score_chunk,
    )

    handle = handle_of(blob.artifact, blob.load())
    text_cols = {
        c.name: "str" for c in handle.signature.columns if c.dtype in ("string", "category")
    }
    writer = _OutputWriter(out_dir / f"part-{index:05d}.parquet")
    logf = (
        PredictionLogFile(log.directory, "predict", log.batch_id, log.started, part=index)
        if log is not None
        else None
    )
    rows = chunks = 0
    counts: dict[str, int] = {}
    try:
        for offset, frame in iter_chunks_with_offset(
            [part.path], chunk_rows=chunk_rows, csv_options=csv_options, dtypes=text_cols
        ):
            chunks += 1
            if len(frame) == 0 and rows > 0:
                continue
            X, scores, ids, row_numbers = score_chunk(
                handle, frame, part.first_row + offset, source, id_col
            )
            writer.write(_output_frame(scores, ids, id_col, row_numbers))
            if logf is not None and log is not None and len(X):
                logf.write(_log_rows(handle, X, scores, ids, row_numbers, log.batch_id, id_col))
            _count_predictions(counts, scores)
            rows += len(frame)
        writer.close()
        logged = logf.close() if logf is not None else None
    except BaseException:
        writer.abort()
        if logf is not None:
            logf.abort()
        raise
    return rows, chunks, counts, str(logged) if logged else None


@dataclass(frozen=True)
class _LogPlan:
    """Where and under which batch id every partition writes its prediction-log file."""

    directory: Path
    batch_id: str
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
