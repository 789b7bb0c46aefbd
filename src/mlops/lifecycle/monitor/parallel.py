"""The monitor scan on the Dask engine: one task per file runs `scan.single_pass` on a worker
(scoring there with a model whose bytes are verified against their hash before loading), and
the per-window states merge pairwise on the workers; only the merged states come back.

Counts are exact and equal to the local engine's; the row samples are the same rows (their
priorities hash the global row number); float sums differ only in the order of addition.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from mlops.data.readers import CsvOptions
    from mlops.lifecycle.engine.cluster import DaskEngine
    from mlops.lifecycle.engine.partitions import Partition
    from mlops.lifecycle.model_io import LoadedModel, ModelBlob
    from mlops.lifecycle.monitor.data import BatchLayout, Reference
    from mlops.lifecycle.monitor.scan import Progress, WindowState
    from mlops.lifecycle.monitor.windows import Window

Scan = tuple[dict[str, "WindowState"], int, int]


def dask_pass(
    engine: DaskEngine,
    paths: list[Any],
    ref: Reference,
    lay: BatchLayout,
    *,
    window: Window | None,
    label_column: str,
    labels: pd.Series | None,
    model: ModelBlob | None,
    chunk_rows: int,
    sample_rows: int,
    csv: CsvOptions,
    say: Progress,
) -> Scan:
    """What `scan.single_pass` returns, computed on the cluster.

    Args:
        engine: the Dask engine.
        paths: the batch's files, in order.
        ref: the model's reference.
        lay: the batch's column roles.
        window: the monitoring window, if any.
        label_column: the label column's name in the scanned frames.
        labels: labels by id from label files (sent once to every worker), or None.
        model: the model's verified bytes, when the batch must be scored; None otherwise.
        chunk_rows: rows read at a time on a worker.
        sample_rows: the row sample's size per window.
        csv: how CSV files are parsed.
        say: progress messages.

    Returns:
        Window key -> merged state, the number of rows, and how many carry a label.
    """
    from mlops.lifecycle.engine.partitions import plan_partitions, scatter
    from mlops.lifecycle.engine.tree import tree_merge

    parts = plan_partitions(engine, paths, csv, columns=list(lay.read))
    say(f"scanning {len(parts)} partition(s) on {engine.description}")
    shared = {
        "ref": scatter(engine, ref),
        "lay": scatter(engine, lay),
        "labels": scatter(engine, labels),
        "model": scatter(engine, model),
    }
    futures = [
        engine.client.submit(
            scan_partition,
            part,
            shared["ref"],
            shared["lay"],
            window,
            label_column,
            shared["labels"],
            shared["model"],
            chunk_rows,
            sample_rows,
            csv,
            pure=False,
        )
        for part in parts
    ]
    return tree_merge(engine.client, futures, merge_scans)  # type: ignore[no-any-return]


def scan_partition(
    part: Partition,
    ref: Reference,
    lay: BatchLayout,
    window: Window | None,
    label_column: str,
    labels: pd.Series | None,
    model: ModelBlob | None,
    chunk_rows: int,
    sample_rows: int,
    csv: CsvOptions,
) -> Scan:
    """The scan of one partition (runs on a worker)."""
    from mlops.lifecycle.monitor.scan import single_pass

    def loader() -> LoadedModel:
        if model is None:
            raise RuntimeError("the batch needs scoring but no model was sent")
        return model.load()

    return single_pass(
        [part.path],
        ref,
        lay,
        window=window,
        label_column=label_column,
        labels=labels,
        model_loader=loader,
        chunk_rows=chunk_rows,
        sample_rows=sample_rows,
        csv=csv,
        say=lambda _msg: None,
        first_row=part.first_row,
    )


def merge_scans(a: Scan, b: Scan) -> Scan:
    """Two neighbouring partitions' scans as one (a's rows first)."""
    from mlops.lifecycle.monitor.scan import merge_states

    states = dict(a[0])
    for key, st in b[0].items():
        states[key] = merge_states([states[key], st]) if key in states else st
    return states, a[1] + b[1], a[2] + b[2]
