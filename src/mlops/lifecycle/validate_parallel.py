"""`validate` on the Dask engine: one task per file runs every check on a worker; tallies merge
pairwise on the workers (counts add, samples keep the first rows). Uniqueness and duplicate
rows need every partition: each partition's value hashes are split into buckets by hash, and
one task per bucket finds the rows that repeat an earlier row. Only counts and the first
samples come back, so the report equals the local engine's.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlops.data.readers import CsvOptions, DataFile
    from mlops.data.results import ValidationReport
    from mlops.data.schema import DatasetSchema
    from mlops.data.validate import Partial
    from mlops.lifecycle.engine.cluster import DaskEngine
    from mlops.lifecycle.engine.partitions import Partition


def validate_on_dask(
    engine: DaskEngine,
    files: Sequence[DataFile],
    schema: DatasetSchema,
    *,
    sample_limit: int,
    chunk_rows: int,
    csv: CsvOptions,
    checks_module: tuple[str, Path] | None,
) -> ValidationReport:
    """The validation report of files, computed on the cluster.

    Args:
        engine: the Dask engine.
        files: the dataset's files, in order.
        schema: the schema to check.
        sample_limit: samples kept per check.
        chunk_rows: rows a worker reads at a time.
        csv: how CSV files are parsed.
        checks_module: (module, project directory) of custom checks, imported on each worker.

    Returns:
        The report, equal to what the local engine gives on the same files.

    Raises:
        InputError: a file cannot be read, or its columns differ from the first file's.
    """
    from mlops.data.validate import finish_partials, merge_partials
    from mlops.lifecycle.engine.partitions import plan_partitions, scatter
    from mlops.lifecycle.engine.tree import tree_merge

    client = engine.client
    parts = plan_partitions(engine, files, csv)
    buckets = max(1, min(len(parts), 2 * max(engine.workers, 1)))
    shared = scatter(engine, schema)
    args = (shared, sample_limit, chunk_rows, csv, checks_module, buckets)
    outs = [client.submit(check_partition, part, *args, pure=False) for part in parts]
    runs = [client.submit(_item, out, 0, pure=False) for out in outs]
    keys = client.submit(_item, outs[0], 1, pure=False).result()
    repeats: dict[str, tuple[int, list[tuple[int, Any]]]] = {}
    for key in keys:
        found = [
            client.submit(
                _repeats_in, [client.submit(_bucket, o, key, b) for o in outs], sample_limit
            )
            for b in range(buckets)
        ]
        repeats[key] = _combine(client.gather(found), sample_limit)
    merged = tree_merge(client, runs, merge_partials)
    return finish_partials(merged, repeats)


def check_partition(
    part: Partition,
    schema: DatasetSchema,
    sample_limit: int,
    chunk_rows: int,
    csv: CsvOptions,
    checks_module: tuple[str, Path] | None,
    buckets: int,
) -> tuple[Partial, list[str], dict[str, list[Any]]]:
    """On a worker: the checks of one file, and its hashes for the cross-partition checks."""
    from mlops.data.checks import load_checks_module
    from mlops.data.readers import iter_chunks_with_offset
    from mlops.data.validate import take_hashes, validate_partition

    if checks_module is not None:
        load_checks_module(checks_module[0], search_path=checks_module[1])
    chunks = (
        (part.first_row + offset, frame)
        for offset, frame in iter_chunks_with_offset(
            [part.path], chunk_rows=chunk_rows, csv_options=csv, dtypes=schema.reader_dtypes()
        )
    )
    run = validate_partition(chunks, schema, sample_limit)
    hashed = take_hashes(run, buckets)
    return run, list(hashed), hashed


def _item(out: tuple[Any, ...], i: int) -> Any:
    return out[i]


def _bucket(out: tuple[Any, list[str], dict[str, list[Any]]], key: str, b: int) -> Any:
    return out[2][key][b]


def _repeats_in(pieces: list[Any], sample_limit: int) -> tuple[int, list[tuple[int, Any]]]:
    from mlops.data.validate import repeated_rows

    return repeated_rows(pieces, sample_limit)


def _combine(
    found: list[tuple[int, list[tuple[int, Any]]]], sample_limit: int
) -> tuple[int, list[tuple[int, Any]]]:
    samples = sorted((s for _, ss in found for s in ss), key=lambda s: s[0])
    return sum(n for n, _ in found), samples[:sample_limit]
