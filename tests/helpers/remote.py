"""Two stores in tmp_path act as two machines sharing one remote."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from pathlib import Path
from typing import Any

from helpers.cli import invoke_cli
from mlops.store import Artifact, Store


def machine(tmp_path: Path, name: str, url: str) -> Path:
    root = tmp_path / name
    res = invoke_cli("--store", str(root), "remote", "add", "origin", url, "--default")
    assert res.exit_code == 0, res.stderr
    return root


def mlops(root: Path, *args: str) -> Any:
    """Run a command against a store with --json; returns (exit code, parsed stdout, stderr)."""
    res = invoke_cli("--store", str(root), "--json", *args)
    doc = json.loads(res.stdout) if res.stdout.strip() else None
    return res.exit_code, doc, res.stderr


def train(
    root: Path, model: bytes, data: bytes = b"a,b\n1,2\n", promote: str | None = None
) -> Artifact:
    """A dataset and a model made from it (as train does), optionally promoted."""
    with Store.open(root) as store:
        d = store.add_artifact("dataset", "churn-data", {"train.csv": data})
        m = store.add_artifact("model", "churn", {"model.pkl": model}, parents=[d.id])
        if promote:
            store.set_alias(m, promote, expect_from=store.get_alias("model", "churn", promote))
        return m


def fsck_ok(root: Path) -> dict[str, Any]:
    from mlops.store.maintenance import fsck

    with Store.open(root, create=False) as store:
        result = fsck(store).to_dict()
    assert result["ok"], result["problems"]
    return result


class TcpProxy:
    """A TCP relay on 127.0.0.1 in front of a server (e.g. moto's S3). stop() closes every
    connection and the listening socket, so clients see the server go down mid-request while
    the server keeps what it stored; start() listens again on the same port."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> TcpProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def stop(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            conns, self._conns = self._conns, []
        if listener is not None:
            listener.close()
        for c in conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
            c.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(a, b), daemon=True).start()


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(1 << 16):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)
