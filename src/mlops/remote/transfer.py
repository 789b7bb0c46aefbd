"""Copies of many blobs between the local store and a remote, many requests in flight at once.

On S3 (s3fs is an asyncio client) a batch runs as coroutines on s3fs's own event loop, so a
few hundred small requests cost one round trip's worth of waiting each, not one thread each.
Every upload carries the SHA-256 of its bytes, which S3 checks before it stores them: a small
blob in one PUT, a large one as a multipart upload whose parts each carry their checksum while
the whole file is hashed on the way; a file whose hash is not its name is aborted before the
upload completes, so nothing partial ever becomes visible and nothing is read back. Downloads
are hashed before they enter the store. Other backends (a mount, SFTP, GCS, Azure) go through
the ObjectStore interface on a pool of threads (written, then read back and hashed).

`advance(n)` is called with the bytes of each blob once it is done (progress bars).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import io
import queue
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from mlops.errors import StoreIntegrityError
from mlops.store.backend import ObjectStore, VerifiedReader, damaged
from mlops.store.diskio import sha256_bytes
from mlops.store.objects import LocalObjectStore
from mlops.store.remote_objects import SMALL_BLOB, FsspecObjectStore

REQUESTS = 16  # blobs in flight at once on an asyncio backend
THREADS = 8  # blobs in flight at once on the others
PART = 16 << 20  # multipart part size for large blobs
PARTS_IN_FLIGHT = 8
ASK_AT_MOST = 2000  # existence asked blob by blob up to this many, else one listing
BATCH_BLOBS, BATCH_BYTES = 2048, 64 << 20  # downloaded blobs stored (and synced) together

Advance = Callable[[int], None]


class RemoteBlobError(StoreIntegrityError):
    """A blob being downloaded is missing on the remote or does not match its hash."""

    def __init__(self, digest: str, problem: str) -> None:
        super().__init__(f"object {digest} on the remote is {problem}")
        self.digest, self.problem = digest, problem


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def uses_asyncio(remote: FsspecObjectStore) -> bool:
    return remote.is_s3 and bool(getattr(remote.fs, "async_impl", False))


async def _get_whole(remote: FsspecObjectStore, key: str) -> bytes:
    """One object in one GET. s3fs's `_cat_file` first asks for the size (a HEAD, a second
    round trip per blob) whenever it may split a read into ranges; one request in flight per
    object tells it not to (s3fs releases without that parameter split nothing)."""
    fs = remote.fs
    if _takes_max_concurrency(fs):
        return await fs._cat_file(key, max_concurrency=1)  # type: ignore[no-any-return]
    return await fs._cat_file(key)  # type: ignore[no-any-return]


def _takes_max_concurrency(fs: Any) -> bool:
    import inspect

    return "max_concurrency" in inspect.signature(fs._cat_file).parameters


def _run(remote: FsspecObjectStore, work: Coroutine[Any, Any, Any]) -> Any:
    from fsspec.asyn import sync

    loop = remote.fs.loop
    if loop.get_exception_handler() is None:
        loop.set_exception_handler(_quiet_lost_connections)
    return sync(loop, lambda: work)


def _quiet_lost_connections(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """A dropped connection also fails the HTTP client's own body-writing task, which nobody
    awaits; the request that used it raised already (and is reported as one sentence), so
    asyncio's traceback about that task is noise."""
    if isinstance(context.get("exception"), OSError):
        return
    loop.default_exception_handler(context)


def upload(
    local: ObjectStore, remote: FsspecObjectStore, digests: Sequence[str], advance: Advance
) -> int:
    """Copy blobs the remote lacks (the caller checked) to it; returns the bytes sent."""
    if not digests:
        return 0
    if uses_asyncio(remote):
        return int(_run(remote, _upload_all(local, remote, digests, advance)))
    return _threaded(digests, lambda d: _upload_one(local, remote, d), advance)


