"""Storing a monitor report: a `monitor-report` artifact (parents: the model and, when
monitor.store_data, the monitored files as a dataset) and a `monitor` run with its metrics.
The report names every monitored file with its hash either way."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops.lifecycle.datasets import dataset_entries
from mlops.lifecycle.monitor.result import REPORT_FILE, REPORT_KIND, MonitorResult
from mlops.lifecycle.runs import fail_run_on_error

if TYPE_CHECKING:
    from mlops.config import Config
    from mlops.data.readers import DataFile
    from mlops.store import Store


def record(
    config: Config,
    store: Store,
    result: MonitorResult,
    paths: list[DataFile],
    command: str | None,
    t0: float,
    copy_remote: bool = False,
) -> None:
    """Store the report and its run; fills in result's ids, time and duration."""
    import json

    from mlops.store.store import now_iso

    project = config.model.project
    # the run began when the monitor step did (t0), not now: reading and scoring count too
    began = datetime.now(UTC) - timedelta(seconds=time.perf_counter() - t0)
    started_at = began.isoformat(timespec="microseconds").replace("+00:00", "Z")
    run_id = store.start_run(
        step="monitor",
        name=project,
        config_hash=config.hash,
        command=command,
        started_at=started_at,
    )
    with fail_run_on_error(store, run_id, describe=str):
        parents = [result.model["id"]]
        store.link_run(run_id, result.model["id"], "input")
        files, remote = dataset_entries(paths, config.base_dir, copy_remote)
        local = {name: p for name, p in files.items() if isinstance(p, Path)}
        result.data["files"] = _batch_files(store, local) + remote
        if config.model.monitor.store_data or copy_remote:
            meta: dict[str, Any] = {"source": result.data["sources"], "rows": result.data["rows"]}
            if remote:
                meta["remote"] = remote
            ds = store.add_artifact(
                "dataset", f"{project}-current", files, metadata=meta, command=command
            )
            result.data["dataset_id"] = ds.id
            parents.append(ds.id)
            store.link_run(run_id, ds.id, "input")
        result.run_id = run_id
        result.created_at = now_iso()
        result.duration_s = round(time.perf_counter() - t0, 4)
        body = json.dumps(result.to_dict(), sort_keys=True, default=str, allow_nan=False)
        art = store.add_artifact(
            REPORT_KIND,
            result.model["name"],
            {REPORT_FILE: body.encode()},
            metadata=result.summary(),
            parents=parents,
            run_id=run_id,
            command=command,
            reuse_unchanged=False,
        )
        result.report_id = art.id
        store.log_metrics(run_id, _run_metrics(result))
    store.finish_run(
        run_id,
        info={"report": result.report_id, "status": result.status},
    )


def _batch_files(store: Store, files: dict[str, Path]) -> list[dict[str, Any]]:
    """Each monitored file's path, SHA-256 and size: which bytes the report describes, whether
    or not they are versioned (hashes of unchanged files come from the store's stat cache)."""
    out = []
    for name, path in files.items():
        digest, size, _cached = store.hash_file(path)
        out.append({"path": name, "sha256": digest, "size": size})
    return out


def _run_metrics(result: MonitorResult) -> dict[str, float | None]:
    metrics: dict[str, float | None] = {
        "rows": float(result.data["rows"]),
        "share_drifted": result.drift.share_drifted,
        "n_drifted": float(result.drift.n_drifted),
        "alerts": float(len(result.alerts)),
    }
    for k, v in (result.performance.get("realised") or {}).items():
        metrics[f"realised_{k}"] = v
    for k, v in (result.performance.get("estimated") or {}).items():
        metrics[f"estimated_{k}"] = v
    return metrics


def history(store: Store, name: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Past monitor reports, oldest first: their summaries, ids and times."""
    rows = store.list_rows(kind=REPORT_KIND, name=name)
    rows = rows[-limit:] if limit else rows
    out = []
    for r in rows:
        art = store.get(r["id"])
        out.append(
            {
                "report_id": art.id,
                "version": art.version,
                "created_at": art.created_at,
                **art.metadata,
            }
        )
    return out
