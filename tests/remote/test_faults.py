"""Faults between machines: the server gone mid-push, a pull killed mid-way, a manifest deleted
on the remote, two pushers of new versions at once, four promoters at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from helpers.cli import child_env, invoke_cli
from helpers.remote import TcpProxy, fsck_ok, machine, mlops, train
from helpers.store import assert_alias_chains
from mlops.remote.alias_sync import chain_numbers
from mlops.remote.remotes import Remote
from mlops.remote.site import Site, seq_name
from mlops.store import Store


def _spawn(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mlops", "--store", str(root), "--json", *args],
        env=child_env({"MLOPS_USER": root.name}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_until(done: Callable[[], bool], proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and not done():
        time.sleep(0.01)


def _big_artifact(root: Path, n: int) -> None:
    with Store.open(root) as store:
        files = {f"part-{i:03d}.bin": os.urandom(256 << 10) for i in range(n)}
        store.set_alias(store.add_artifact("dataset", "big", files), "production")


@pytest.mark.slow
def test_push_with_the_s3_server_gone_mid_way_then_again(tmp_path: Path, s3_endpoint: str) -> None:
    import s3fs

    proxy = TcpProxy(int(s3_endpoint.rsplit(":", 1)[1])).start()
    prefix = f"mlops-test/{uuid.uuid4().hex}"
    a = tmp_path / "a"
    res = invoke_cli(
        "--store", str(a), "remote", "add", "origin", f"s3://{prefix}", "--endpoint-url", proxy.url
    )
    assert res.exit_code == 0, res.stderr
    _big_artifact(a, 60)
    direct = s3fs.S3FileSystem(endpoint_url=s3_endpoint, skip_instance_cache=True)

    def uploaded() -> int:
        direct.invalidate_cache()
        return len(direct.find(f"{prefix}/objects"))

    proc = _spawn(a, "push")
    _wait_until(lambda: uploaded() >= 10, proc)
    proxy.stop()
    _, err = proc.communicate(timeout=600)
    before = uploaded()
    assert proc.returncode == 2, err
    assert "cannot be reached" in err and "nothing local was lost" in err
    assert "Traceback" not in err
    assert 0 < before < 61, "the server did not go away half-way"
    assert not direct.exists(f"{prefix}/versions")  # nothing published without its bytes
    fsck_ok(a)

    proxy.start()
    code, doc, err = mlops(a, "push")
    assert code == 0, err
    assert doc["blobs_uploaded"] == 61 - before and doc["blobs_present"] == before
    assert [p["label"] for p in doc["published"]] == ["big:1"]
    b = tmp_path / "b"
    invoke_cli("--store", str(b), "remote", "add", "origin", f"s3://{prefix}")
    code, doc, err = mlops(b, "pull", "big@production")
    assert code == 0 and doc["blobs_downloaded"] == 60, err
    fsck_ok(b)
    proxy.stop()


def test_pull_killed_half_way_then_rerun_completes(tmp_path: Path) -> None:
    url = (tmp_path / "remote").as_uri()
    a, b = machine(tmp_path, "a", url), machine(tmp_path, "b", url)
    _big_artifact(a, 120)
    assert mlops(a, "push")[0] == 0
    objects = b / "objects"

    def downloaded() -> int:
        return sum(1 for p in objects.rglob("*") if p.is_file()) if objects.is_dir() else 0

    proc = _spawn(b, "pull", "big@production")
    _wait_until(lambda: downloaded() >= 12, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert downloaded() < 121, "the pull was not caught half-way"

    code, doc, err = mlops(b, "pull", "big@production")
    assert code == 0, err
    with Store.open(b, create=False) as store:
        art = store.resolve("big@production")
        assert all(store.objects.verify(e.hash) is None for e in art.files.values())
    assert fsck_ok(b)["remote_only"] == 0
    assert mlops(b, "pull", "big@production")[1]["blobs_downloaded"] == 0


def test_a_manifest_deleted_on_the_remote(tmp_path: Path, remote_url: str) -> None:
    a, b = machine(tmp_path, "a", remote_url), machine(tmp_path, "b", remote_url)
    model = train(a, b"MODEL", promote="production")
    assert mlops(a, "push")[0] == 0
    site = Site(Remote("origin", remote_url))
    site.objects.delete(model.id)

    for command in (["fetch"], ["pull", "churn@production"]):
        code, _, err = mlops(b, *command)
        assert code == 3, err
        assert f"the manifest of model churn:1 (object {model.id}) is missing" in err
        assert "mlops push" in err and "Traceback" not in err
    with Store.open(b, create=False) as store:
        assert not store.has(model.id)
    fsck_ok(b)

    code, doc, err = mlops(a, "push")  # the machine that has it puts it back
    assert code == 0 and doc["blobs_uploaded"] == 1, err
    code, doc, err = mlops(b, "pull", "churn@production")
    assert code == 0, err
    with Store.open(b, create=False) as store:
        assert store.read_file(store.resolve("churn@production"), "model.pkl") == b"MODEL"
    fsck_ok(b)


def test_two_pushers_of_new_versions_at_once(tmp_path: Path, remote_url: str) -> None:
    a, b = machine(tmp_path, "a", remote_url), machine(tmp_path, "b", remote_url)
    train(a, b"base")
    assert mlops(a, "push")[0] == 0 and mlops(b, "fetch")[0] == 0
    made: dict[str, bytes] = {}
    for r in range(3):  # each round both machines make churn:N+1 locally and push at once
        for root in (a, b):
            body = f"{root.name}{r}".encode()
            made[train(root, body, data=body + b"\n").id] = body
        procs = [_spawn(root, "push") for root in (a, b)]
        for p in procs:
            _, err = p.communicate(timeout=300)
            assert p.returncode == 0, err
    labels: dict[str, str] = {}
    for root in (a, b):
        assert mlops(root, "fetch")[0] == 0
        with Store.open(root, create=False) as store:
            got = {aid: store.get(aid).label for aid in made}
        assert labels in ({}, got)
        labels = got
        fsck_ok(root)
    assert sorted(labels.values()) == [f"churn:{v}" for v in range(2, 8)]
    site = Site(Remote("origin", remote_url))
    claims = [site.read_json(rel)["id"] for rel in site.find("versions", "model", "churn")]
    assert len(claims) == len(set(claims)) == 7
    c = machine(tmp_path, "c", remote_url)  # nothing lost: a fresh machine gets every model
    assert mlops(c, "pull")[0] == 0
    with Store.open(c, create=False) as store:
        for aid, body in made.items():
            assert store.read_file(store.get(aid), "model.pkl") == body


def _remote_chain(site: Site) -> list[dict[str, Any]]:
    key = ("model", "churn", "production")
    seqs = chain_numbers(site)[key]
    assert seqs == list(range(1, len(seqs) + 1))
    return [site.read_json(f"aliases/{'/'.join(key)}/{seq_name(s)}") for s in seqs]


def test_four_promoters_on_two_machines_have_one_winner_per_holder(
    tmp_path: Path, remote_url: str
) -> None:
    a, b = machine(tmp_path, "a", remote_url), machine(tmp_path, "b", remote_url)
    train(a, b"champion", promote="production")
    for r in range(2):
        for root in (a, b):
            train(root, f"{root.name}{r}-1".encode())
            train(root, f"{root.name}{r}-2".encode())
    for root in (a, b, a, b):
        assert mlops(root, "push")[0] == 0 and mlops(root, "fetch")[0] == 0
    site = Site(Remote("origin", remote_url))
    for r in range(2):
        with Store.open(a, create=False) as store:
            ids = {
                f"{root.name}{i}": store.find_by_file(
                    "model", "model.pkl", _sha(f"{root.name}{r}-{i}")
                )
                for root in (a, b)
                for i in (1, 2)
            }
        assert all(art is not None for art in ids.values())
        before = len(_remote_chain(site))
        procs = {
            who: _spawn(
                a if who[0] == "a" else b,
                "models",
                "promote",
                "churn",
                art.label.split(":")[1],
                "--alias",
                "production",
                "--push",
            )  # fmt: skip
            for who, art in ids.items()
        }
        results = {who: (p.wait(timeout=300), p.stderr.read()) for who, p in procs.items()}  # type: ignore[union-attr]
        chain = _remote_chain(site)
        assert chain[0]["from_id"] is None
        for prev, nxt in zip(chain, chain[1:], strict=False):
            assert nxt["from_id"] == prev["to_id"]  # one winner per holder it moved from
        winners = {m["to_id"] for m in chain[before:]}
        assert winners, results
        for who, (code, err) in results.items():
            if ids[who].id in winners:
                assert code == 0, (who, err)
            else:
                assert code == 1, (who, err)
                assert "moved" in err and "Traceback" not in err
        for root in (a, b):
            assert mlops(root, "fetch")[0] == 0
            with Store.open(root, create=False) as store:
                assert store.get_alias("model", "churn", "production") == chain[-1]["to_id"]
                assert assert_alias_chains(store) == len(chain)
                moves = store.alias_history("model", "churn", "production")
                assert [m["to_id"] for m in moves] == [m["to_id"] for m in chain]
    fsck_ok(a)
    fsck_ok(b)


def _sha(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


def test_a_file_remote_record_is_created_whole_or_not_at_all(tmp_path: Path) -> None:
    from mlops.remote.site import _link_create

    target = tmp_path / "aliases" / "0000000001.json"
    target.parent.mkdir()
    assert _link_create(str(target), b'{"to_id": "a"}') is True
    assert _link_create(str(target), b'{"to_id": "b"}') is False  # compare-and-swap lost
    assert target.read_bytes() == b'{"to_id": "a"}'
    assert [p.name for p in target.parent.iterdir()] == ["0000000001.json"]  # no temporaries


@pytest.mark.slow
def test_push_and_pull_killed_half_way_on_s3_then_rerun(tmp_path: Path, s3_endpoint: str) -> None:
    import s3fs

    prefix = f"mlops-test/{uuid.uuid4().hex}"
    roots = []
    for name in ("a", "b"):
        res = invoke_cli(
            "--store", str(tmp_path / name), "remote", "add", "origin", f"s3://{prefix}",
            "--endpoint-url", s3_endpoint,
        )  # fmt: skip
        assert res.exit_code == 0, res.stderr
        roots.append(tmp_path / name)
    a, b = roots
    _big_artifact(a, 160)
    direct = s3fs.S3FileSystem(endpoint_url=s3_endpoint, skip_instance_cache=True)

    def uploaded() -> int:
        direct.invalidate_cache()
        return len(direct.find(f"{prefix}/objects"))

    proc = _spawn(a, "push")
    _wait_until(lambda: uploaded() >= 10, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = uploaded()
    assert 0 < before < 161, "the push was not caught half-way"
    assert not direct.exists(f"{prefix}/versions")  # nothing published yet
    code, doc, err = mlops(a, "push")
    assert code == 0, err
    assert doc["blobs_uploaded"] + doc["blobs_present"] == 161
    assert doc["blobs_uploaded"] <= 161 - before + 16  # at most the requests then in flight

    objects = b / "objects"
    proc = _spawn(b, "pull", "big@production")
    _wait_until(lambda: objects.is_dir() and sum(1 for _ in objects.rglob("*")) >= 20, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    code, doc, err = mlops(b, "pull", "big@production")
    assert code == 0, err
    assert fsck_ok(b)["remote_only"] == 0
    fsck_ok(a)
    code, doc, err = mlops(a, "fsck", "--remote", "origin", "--verify")
    assert code == 0 and doc["checked"] == 161, doc