def download(
    local: ObjectStore, remote: FsspecObjectStore, sizes: dict[str, int], advance: Advance
) -> int:
    """Copy blobs (digest -> expected size, 0 when unknown) from the remote into the local
    store, each verified before it enters; returns the bytes."""
    if not sizes:
        return 0
    if uses_asyncio(remote):
        return int(_run(remote, _download_all(local, remote, sizes, advance)))
    return _threaded(list(sizes), lambda d: _download_one(local, remote, d), advance)


def existing(remote: FsspecObjectStore, digests: Sequence[str]) -> set[str]:
    """Which of these blobs the remote holds (one HEAD request each, many at once)."""
    if not digests:
        return set()
    found: set[str] = set()

    def one(digest: str) -> int:
        if remote.has(digest):
            found.add(digest)
        return 0

    if uses_asyncio(remote):

        async def ask(digest: str) -> int:
            if await remote.fs._exists(remote.key_for(digest)):
                found.add(digest)
            return 0

        _run(remote, _gather(digests, ask))
    else:
        _threaded(digests, one, lambda _n: None)
    return found


def check(remote: FsspecObjectStore, sizes: dict[str, int], advance: Advance) -> set[str]:
    """Download and hash blobs (digest -> size), keeping nothing; the damaged or missing ones."""
    if not sizes:
        return set()
    if uses_asyncio(remote):
        return set(_run(remote, _check_all(remote, sizes, advance)))
    bad: set[str] = set()

    def one(digest: str) -> int:
        if remote.verify(digest) is not None:
            bad.add(digest)
        return sizes[digest]

    _threaded(list(sizes), one, advance)
    return bad


def _threaded(digests: Sequence[str], one: Callable[[str], int], advance: Advance) -> int:
    total = 0
    with ThreadPoolExecutor(THREADS) as pool:
        for n in pool.map(one, digests):
            advance(n)
            total += n
    return total


def _upload_one(local: ObjectStore, remote: FsspecObjectStore, digest: str) -> int:
    size = local.size(digest)
    if size > SMALL_BLOB and isinstance(local, LocalObjectStore):
        remote.put_file(local.path_for(digest), digest)  # read back and hashed
        return size
    data = local.get(digest)  # verified: damaged bytes never leave
    remote.put(data)
    return len(data)


def _download_one(local: ObjectStore, remote: FsspecObjectStore, digest: str) -> int:
    if not remote.has(digest):
        raise RemoteBlobError(digest, "missing")
    try:
        with remote.open(digest) as reader:
            return local.put(reader).size  # type: ignore[arg-type]
    except StoreIntegrityError:
        raise RemoteBlobError(digest, "damaged") from None


async def _gather(digests: Sequence[str], one: Callable[[str], Coroutine[Any, Any, int]]) -> int:
    """Run one(d) for every digest, REQUESTS at a time. After a failure no new one starts;
    those in flight end on their own (cancelling them mid-request leaves the HTTP client's
    tasks with errors nobody reads), then the first failure is raised."""
    queue = list(reversed(digests))
    total = 0

    async def worker() -> None:
        nonlocal total
        try:
            while queue:
                n = await one(queue.pop())  # not `total += await ...`: that reads total first
                total += n
        except BaseException:
            queue.clear()
            raise

    workers = [worker() for _ in range(min(REQUESTS, len(digests)))]
    for outcome in await asyncio.gather(*workers, return_exceptions=True):
        if isinstance(outcome, BaseException):
            raise outcome
    return total


async def _upload_all(
    local: ObjectStore, remote: FsspecObjectStore, digests: Sequence[str], advance: Advance
) -> int:
    async def one(digest: str) -> int:
        size = await asyncio.to_thread(local.size, digest)
        if size > SMALL_BLOB and isinstance(local, LocalObjectStore):
            await _put_multipart(remote, local.path_for(digest), digest, advance)
            return size
        data = await asyncio.to_thread(local.get, digest)  # verified while read
        await remote.fs._pipe_file(
            remote.key_for(digest),
            data,
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=_b64(bytes.fromhex(digest)),
        )
        advance(len(data))
        return len(data)

    return await _gather(digests, one)


