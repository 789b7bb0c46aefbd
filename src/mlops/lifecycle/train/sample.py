"""Training on a sample of large data, with the reference profile over every row.

The sample is the `sample_rows` rows of lowest priority, a hash of the global row number and
the seed (`monitor.performance.row_priority`): uniform, the same rows on either engine, and
mergeable across files. The profile of every row is made chunk by chunk, in this process or,
on the Dask engine, per file on the workers and merged in a tree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mlops.data.readers import CsvOptions, DataFile
    from mlops.lifecycle.engine.cluster import DaskEngine
    from mlops.lifecycle.engine.partitions import Partition
    from mlops.stats.profile import DatasetProfile, ProfileSpec

Sample = tuple[
    "pd.DataFrame", "np.ndarray", "np.ndarray", int
]  # rows, priorities, row numbers, seen
CHUNK_ROWS = 200_000


def sample_files(
    paths: Sequence[DataFile],
    size: int,
    seed: int,
    csv: CsvOptions,
    engine: DaskEngine | None = None,
) -> tuple[pd.DataFrame, int]:
    """A uniform sample of at most size rows of the files, in file order, and the total rows.

    Args:
        paths: the data files, in order.
        size: the sample's size.
        seed: the seed of the row priorities.
        csv: how CSV files are parsed.
        engine: a Dask engine (None: read here, chunk by chunk).

    Returns:
        The sampled rows (index reset) and the number of rows in all files.

    Raises:
        InputError: a file cannot be read, or the files' columns differ.
    """
    from mlops.data.readers import iter_chunks_with_offset

    if engine is None:
        chunks = iter_chunks_with_offset(paths, chunk_rows=CHUNK_ROWS, csv_options=csv)
        sample = _sample_chunks(chunks, size, seed)
    else:
        from mlops.lifecycle.engine.partitions import plan_partitions
        from mlops.lifecycle.engine.tree import tree_merge

        parts = plan_partitions(engine, paths, csv)
        futures = [
            engine.client.submit(_sample_partition, p, size, seed, csv, pure=False) for p in parts
        ]
        sample = tree_merge(engine.client, futures, lambda a, b: _merge(a, b, size))
    frame, _, rows, seen = sample
    order = rows.argsort(kind="stable")
    return frame.iloc[order].reset_index(drop=True), seen


def profile_files(
    paths: Sequence[DataFile],
    spec: ProfileSpec,
    csv: CsvOptions,
    engine: DaskEngine | None = None,
) -> DatasetProfile:
    """The profile of spec's columns over every row of the files.

    Args:
        paths: the data files.
        spec: the bins and categories (from the training sample).
        csv: how CSV files are parsed.
        engine: a Dask engine (None: read here, chunk by chunk).

    Returns:
        The profile; counts are exact on either engine.
    """
    from mlops.data.readers import iter_chunks

    columns = list(spec.columns)
    if engine is None:
        return _profile(iter_chunks(paths, columns, CHUNK_ROWS, csv), spec)
    from mlops.lifecycle.engine.partitions import plan_partitions
    from mlops.lifecycle.engine.tree import tree_merge

    parts = plan_partitions(engine, paths, csv, columns=columns)
    futures = [engine.client.submit(_profile_partition, p, spec, csv, pure=False) for p in parts]
    return tree_merge(engine.client, futures, _merge_profiles)  # type: ignore[no-any-return]


def _sample_chunks(chunks: Iterable[tuple[int, pd.DataFrame]], size: int, seed: int) -> Sample:
    import numpy as np
    import pandas as pd

    from mlops.lifecycle.monitor.performance import row_priority

    held: Sample | None = None
    for offset, frame in chunks:
        rows = offset + np.arange(len(frame), dtype=np.int64)
        part = (frame.reset_index(drop=True), row_priority(rows, seed), rows, len(frame))
        held = part if held is None else _merge(held, part, size)
    if held is None:
        return pd.DataFrame(), np.empty(0), np.empty(0, np.int64), 0
    return _merge(held, (held[0].iloc[:0], np.empty(0), np.empty(0, np.int64), 0), size)


def _merge(a: Sample, b: Sample, size: int) -> Sample:
    """The lowest-priority size rows of both samples."""
    import numpy as np
    import pandas as pd

    frame = pd.concat([a[0], b[0]], ignore_index=True) if len(b[0]) else a[0]
    prio = np.concatenate([a[1], b[1]])
    rows = np.concatenate([a[2], b[2]])
    if len(prio) > size:
        keep = np.sort(np.argpartition(prio, size - 1)[:size])
        frame, prio, rows = frame.iloc[keep].reset_index(drop=True), prio[keep], rows[keep]
    return frame, prio, rows, a[3] + b[3]


def _sample_partition(part: Partition, size: int, seed: int, csv: CsvOptions) -> Sample:
    from mlops.data.readers import iter_chunks_with_offset

    chunks = (
        (part.first_row + offset, frame)
        for offset, frame in iter_chunks_with_offset(
            [part.path], chunk_rows=CHUNK_ROWS, csv_options=csv
        )
    )
    return _sample_chunks(chunks, size, seed)


def _profile(chunks: Iterable[pd.DataFrame], spec: ProfileSpec) -> DatasetProfile:
    from mlops.stats.profile import profile_chunks

    return profile_chunks(chunks, spec)


def _profile_partition(part: Partition, spec: ProfileSpec, csv: CsvOptions) -> DatasetProfile:
    from mlops.data.readers import iter_chunks

    return _profile(iter_chunks([part.path], list(spec.columns), CHUNK_ROWS, csv), spec)


def _merge_profiles(a: Any, b: Any) -> Any:
    return a.merge(b)
