"""Push from one machine, pull into another: the model CI promoted is what the cron host gets."""

from __future__ import annotations

from pathlib import Path

from helpers.remote import fsck_ok, machine, mlops, train
from mlops.remote.remotes import Remote
from mlops.remote.site import Site
from mlops.store import Store


def test_push_then_pull_resolves_the_promoted_model(tmp_path: Path, remote_url: str) -> None:
    a, b = machine(tmp_path, "ci", remote_url), machine(tmp_path, "cron", remote_url)
    model = train(a, b"MODEL-v1", promote="production")
    code, pushed, err = mlops(a, "push")
    assert code == 0, err
    assert pushed["blobs_uploaded"] == 4 and [p["label"] for p in pushed["published"]] == [
        "churn-data:1",
        "churn:1",
    ]
    assert pushed["alias_moves_pushed"] == 1
    code, again, _ = mlops(a, "push")
    assert code == 0 and again["blobs_uploaded"] == 0 and again["published"] == []

    code, pulled, err = mlops(b, "pull", "churn@production")
    assert code == 0, err
    assert pulled["artifacts_fetched"] == 2 and pulled["blobs_downloaded"] == 1
    with Store.open(b, create=False) as store:
        art = store.resolve("churn@production")
        assert art.id == model.id and art.label == "churn:1"
        assert store.read_file(art, "model.pkl") == b"MODEL-v1"
        assert [e["to_id"] for e in store.alias_history("model", "churn", "production")] == [
            model.id
        ]
    # the dataset was fetched (catalog, lineage) but not pulled: fsck counts it, clean
    assert fsck_ok(b)["remote_only"] == 1
    code, lineage_pull, _ = mlops(b, "pull", "churn@production", "--with-lineage")
    assert code == 0 and lineage_pull["blobs_downloaded"] == 1
    assert fsck_ok(b)["remote_only"] == 0
    fsck_ok(a)


def test_fetch_is_idempotent_and_brings_runs(tmp_path: Path, remote_url: str) -> None:
    a, b = machine(tmp_path, "a", remote_url), machine(tmp_path, "b", remote_url)
    model = train(a, b"M")
    with Store.open(a) as store:
        run = store.start_run("train")
        store.log_params(run, {"max_depth": 3})
        store.log_metrics(run, {"auc": 0.91})
        store.link_run(run, model.id, "output")
        store.finish_run(run)
    assert mlops(a, "push")[0] == 0
    code, first, _ = mlops(b, "fetch")
    assert code == 0 and first["artifacts_fetched"] == 2 and first["runs_fetched"] == 1
    code, second, _ = mlops(b, "fetch")
    assert code == 0 and second["artifacts_fetched"] == 0 and second["runs_fetched"] == 0
    with Store.open(b, create=False) as store:
        got = store.get_run(run)
        assert got["params"] == {"max_depth": 3} and got["metrics"] == {"auc": 0.91}
        assert got["artifacts"] == [{"id": model.id, "role": "output"}]


def test_a_tampered_blob_on_the_remote_exits_3_and_nothing_is_kept(
    tmp_path: Path, remote_url: str
) -> None:
    a, b = machine(tmp_path, "a", remote_url), machine(tmp_path, "b", remote_url)
    model = train(a, b"GOOD-MODEL", promote="production")
    assert mlops(a, "push")[0] == 0
    digest = model.files["model.pkl"].hash
    site = Site(Remote("origin", remote_url))
    site.fs.pipe_file(site.objects.key_for(digest), b"EVIL-MODEL")

    code, _, err = mlops(b, "pull", "churn@production")
    assert code == 3
    assert digest in err and "damaged" in err and "Traceback" not in err
    with Store.open(b, create=False) as store:
        assert not store.objects.has(digest)
        assert list(store.objects.tmp.iterdir()) == []  # type: ignore[attr-defined]


def test_versions_made_on_two_machines_are_renumbered_by_first_push(
    tmp_path: Path, remote_url: str
) -> None:
    a, b = machine(tmp_path, "a", remote_url), machine(tmp_path, "b", remote_url)
    ma = train(a, b"A-model")
    mb = train(b, b"B-model", data=b"other\n")
    with Store.open(a) as sa, Store.open(b) as sb:  # both made churn:1 before any sync
        assert sa.get(ma.id).label == sb.get(mb.id).label == "churn:1"
    assert mlops(a, "push")[0] == 0
    code, pushed, _ = mlops(b, "push")
    assert code == 0 and {p["label"] for p in pushed["published"]} == {"churn:2", "churn-data:2"}
    for root in (a, b):
        assert mlops(root, "fetch")[0] == 0
        with Store.open(root, create=False) as store:
            assert store.resolve("churn:1").id == ma.id
            assert store.resolve("churn:2").id == mb.id
        fsck_ok(root)
    # a provisional version made after the sync follows the remote's numbers
    mc = train(a, b"A-model-2")
    with Store.open(a) as store:
        assert store.get(mc.id).label == "churn:3"
