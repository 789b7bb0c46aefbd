"""`mlops gc --remote`: unreferenced blobs on the remote go; what a manifest names, manifests
themselves and recent uploads stay; dry run unless --yes."""

from __future__ import annotations

from pathlib import Path

from helpers.remote import machine, mlops, train
from mlops.remote.remotes import Remote
from mlops.remote.site import Site
from mlops.store import Store


def test_gc_remote_reclaims_only_unreferenced_old_blobs(tmp_path: Path, remote_url: str) -> None:
    a, b = machine(tmp_path, "a", remote_url), machine(tmp_path, "b", remote_url)
    train(a, b"MODEL", promote="production")
    assert mlops(a, "push")[0] == 0
    site = Site(Remote("origin", remote_url))
    orphan = site.objects.put(b"nobody names me").digest
    unpublished = train(a, b"KILLED-PUSH")  # its manifest and file uploaded, never claimed
    with Store.open(a, create=False) as store:
        for digest in (unpublished.id, unpublished.files["model.pkl"].hash):
            site.objects.put(store.objects.get(digest))
    total = len(list(site.objects.list()))

    code, doc, _ = mlops(a, "gc", "--remote", "origin")  # default: dry run, 24 h grace
    assert code == 0 and doc["dry_run"] and doc["removed"] == 0 and doc["in_grace"] == 1
    code, doc, _ = mlops(a, "gc", "--remote", "origin", "--grace", "0")
    assert code == 0 and doc["dry_run"] and doc["removed_hashes"] == [orphan]
    assert site.objects.has(orphan)

    code, doc, err = mlops(a, "gc", "--remote", "origin", "--grace", "0", "--yes")
    assert code == 0 and doc["removed_hashes"] == [orphan] and not doc["dry_run"], err
    assert not site.objects.has(orphan)
    assert len(list(site.objects.list())) == total - 1
    code, doc, _ = mlops(b, "pull")
    assert code == 0
    code, doc, _ = mlops(a, "push")  # the killed push finishes: nothing to upload again
    assert code == 0 and doc["blobs_uploaded"] == 0 and len(doc["published"]) == 1


def test_gc_remote_refusals(tmp_path: Path) -> None:
    url = (tmp_path / "remote").as_uri()
    a = machine(tmp_path, "a", url)
    site = Site(Remote("origin", url))
    site.objects.put(b"half a first push")
    code, _, err = mlops(a, "gc", "--remote", "origin", "--grace", "0", "--yes")
    assert code == 1 and "older than its objects" in err

    model = train(a, b"MODEL")
    assert mlops(a, "push")[0] == 0
    site.objects.delete(model.id)
    code, _, err = mlops(a, "gc", "--remote", "origin", "--grace", "0", "--yes")
    assert code == 3 and model.id in err and "mlops push" in err
    assert len(list(site.objects.list())) == 4  # nothing was deleted
