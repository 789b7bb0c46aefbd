"""Crash safety (SIGKILL at random moments) and concurrent writers, with real processes."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from helpers.cli import child_env, run_cli
from helpers.store import assert_alias_chains
from mlops.errors import LockedError
from mlops.store import Store
from mlops.store.maintenance import fsck, gc

WRITER = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from mlops.store import Store

    root, workdir, seed = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    rng = __import__("random").Random(seed)
    store = Store.open(root)
    print("ready", flush=True)
    i = 0
    while True:
        i += 1
        size = rng.choice([0, 10, 5000, 300_000, 2_000_000])
        payload = os.urandom(size)
        if rng.random() < 0.5:
            src = workdir / f"f{seed}-{i}.bin"
            src.write_bytes(payload)
            art = store.add_artifact("blob", f"w{rng.randrange(3)}", {"a.bin": src, "b.txt": b"%d" % i})
        else:
            d = workdir / f"d{seed}-{i}"
            d.mkdir()
            for j in range(rng.randrange(1, 6)):
                (d / f"part{j}").write_bytes(payload[j::5])
            art, _ = store.add_path(d, name="dir", kind="dataset")
        store.set_alias(art, "latest", why=f"step {i}")
        if i % 7 == 0:
            run = store.start_run("train")
            store.log_params(run, {"i": i})
            store.log_metrics(run, {"loss": 1.0 / i})
            store.finish_run(run)
    """
)


