"""Bulk transfers: byte counts, large blobs in parts (S3 multipart with a checksum per part,
ranged downloads), a damaged blob on either side, and progress bars on a terminal."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest

from helpers.cli import on_a_terminal
from helpers.remote import fsck_ok, machine, mlops
from mlops.remote import transfer
from mlops.remote.remotes import Remote
from mlops.remote.site import Site
from mlops.store import Store


def _dataset(root: Path, sizes: list[int]) -> tuple[str, dict[str, int]]:
    files = {f"part-{i}.bin": os.urandom(n) for i, n in enumerate(sizes)}
    with Store.open(root) as store:
        art = store.add_artifact("dataset", "blobs", files)
        manifest = store.objects.size(art.id)
    return art.id, {**{e.hash: e.size for e in art.files.values()}, art.id: manifest}


def test_push_and_pull_count_every_byte_once(tmp_path: Path, remote_url: str) -> None:
    a, b = machine(tmp_path, "a", remote_url), machine(tmp_path, "b", remote_url)
    aid, sizes = _dataset(a, [1000 + 7 * i for i in range(60)])
    code, pushed, err = mlops(a, "push")
    assert code == 0, err
    assert pushed["blobs_uploaded"] == len(sizes)
    assert pushed["bytes_uploaded"] == sum(sizes.values())
    code, pulled, err = mlops(b, "pull", "blobs:1")
    assert code == 0, err
    del sizes[aid]  # the manifest came with fetch
    assert pulled["blobs_downloaded"] == len(sizes)
    assert pulled["bytes_downloaded"] == sum(sizes.values())
    fsck_ok(b)


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blobs over 1 MiB go in parts of 5 MiB (S3's smallest), so a test file of a few MiB
    takes the path a multi-GiB one takes."""
    monkeypatch.setattr(transfer, "SMALL_BLOB", 1 << 20)
    monkeypatch.setattr(transfer, "PART", 5 << 20)


@pytest.mark.slow
def test_a_large_blob_goes_up_in_checked_parts_and_comes_back_whole(
    tmp_path: Path, s3_endpoint: str, small_parts: None
) -> None:
    url = f"s3://mlops-test/{uuid.uuid4().hex}"
    a, b = machine_s3(tmp_path, "a", url, s3_endpoint), machine_s3(tmp_path, "b", url, s3_endpoint)
    aid, sizes = _dataset(a, [12 << 20, 300])
    code, pushed, err = mlops(a, "push")
    assert code == 0, err
    assert pushed["bytes_uploaded"] == sum(sizes.values())
    site = Site(Remote("origin", url, s3_endpoint))
    big = next(d for d, n in sizes.items() if n == 12 << 20)
    head = site.fs.call_s3(
        "head_object",
        Bucket="mlops-test",
        Key=site.objects.key_for(big).split("/", 1)[1],
        ChecksumMode="ENABLED",
    )
    # three parts, each sent with its SHA-256 (AWS S3 checks it; moto only records it)
    assert head["ContentLength"] == 12 << 20 and head["ETag"].strip('"').endswith("-3")
    assert head["ChecksumSHA256"]
    code, pulled, err = mlops(b, "pull", aid)
    assert code == 0, err
    assert pulled["bytes_downloaded"] == (12 << 20) + 300
    fsck_ok(b)