async def _put_multipart(
    remote: FsspecObjectStore, path: Path, digest: str, advance: Advance
) -> None:
    """A large blob as a multipart upload: every part carries its SHA-256, which S3 checks;
    the whole file is hashed as it is read, and the upload is completed only if that hash is
    the blob's name (else aborted: nothing becomes visible)."""
    # long: one upload's life (create, parts in flight, complete or abort) shares its task list
    fs = remote.fs
    bucket, key, _ = fs.split_path(remote.key_for(digest))
    mpu = await fs._call_s3(
        "create_multipart_upload", Bucket=bucket, Key=key, ChecksumAlgorithm="SHA256"
    )
    upload_id = mpu["UploadId"]
    whole = hashlib.sha256()
    slots = asyncio.Semaphore(PARTS_IN_FLIGHT)
    tasks: list[asyncio.Task[dict[str, Any]]] = []

    async def send(number: int, chunk: bytes) -> dict[str, Any]:
        try:
            checksum = _b64(await asyncio.to_thread(lambda: hashlib.sha256(chunk).digest()))
            out = await fs._call_s3(
                "upload_part",
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=number,
                Body=chunk,
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=checksum,
            )
            advance(len(chunk))
            return {"PartNumber": number, "ETag": out["ETag"], "ChecksumSHA256": checksum}
        finally:
            slots.release()

    part_size = max(PART, -(-path.stat().st_size // 9000))  # S3 takes at most 10,000 parts

    def read_part(f: Any) -> bytes:
        chunk = f.read(part_size)
        whole.update(chunk)
        return bytes(chunk)

    try:
        with open(path, "rb") as f:
            while True:
                await slots.acquire()
                chunk = await asyncio.to_thread(read_part, f)
                if not chunk:
                    slots.release()
                    break
                tasks.append(asyncio.ensure_future(send(len(tasks) + 1, chunk)))
        parts = await asyncio.gather(*tasks)
        if whole.hexdigest() != digest:
            raise damaged(digest)
        await fs._call_s3(
            "complete_multipart_upload",
            Bucket=bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": list(parts)},
        )
    except BaseException:
        await asyncio.gather(*tasks, return_exceptions=True)  # in-flight parts end on their own
        with contextlib.suppress(Exception):  # the remote may be gone; S3 expires it then
            await fs._call_s3("abort_multipart_upload", Bucket=bucket, Key=key, UploadId=upload_id)
        raise


async def _download_all(
    local: ObjectStore, remote: FsspecObjectStore, sizes: dict[str, int], advance: Advance
) -> int:
    """Small blobs are hashed as they arrive and stored in batches (one flush to disk for a
    batch, not one per blob); large ones stream to the store."""
    pending: list[tuple[str, bytes]] = []

    async def flush() -> None:
        batch = pending[:]
        pending.clear()
        if batch:
            await asyncio.to_thread(_store, local, batch)

    async def one(digest: str) -> int:
        try:
            if sizes[digest] > SMALL_BLOB:
                return await _get_streamed(local, remote, digest, advance)
            data = await _get_whole(remote, remote.key_for(digest))
        except FileNotFoundError:
            raise RemoteBlobError(digest, "missing") from None
        await asyncio.to_thread(_check, digest, data)
        pending.append((digest, data))
        advance(len(data))
        if len(pending) >= BATCH_BLOBS or sum(len(d) for _, d in pending) >= BATCH_BYTES:
            await flush()
        return len(data)

    try:
        return await _gather(list(sizes), one)
    finally:
        await flush()  # what arrived verified is kept, so a rerun does not fetch it again


async def _get_streamed(
    local: ObjectStore, remote: FsspecObjectStore, digest: str, advance: Advance
) -> int:
    """A large blob in one streamed GET, handed chunk by chunk to a thread that writes it to
    the store through a verified reader (a blob of another hash is refused at its end). One
    stream, not ranged parts: some S3 servers (moto) copy the whole object for every range."""
    bucket, key, _ = remote.fs.split_path(remote.key_for(digest))
    try:
        response = await remote.fs._call_s3("get_object", Bucket=bucket, Key=key)
    except FileNotFoundError:
        raise RemoteBlobError(digest, "missing") from None
    stream = _PartStream()
    storing = asyncio.ensure_future(asyncio.to_thread(stream.drain_into, local, digest))
    total = 0
    try:
        body = response["Body"]
        while chunk := await body.read(PART // 4):
            await asyncio.to_thread(stream.feed, bytes(chunk))
            advance(len(chunk))
            total += len(chunk)
        await asyncio.to_thread(stream.feed, b"")
        try:
            await storing
        except StoreIntegrityError:
            raise RemoteBlobError(digest, "damaged") from None
    except BaseException:
        stream.fail()
        await asyncio.gather(storing, return_exceptions=True)
        raise
    finally:
        response["Body"].close()
    return total


class _PartStream(io.RawIOBase):
    """Bytes handed over from the event loop to the thread that stores them, in order."""

    def __init__(self) -> None:
        super().__init__()
        self._chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=PARTS_IN_FLIGHT)
        self._head = memoryview(b"")
        self._reader_gone = False
        self._ended = False

    def drain_into(self, local: ObjectStore, digest: str) -> None:
        """Store what is fed (in the thread that calls this), verified against digest."""
        try:
            local.put(VerifiedReader(self, digest))  # type: ignore[arg-type]
        finally:
            self._reader_gone = True

    def feed(self, chunk: bytes) -> None:
        while True:  # a reader that stopped (a full disk) must not leave the feeder waiting
            try:
                self._chunks.put(chunk, timeout=0.2)
                return
            except queue.Full:
                if self._reader_gone:
                    raise OSError("the store stopped reading the download") from None

    def fail(self) -> None:
        while True:  # make room for the end mark: the reader stops at it
            try:
                self._chunks.put_nowait(None)
                return
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self._chunks.get_nowait()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self._head:
            if self._ended:
                return 0
            chunk = self._chunks.get()
            if chunk is None:
                raise OSError("the download was interrupted")
            self._ended = not chunk  # b"" marks the end
            self._head = memoryview(chunk)
        n = min(len(buffer), len(self._head))
        buffer[:n] = self._head[:n]
        self._head = self._head[n:]
        return n


async def _check_all(
    remote: FsspecObjectStore, sizes: dict[str, int], advance: Advance
) -> set[str]:
    bad: set[str] = set()

    async def one(digest: str) -> int:
        key, h, size = remote.key_for(digest), hashlib.sha256(), sizes[digest]
        try:
            if size <= PART:
                data = await _get_whole(remote, key)
                await asyncio.to_thread(h.update, data)
            else:  # in ranges, in order (the listing gave this size)
                for start in range(0, size, PART):
                    data = await remote.fs._cat_file(key, start=start, end=min(start + PART, size))
                    await asyncio.to_thread(h.update, data)
        except FileNotFoundError:
            bad.add(digest)
        if h.hexdigest() != digest:
            bad.add(digest)
        advance(size)
        return size

    await _gather(list(sizes), one)
    return bad


def _check(digest: str, data: bytes) -> None:
    if sha256_bytes(data) != digest:
        raise RemoteBlobError(digest, "damaged")


def _store(local: ObjectStore, blobs: list[tuple[str, bytes]]) -> None:
    if isinstance(local, LocalObjectStore):
        local.put_verified(blobs)
    else:
        for _, data in blobs:
            local.put(data)