@pytest.mark.slow
def test_sigkill_at_random_moments_leaves_a_sound_store(tmp_path: Path) -> None:
    root = tmp_path / "store"
    work = tmp_path / "work"
    work.mkdir()
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    rng = random.Random(1234)
    env = child_env()
    kills = 0
    deadline = time.monotonic() + 45
    while kills < 30 and time.monotonic() < deadline:
        proc = subprocess.Popen(
            [sys.executable, str(script), str(root), str(work), str(kills)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line == b"ready\n", proc.stderr.read() if proc.stderr else b""
        time.sleep(rng.uniform(0.0, 0.4))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else b""
        kills += 1
        if kills % 5 == 0:
            with Store.open(root) as store:
                result = fsck(store)
                assert result.ok, result.problems
    assert kills >= 20

    with Store.open(root) as store:
        result = fsck(store)
        assert result.ok, result.problems
        n = store.conn.execute("SELECT count(*) FROM artifacts").fetchone()[0]
        assert n > 0
        # every artifact in the catalog reads back whole
        for row in store.list_rows():
            art = store.get(row["id"])
            for p in art.files:
                store.read_file(art, p)
        # the alias history is a chain: each move starts where the previous one ended
        assert assert_alias_chains(store) > 0
        # the next command uses the store normally
        src = work / "after.bin"
        src.write_bytes(b"after the crashes")
        art = store.add_artifact("blob", "after", {"x": src})
        assert store.read_file(store.resolve("after"), "x") == b"after the crashes"
        assert store.resolve(art.id[:10]).id == art.id
        # leftovers are only staging files and unreferenced blobs, which gc reclaims; it keeps
        # manifests whose writer was killed before the commit (and their files) unless told
        gc(store)
        assert list(store.objects.tmp.iterdir()) == []
        after = fsck(store)
        assert after.ok
        gc(store, include_manifests=True)
        after = fsck(store)
        assert after.ok and after.unreferenced == 0 and after.unindexed_manifests == 0
    # and so does the command line
    src = work / "cli.csv"
    src.write_text("a\n1\n")
    env = {"MLOPS_STORE": str(root)}
    assert run_cli("add", str(src), cwd=tmp_path, env=env).returncode == 0
    shown = run_cli("--json", "show", "cli.csv", cwd=tmp_path, env=env)
    assert shown.returncode == 0, shown.stderr
    r = run_cli("cat", "cli.csv", cwd=tmp_path, env=env)
    assert r.returncode == 0 and r.stdout == "a\n1\n"
    assert run_cli("fsck", cwd=tmp_path, env=env).returncode == 0


CONCURRENT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from mlops.store import Store

    root, who, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    store = Store.open(root)
    model = store.add_artifact("model", "shared", {"m": b"base"})  # same for every writer
    for i in range(n):
        art = store.add_artifact("dataset", f"{who}-{i}", {"data.csv": f"{who},{i}\\n".encode()})
        store.set_alias(model, "champion", why=f"{who} {i}", who=who)
        store.set_alias(art, "latest", who=who)
    store.close()
    """
)


@pytest.mark.slow
def test_four_writers_at_once(tmp_path: Path) -> None:
    root = tmp_path / "store"
    Store.open(root).close()
    script = tmp_path / "writer.py"
    script.write_text(CONCURRENT)
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(root), f"w{k}", "50"],
            env=child_env(),
            stderr=subprocess.PIPE,
        )
        for k in range(4)
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    with Store.open(root) as store:
        datasets = store.list_rows(kind="dataset")
        assert len(datasets) == 200
        assert {r["name"] for r in datasets} == {f"w{k}-{i}" for k in range(4) for i in range(50)}
        assert len(store.list_rows(kind="model")) == 1
        moves = store.alias_history("model", "shared", "champion")
        assert len(moves) == 200
        assert {m["why"] for m in moves} == {f"w{k} {i}" for k in range(4) for i in range(50)}
        assert [m["seq"] for m in moves] == sorted(m["seq"] for m in moves)
        assert len(store.alias_history("dataset", alias="latest")) == 200
        assert assert_alias_chains(store) == 400
        result = fsck(store)
        assert result.ok, result.problems
        assert result.unreferenced == 0


CAS = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from mlops.errors import LockedError
    from mlops.store import Store

    root, ref, start = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    store = Store.open(root)
    art = store.resolve(ref)
    seen = store.get_alias("model", "m", "production")
    while time.time() < start:
        time.sleep(0.001)
    try:
        store.set_alias(art, "production", expect_from=seen, who=ref)
        print("won")
    except LockedError:
        print("lost")
    """
)


@pytest.mark.parametrize("rounds", [5])
def test_compare_and_swap_exactly_one_winner(tmp_path: Path, rounds: int) -> None:
    root = tmp_path / "store"
    with Store.open(root) as store:
        a = store.add_artifact("model", "m", {"m": b"a"})
        b = store.add_artifact("model", "m", {"m": b"b"})
        store.add_artifact("model", "m", {"m": b"c"})
        store.set_alias(a, "production")
    script = tmp_path / "cas.py"
    script.write_text(CAS)
    for _ in range(rounds):
        start = time.time() + 1.0
        procs = [
            subprocess.Popen(
                [sys.executable, str(script), str(root), ref, str(start)],
                env=child_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for ref in ("m:2", "m:3")
        ]
        outs = []
        for p in procs:
            out, err = p.communicate(timeout=60)
            assert p.returncode == 0, err.decode()
            outs.append(out.decode().strip())
        assert sorted(outs) == ["lost", "won"]
        winner = "m:2" if outs[0] == "won" else "m:3"
        with Store.open(root) as store:
            assert store.get_alias("model", "m", "production") == store.resolve(winner).id
            store.set_alias(a, "production")  # reset for the next round
    with Store.open(root) as store:
        # in-process: a stale expectation loses and leaves the alias where it was
        store.set_alias(b, "production", expect_from=a.id)
        with pytest.raises(LockedError):
            store.set_alias(a, "production", expect_from=a.id)
        assert store.get_alias("model", "m", "production") == b.id
        # expect_from=None means "only if nobody holds the alias yet"
        store.set_alias(a, "staging", expect_from=None)
        with pytest.raises(LockedError):
            store.set_alias(b, "staging", expect_from=None)


GC_LOOP = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from mlops.store import Store
    from mlops.store.maintenance import gc

    store = Store.open(Path(sys.argv[1]))
    stop = Path(sys.argv[2])
    n = 0
    while not stop.exists():
        gc(store)
        n += 1
    print(n)
    """
)


@pytest.mark.slow
def test_gc_running_beside_writers_never_takes_their_blobs(tmp_path: Path) -> None:
    root = tmp_path / "store"
    Store.open(root).close()
    (tmp_path / "gc.py").write_text(GC_LOOP)
    stop = tmp_path / "stop"
    collector = subprocess.Popen(
        [sys.executable, str(tmp_path / "gc.py"), str(root), str(stop)],
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        with Store.open(root) as store:
            for i in range(40):
                d = tmp_path / f"d{i}"
                d.mkdir()
                for j in range(3):
                    (d / f"f{j}").write_bytes(b"%d-%d" % (i, j))
                art, _ = store.add_path(d, name=f"d{i}")
                store.add_artifact("blob", f"b{i}", {"x": b"bytes %d" % i, "y": d / "f0"})
                store.put_bytes(b"garbage %d" % i)  # something for gc to take
                assert store.read_file(art, "f2") == b"%d-2" % i
    finally:
        stop.touch()
        out, err = collector.communicate(timeout=60)
    assert collector.returncode == 0, err.decode()
    assert int(out) > 0
    with Store.open(root) as store:
        assert len(store.list_rows()) == 80
        result = fsck(store)
        assert result.ok, result.problems
