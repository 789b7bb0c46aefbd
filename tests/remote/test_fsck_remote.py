"""`mlops fsck --remote`: a remote's published artifacts are whole; damage exits 3, named."""

from __future__ import annotations

from pathlib import Path

from helpers.remote import machine, mlops, train
from mlops.remote.remotes import Remote
from mlops.remote.site import Site
from mlops.store import Store


def test_a_whole_remote_is_clean_and_each_kind_of_damage_is_named(
    tmp_path: Path, remote_url: str
) -> None:
    a = machine(tmp_path, "a", remote_url)
    model = train(a, b"MODEL-BYTES-1234", promote="production")
    assert mlops(a, "push")[0] == 0
    for extra in ([], ["--verify"]):
        code, doc, err = mlops(a, "fsck", "--remote", "origin", *extra)
        assert code == 0, err
        assert doc["ok"] and doc["artifacts"] == 2 and doc["checked"] == 4
    code, doc, _ = mlops(a, "fsck", "--remote", "origin", "--verify")
    assert doc["bytes_checked"] == len(b"MODEL-BYTES-1234") + len(b"a,b\n1,2\n")

    site = Site(Remote("origin", remote_url))
    pkl = model.files["model.pkl"].hash
    site.fs.pipe_file(site.objects.key_for(pkl), b"EVIL-BYTES-12345")  # same size
    code, doc, _ = mlops(a, "fsck", "--remote", "origin")
    assert code == 0  # sizes match: only hashing tells
    code, doc, err = mlops(a, "fsck", "--remote", "origin", "--verify")
    assert code == 3 and doc["problems"] == [
        {"object": pkl, "problem": "damaged: its bytes do not match its hash", "artifact": model.id}
    ]

    with Store.open(a, create=False) as store:
        data_id = store.parents(model.id)[0]
        data_blob = store.get(data_id).files["train.csv"].hash
    site.fs.rm_file(site.objects.key_for(data_blob))
    site.fs.rm_file(site.objects.key_for(model.id))
    code, doc, _ = mlops(a, "fsck", "--remote", "origin")
    assert code == 3
    assert {(p["object"], p["problem"]) for p in doc["problems"]} == {
        (model.id, "missing (a published manifest)"),
        (data_blob, "missing (file train.csv)"),
    }
    res_code, _, err = mlops(a, "-q", "fsck", "--remote", "origin", "--rebuild")
    assert res_code == 2 and "--rebuild" in err

    # a plain push asks about manifests but trusts a published artifact's files to be there;
    # --full lists every object and puts the lost file back
    assert mlops(a, "push")[1]["blobs_uploaded"] == 1
    assert mlops(a, "push", "--full")[1]["blobs_uploaded"] == 1
    site.fs.pipe_file(site.objects.key_for(pkl), b"MODEL-BYTES-1234")
    code, doc, err = mlops(a, "fsck", "--remote", "origin", "--verify")
    assert code == 0, doc
