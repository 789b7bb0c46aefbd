"""Catalog schema migrations: a store written by the previous release opens and is upgraded;
a store written by a newer mlops is refused with exit 2, naming both versions."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from helpers.cli import run_cli
from helpers.store import assert_alias_chains
from mlops.errors import StoreVersionError
from mlops.store import Store, migrations
from mlops.store.maintenance import fsck

FIXTURE = Path(__file__).parent / "fixtures" / "store-v1"  # made by fixtures/make_store_v1.py


def user_version(root: Path) -> int:
    conn = sqlite3.connect(root / "catalog.sqlite")
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def set_user_version(root: Path, version: int) -> None:
    conn = sqlite3.connect(root / "catalog.sqlite")
    conn.execute(f"PRAGMA user_version = {version:d}")
    conn.close()


@pytest.fixture
def old_store(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    shutil.copytree(FIXTURE, root)
    assert user_version(root) == 0  # the release never set it
    return root


def test_a_store_from_the_previous_release_opens_migrated_and_readable(old_store: Path) -> None:
    with Store.open(old_store) as store:
        assert user_version(old_store) == migrations.CURRENT_VERSION
        meta = store.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'")
        assert meta.fetchone()[0] == str(migrations.CURRENT_VERSION)
        indexes = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master")}
        assert "alias_events_key" in indexes

        data = store.resolve("dataset/churn")
        assert store.read_file(data, "train.csv") == b"age,churn\n30,0\n41,1\n"
        prod = store.resolve("churn@production", kind="model")
        assert prod.version == 1 and prod.aliases == ["production"]
        assert prod.metadata == {"framework": "sklearn"}
        assert store.read_json(prod, "metrics.json") == {"auc": 0.75}
        assert store.parents(prod.id) == [data.id]
        staging = store.resolve("model/churn@staging")
        assert staging.version == 2 and store.resolve("model/churn:latest").id == staging.id
        assert store.aliases("model", "churn") == {"production": prod.id, "staging": staging.id}
        assert assert_alias_chains(store) == 2
        assert [m["who"] for m in store.alias_history()] == ["fixture", "fixture"]

        [run] = store.list_runs()
        assert run["status"] == "succeeded" and run["params"] == {"model": "logistic", "C": 1.0}
        assert run["metrics"] == {"auc": 0.75} and run["info"] == {"rows": 2}
        assert {a["role"] for a in run["artifacts"]} == {"input", "output"}
        assert store.cache_get("key1") == {"model": prod.id}
        assert fsck(store).ok

        # and it takes new writes
        new = store.add_artifact("model", "churn", {"model.joblib": b"third"}, parents=[data.id])
        assert new.version == 3
        store.set_alias(new, "production", expect_from=prod.id)
        assert store.resolve("model/churn@production").id == new.id
        assert assert_alias_chains(store) == 3

    with Store.open(old_store) as store:  # opening a current store changes nothing
        assert user_version(old_store) == migrations.CURRENT_VERSION
        assert len(store.list_rows()) == 4


def test_a_new_store_starts_at_the_current_version(tmp_path: Path) -> None:
    Store.open(tmp_path / "s").close()
    assert user_version(tmp_path / "s") == migrations.CURRENT_VERSION


def test_a_failing_step_leaves_the_catalog_as_it_was(
    old_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("step failed")

    steps = (*migrations.MIGRATIONS, broken)
    monkeypatch.setattr(migrations, "MIGRATIONS", steps)
    monkeypatch.setattr(migrations, "CURRENT_VERSION", len(steps))
    with pytest.raises(RuntimeError, match="step failed"):
        Store.open(old_store)
    assert user_version(old_store) == 0
    conn = sqlite3.connect(old_store / "catalog.sqlite")
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    assert "half_done" not in names and "alias_events_key" not in names


def test_processes_opening_at_once_migrate_once(old_store: Path) -> None:
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            with Store.open(old_store) as store:
                store.resolve("model/churn@production")
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert user_version(old_store) == migrations.CURRENT_VERSION


def test_opening_waits_while_another_process_writes_a_rollback_journal_catalog(
    old_store: Path,
) -> None:
    # The switch to WAL needs an exclusive lock; while another connection holds the write lock
    # SQLite does not call the busy handler (it could deadlock), so without a retry the opener
    # fails at once with "database is locked".
    writer = sqlite3.connect(old_store / "catalog.sqlite", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO meta (key, value) VALUES ('writer', 'old release')")
    opened: list[object] = []

    def open_it() -> None:
        try:
            with Store.open(old_store) as store:
                opened.append(store.resolve("model/churn@production").version)
        except BaseException as e:  # pragma: no cover - reported below
            opened.append(e)

    opener = threading.Thread(target=open_it)
    opener.start()
    opener.join(timeout=0.3)
    writer.execute("COMMIT")
    writer.close()
    opener.join()
    assert opened == [1]
    assert user_version(old_store) == migrations.CURRENT_VERSION


def test_a_store_from_a_newer_mlops_is_refused(old_store: Path) -> None:
    future = migrations.CURRENT_VERSION + 7
    Store.open(old_store).close()
    set_user_version(old_store, future)
    with pytest.raises(StoreVersionError) as err:
        Store.open(old_store)
    assert err.value.exit_code == 2

    r = run_cli("--store", str(old_store), "ls")
    assert r.returncode == 2, r.stderr
    err_text = r.stderr
    assert f"schema version {future}" in err_text
    assert f"version {migrations.CURRENT_VERSION} " in err_text
    assert "upgrade mlops" in err_text
    assert "Traceback" not in err_text and r.stdout == ""
    assert user_version(old_store) == future  # refused before anything was written