@pytest.mark.slow
def test_a_damaged_large_blob_is_never_published_either_way(
    tmp_path: Path, s3_endpoint: str, small_parts: None
) -> None:
    url = f"s3://mlops-test/{uuid.uuid4().hex}"
    a = machine_s3(tmp_path, "a", url, s3_endpoint)
    _, sizes = _dataset(a, [11 << 20])
    big = next(d for d, n in sizes.items() if n == 11 << 20)
    with Store.open(a) as store:
        path = store.objects.path_for(big)  # type: ignore[attr-defined]
    path.chmod(0o644)
    with open(path, "r+b") as f:  # damage the local copy: the upload must not complete
        f.seek(7 << 20)
        byte = f.read(1)[0]
        f.seek(7 << 20)
        f.write(bytes([byte ^ 0xFF]))  # flipped: writing a fixed byte left 1 in 256 intact
    code, _, err = mlops(a, "push")
    assert code == 3 and big[:12] in err and "Traceback" not in err
    site = Site(Remote("origin", url, s3_endpoint))
    assert not site.objects.has(big)
    bucket_uploads = site.fs.call_s3("list_multipart_uploads", Bucket="mlops-test")
    assert not [u for u in bucket_uploads.get("Uploads", []) if url.split("/")[-1] in u["Key"]]

    # the other way: a damaged large blob on the remote is refused and nothing of it kept
    b = machine_s3(tmp_path, "b", url, s3_endpoint)
    c = machine_s3(tmp_path, "c", url, s3_endpoint)
    aid, sizes = _dataset(b, [9 << 20])
    assert mlops(b, "push")[0] == 0
    big = next(d for d, n in sizes.items() if n == 9 << 20)
    site.fs.pipe_file(site.objects.key_for(big), os.urandom(9 << 20))
    code, _, err = mlops(c, "pull", aid)
    assert code == 3 and big in err and "damaged" in err and "Traceback" not in err
    with Store.open(c, create=False) as store:
        assert not store.objects.has(big)
        assert list(store.objects.tmp.iterdir()) == []  # type: ignore[attr-defined]


def machine_s3(tmp_path: Path, name: str, url: str, endpoint: str) -> Path:
    from helpers.cli import invoke_cli

    root = tmp_path / name
    res = invoke_cli(
        "--store", str(root), "remote", "add", "origin", url, "--default",
        "--endpoint-url", endpoint,
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    return root


def test_push_and_pull_show_bars_on_a_terminal_only(tmp_path: Path) -> None:
    url = (tmp_path / "remote").as_uri()
    a, b = machine(tmp_path, "a", url), machine(tmp_path, "b", url)
    aid, _ = _dataset(a, [200_000, 300_000])
    code, shown = on_a_terminal(["--store", str(a), "push"], tmp_path)
    assert code == 0, shown
    # done/total in bytes (rate and time left depend on the machine: not checked)
    assert "uploading 3 object(s) to origin" in shown, shown
    assert re.search(r"[\d.]+ kB/500\.\d kB", shown), shown  # the files and a manifest
    code, shown = on_a_terminal(["--store", str(b), "pull", aid], tmp_path)
    assert code == 0, shown
    assert "downloading 2 object(s) from origin" in shown and "kB/500.0 kB" in shown, shown
    for args in (["--store", str(b), "-q", "pull", aid], ["--store", str(b), "--json", "push"]):
        code, shown = on_a_terminal(args, tmp_path)
        assert code == 0 and shown == "", shown


def test_a_small_blob_comes_down_in_one_request(tmp_path: Path, s3_endpoint: str) -> None:
    """One GET per small blob: no HEAD first (s3fs asks for the size before a read it may split,
    which doubled the requests and the time of a pull of many small files)."""
    url = f"s3://mlops-test/{uuid.uuid4().hex}"
    a = machine_s3(tmp_path, "a", url, s3_endpoint)
    aid, sizes = _dataset(a, [500, 600, 700])
    code, _, err = mlops(a, "push")
    assert code == 0, err
    del sizes[aid]
    site = Site(Remote("origin", url, s3_endpoint))
    site.fs.ls(url)  # s3fs makes its client on first use
    calls: list[str] = []
    site.fs.s3.meta.events.register("before-call.s3", lambda model, **_: calls.append(model.name))
    with Store.open(tmp_path / "b") as store:
        got = transfer.download(store.objects, site.objects, sizes, lambda _n: None)
        assert all(store.objects.has(d) for d in sizes)
    assert got == sum(sizes.values())
    assert calls == ["GetObject"] * len(sizes)
