"""`mlops serve`: an HTTP JSON API around one model (FastAPI; the optional extra `serve`).

    POST /predict   {"records": [{col: value, ...}, ...]}  or  {"columns": {col: [values]}}
                    (MLflow's {"dataframe_records": ...} / {"dataframe_split": ...} also work)
    GET  /health    {"status": "ok", "pid": the worker process's id, ...}
    GET  /metadata  model id, name, version, inputs, classes, metrics
    GET  /metrics   Prometheus text: requests, errors, rows, a latency histogram, the
                    prediction log's rows written, dropped and queued (summed over the
                    worker processes of `--workers N`)
    POST /invocations, GET /ping   MLflow's scoring protocol (mlflow_protocol.py)

A schema error or a non-finite number is a 422 naming the field, an oversized body a 413, a
non-JSON body a 415, invalid JSON a 400, an unknown route a 404, any unexpected failure a 500
(all with the body {"error": ...}, all counted in /metrics).
When bound to a loopback address, requests must carry a loopback Host header (a guard against
DNS rebinding from a web page).
"""

import errno
import gc
import logging
import os
import socket
import time
from pathlib import Path
from typing import Any

from mlops.errors import InputError, UsageError
from mlops.lifecycle.deploy.log_writer import PredictionLogWriter
from mlops.lifecycle.deploy.mlflow_protocol import invocation_body, media_type
from mlops.lifecycle.deploy.package import ModelHandle
from mlops.lifecycle.deploy.serve_body import RequestError, frame_from_body, parse_body
from mlops.lifecycle.deploy.signature import SchemaMismatch

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
ROUTES = (
    ("POST", "/predict"),
    ("POST", "/invocations"),
    ("GET", "/health"),
    ("GET", "/ping"),
    ("GET", "/metadata"),
    ("GET", "/metrics"),
)
ROUTES_TEXT = ", ".join(f"{m} {p}" for m, p in ROUTES)
KNOWN_PATHS = frozenset(p for _, p in ROUTES)
SCORING_PATHS = ("/predict", "/invocations")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")

logger = logging.getLogger(__name__)


def require_serve_extra() -> None:
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise UsageError(
            "`mlops serve` needs FastAPI and uvicorn, which are not installed",
            hint="install mlops with its serve extra from your checkout or a bundle's wheel, "
            "e.g. pip install -e '.[serve]' (the index's `mlops[serve]` is another project)",
        ) from None


def is_loopback(host: str) -> bool:
    return host in LOOPBACK_HOSTS or host.startswith("127.")


class Metrics:
    """Serve's counters and latency histogram, held by prometheus_client in a registry of their
    own (not the process-global one), and rendered by prometheus_client's text exposition.

    With `shared_dir` (a server with several worker processes), every worker's values live in
    prometheus_client's multiprocess files in that directory and a scrape of any worker sums
    them: /metrics shows the totals of the whole server.

    The counters live here rather than in report/ because the middleware updates them on every
    request and lifecycle/ may not import report/; rendering is prometheus_client's
    `generate_latest`, so no text format is written by hand."""

    def __init__(self, handle: ModelHandle, shared_dir: Path | None = None) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.shared_dir = shared_dir
        if shared_dir is not None:
            _use_multiprocess_files(shared_dir)
        # the `_created` series (one per counter child) were never exposed: keep them out
        disable_created_metrics()
        self.registry = CollectorRegistry(auto_describe=True)
        info = Gauge(
            "mlops_model_info",
            "The model being served.",
            ["model_id", "name", "version"],
            registry=self.registry,
            multiprocess_mode="max",
        )
        info.labels(str(handle.model_id), str(handle.name), str(handle.version)).set(1)
        # prometheus_client appends `_total` to a counter's name in the text format
        self.requests = Counter(
            "mlops_requests",
            "HTTP requests by path, method and status.",
            ["path", "method", "status"],
            registry=self.registry,
        )
        self.errors = Counter(
            "mlops_request_errors",
            "HTTP requests that failed (4xx client, 5xx server).",
            ["path", "kind"],
            registry=self.registry,
        )
        self.rows = Counter(
            "mlops_predicted_rows",
            "Rows scored by /predict and /invocations.",
            registry=self.registry,
        )
        self.latency = Histogram(
            "mlops_predict_latency_seconds",
            "Latency of /predict and /invocations requests.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def _log_counters(self) -> None:
        from prometheus_client import Counter, Gauge

        self.log_written = Counter(
            "mlops_prediction_log_written_rows",
            "Served rows written to the prediction log.",
            registry=self.registry,
        )
        self.log_dropped = Counter(
            "mlops_prediction_log_dropped_rows",
            "Served rows not logged: the log queue was full, or a write failed.",
            registry=self.registry,
        )
        self.log_queued = Gauge(
            "mlops_prediction_log_queued_rows",
            "Served rows waiting for the log writer.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )

    def watch_log(self, writer: PredictionLogWriter) -> None:
        """Export the prediction log writer's row counts with the other metrics."""
        self._log_counters()
        writer.on_count = self._log_counts

    def _log_counts(self, written: int, dropped: int, queued: int) -> None:
        if written:
            self.log_written.inc(written)
        if dropped:
            self.log_dropped.inc(dropped)
        if queued:
            self.log_queued.inc(queued)

    def observe(self, path: str, method: str, status: int, seconds: float, rows: int = 0) -> None:
        self.requests.labels(path, method, str(status)).inc()
        if status >= 400:
            self.errors.labels(path, "client" if status < 500 else "server").inc()
        if path in SCORING_PATHS:
            self.rows.inc(rows)
            self.latency.observe(seconds)

    def render(self) -> bytes:
        from prometheus_client import CollectorRegistry, generate_latest
        from prometheus_client.multiprocess import MultiProcessCollector

        if self.shared_dir is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(self.shared_dir))
        return generate_latest(registry)

    def close(self) -> None:
        """A worker stops: its `livesum` gauge leaves the server's totals."""
        if self.shared_dir is not None:
            from prometheus_client.multiprocess import mark_process_dead

            mark_process_dead(os.getpid(), str(self.shared_dir))


def _use_multiprocess_files(shared_dir: Path) -> None:
    """Make prometheus_client keep this process's values in files in shared_dir.

    prometheus_client picks its value class once, when imported, from PROMETHEUS_MULTIPROC_DIR;
    run_server sets that before it starts the workers, and this sets it again for a process
    that imported prometheus_client earlier."""
    from prometheus_client import values

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(shared_dir)
    if values.ValueClass is values.MutexValue:
        values.ValueClass = values.get_value_class()


def disable_created_metrics() -> None:
    """Leave out the `_created` series prometheus_client adds to counters and histograms (a
    process-wide switch: prometheus_client has no per-registry option)."""
    import prometheus_client

    prometheus_client.disable_created_metrics()


def _json_values(s: Any) -> list[Any]:
    """A column as plain Python values for JSON, a missing value (NaN) as null."""
    values = s.tolist()
    if s.dtype.kind == "f" and s.isna().any():
        return [None if v != v else v for v in values]
    if s.dtype == object:
        return [_jsonable(v) for v in values]
    return values


def _jsonable(v: Any) -> Any:
    item = getattr(v, "item", None)
    v = item() if callable(item) else v
    if isinstance(v, float) and v != v:
        return None
    return v


def create_app(
    handle: ModelHandle,
    *,
    log_dir: Path | None = None,
    max_body_bytes: int = 10 << 20,
    allowed_hosts: list[str] | None = None,
    flush_rows: int = 10_000,
    flush_seconds: float = 60.0,
    max_queued_rows: int = 100_000,
    metrics_dir: Path | None = None,
) -> Any:
    """The FastAPI application. allowed_hosts None accepts any Host header.

    With log_dir, served rows go to a PredictionLogWriter (at most max_queued_rows waiting),
    started with the application and closed, after writing every queued row, at shutdown.
    With metrics_dir, /metrics sums the values of every process serving with that directory."""
    from contextlib import asynccontextmanager

    from fastapi import FastAPI

    metrics = Metrics(handle, metrics_dir)
    log = None
    if log_dir is not None:
        log = PredictionLogWriter(
            log_dir,
            handle,
            flush_rows=flush_rows,
            flush_seconds=flush_seconds,
            max_queued_rows=max_queued_rows,
        )
        metrics.watch_log(log)

    @asynccontextmanager
    async def lifespan(app: Any) -> Any:
        # the model and libraries are loaded: keep their objects out of every later garbage
        # collection pass (a full pass over them costs a request milliseconds)
        gc.freeze()
        if log is not None:
            log.start()
        try:
            yield
        finally:
            if log is not None:
                log.close()
            metrics.close()

    app = FastAPI(
        title=f"mlops: {handle.label}",
        version=str(handle.version),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.metrics = metrics
    app.state.prediction_log = log
    app.add_middleware(_Guard, metrics=metrics, allowed_hosts=allowed_hosts)
    _add_info_routes(app, handle, metrics)
    _add_predict_route(app, handle, log, max_body_bytes)
    _add_invocations_route(app, handle, log, max_body_bytes)
    _add_error_handlers(app)
    return app


class _Guard:
    """The ASGI middleware: counts every request in metrics; refuses a Host header not allowed;
    answers an unexpected failure as a 500 in the error shape.

    Written against ASGI directly: Starlette's `@app.middleware("http")` runs each request
    through extra tasks and streams, which cost a single-row request a good part of its CPU."""

    def __init__(self, app: Any, metrics: Metrics, allowed_hosts: list[str] | None) -> None:
        self.app = app
        self.metrics = metrics
        self.allowed = {h.lower() for h in allowed_hosts} if allowed_hosts is not None else None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        path, method = scope["path"], scope["method"]
        known = path if path in KNOWN_PATHS else "other"
        answer: dict[str, int] = {"status": 0, "rows": 0}
        if self.allowed is not None:
            host = _header(scope, b"host").lower()
            hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if hostname not in self.allowed:
                await _error(400, f"Host {host!r} is not allowed")(scope, receive, send)
                self.metrics.observe(known, method, 400, time.perf_counter() - start)
                return

        async def counted_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                for key, value in message.get("headers", ()):
                    if key == b"x-mlops-rows":
                        answer["rows"] = int(value)
            await send(message)

        try:
            await self.app(scope, receive, counted_send)
        except Exception:  # noqa: BLE001 - any failure is answered, and counted, as a 500
            logger.exception("unhandled error in %s %s", method, path)
            if not answer["status"]:
                await _error(500, "internal server error")(scope, receive, send)
            answer["status"] = 500
        elapsed = time.perf_counter() - start
        self.metrics.observe(known, method, answer["status"], elapsed, answer["rows"])


def _header(scope: Any, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def _add_info_routes(app: Any, handle: ModelHandle, metrics: Metrics) -> None:
    """GET /health, /metadata and /metrics."""
    from fastapi.responses import Response

    description = handle.describe()

    @app.get("/health")
    async def health() -> Any:
        # pid: which worker process answered (with --workers N)
        return {
            "status": "ok",
            "model_id": handle.model_id,
            "model": handle.label,
            "pid": os.getpid(),
        }

    @app.get("/metadata")
    async def metadata() -> Any:
        return description

    @app.get("/metrics")
    async def prom() -> Any:
        # generate_latest writes format 0.0.4 (newer prometheus_client's CONTENT_TYPE_LATEST
        # names 1.0.0, a format it does not write there)
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")


def _add_predict_route(
    app: Any, handle: ModelHandle, log: PredictionLogWriter | None, max_body_bytes: int
) -> None:
    """POST /predict: a JSON body in, predictions (and probabilities) out."""
    from fastapi import Request
    from fastapi.concurrency import run_in_threadpool
    from fastapi.responses import JSONResponse

    # scoring runs on a worker thread, small requests too: scored on the event loop's thread,
    # a single row took several times longer under load from other processes (measured with
    # benchmarks/bench_serve.py's client), though it used about the same CPU
    @app.post("/predict")
    async def predict(request: Request) -> Any:
        try:
            ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
            if ctype != "application/json":
                raise RequestError(415, "send the body as application/json")
            raw = await _read_body(request, max_body_bytes)
            result, rows = await run_in_threadpool(_score, handle, log, raw)
        except RequestError as e:
            return _error(e.status, e.message, e.field)
        return JSONResponse(result, headers={"x-mlops-rows": str(rows)})


def _add_invocations_route(
    app: Any, handle: ModelHandle, log: PredictionLogWriter | None, max_body_bytes: int
) -> None:
    """MLflow's scoring protocol: POST /invocations (mlflow_protocol.py), GET /ping."""
    from fastapi import Request
    from fastapi.concurrency import run_in_threadpool
    from fastapi.responses import JSONResponse, Response

    @app.get("/ping")
    async def ping() -> Any:
        return Response("\n", media_type="application/json")

    @app.post("/invocations")
    async def invocations(request: Request) -> Any:
        try:
            ctype = request.headers.get("content-type")
            media_type(ctype)  # a 415 before the body is read
            raw = await _read_body(request, max_body_bytes)
            result, rows = await run_in_threadpool(_invoke, handle, log, raw, ctype)
        except RequestError as e:
            return _error(e.status, e.message, e.field, mlflow=True)
        return JSONResponse(result, headers={"x-mlops-rows": str(rows)})


def _error(status: int, message: str, field: str | None = None, mlflow: bool = False) -> Any:
    """The error answer: {"error", "field"}; with MLflow's `error_code` and `message` too on
    its routes."""
    from fastapi.responses import JSONResponse

    body: dict[str, Any] = {"error": message}
    if field is not None:
        body["field"] = field
    if mlflow:
        body["error_code"] = "BAD_REQUEST" if status < 500 else "INTERNAL_ERROR"
        body["message"] = message
    return JSONResponse(body, status_code=status)


def _add_error_handlers(app: Any) -> None:
    """Unknown routes and methods answer the error shape, not FastAPI's {"detail": ...}."""

    async def not_found(request: Any, exc: Exception) -> Any:
        return _error(404, f"no route {request.url.path}; the routes are {ROUTES_TEXT}")

    async def not_allowed(request: Any, exc: Exception) -> Any:
        method, path = request.method, request.url.path
        return _error(405, f"{method} is not allowed on {path}; the routes are {ROUTES_TEXT}")

    app.add_exception_handler(404, not_found)
    app.add_exception_handler(405, not_allowed)


async def _read_body(request: Any, max_body_bytes: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > max_body_bytes:
                raise RequestError(413, f"the body is larger than {max_body_bytes} bytes")
        except ValueError:
            raise RequestError(400, "bad Content-Length") from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_body_bytes:
            raise RequestError(413, f"the body is larger than {max_body_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _score(
    handle: ModelHandle, log: PredictionLogWriter | None, raw: bytes
) -> tuple[dict[str, Any], int]:
    """The response to a /predict body and its number of rows; logs the predictions."""
    body = parse_body(raw)
    scores = _score_frame(handle, log, frame_from_body(body, handle.signature.names))
    result: dict[str, Any] = {
        "model_id": handle.model_id,
        "model": handle.label,
        "predictions": _json_values(scores["prediction"]),
    }
    proba_cols = [c for c in scores.columns if c.startswith("proba_")]
    if proba_cols:
        names = [c.removeprefix("proba_") for c in proba_cols]
        columns = [_json_values(scores[c]) for c in proba_cols]
        result["probabilities"] = [
            dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)
        ]
    return result, len(scores)


def _invoke(
    handle: ModelHandle, log: PredictionLogWriter | None, raw: bytes, content_type: str | None
) -> tuple[dict[str, Any], int]:
    """MLflow's answer to an /invocations body, and its number of rows; logs the predictions."""
    sig = handle.signature
    text = [c.name for c in sig.columns if c.dtype in ("string", "category")]
    body = invocation_body(raw, content_type, sig.names, text)
    scores = _score_frame(handle, log, frame_from_body(body, sig.names))
    return {"predictions": _json_values(scores["prediction"])}, len(scores)


def _score_frame(handle: ModelHandle, log: PredictionLogWriter | None, frame: Any) -> Any:
    """The model's scores of a request's rows (ModelHandle.score), queued for the log."""
    try:
        X = handle.signature.coerce(frame, 0, "the request")
    except SchemaMismatch as e:
        raise RequestError(422, e.message, field=e.field) from None
    _refuse_infinities(X)
    scores = handle.score(X)
    if log is not None and len(X):
        id_col = handle.signature.id_column
        ids = frame[id_col] if id_col and id_col in frame.columns else None
        log.submit(X, scores, ids, id_col if ids is not None else None)
    return scores


def _refuse_infinities(X: Any) -> None:
    """A 422 for text that reads as an infinite number ("Infinity" in a numeric column): a
    model never sees infinities, and a request cannot send them as numbers either."""
    import numpy as np

    for name in X.columns:
        values = X[name].to_numpy()
        if values.dtype.kind == "f" and np.isinf(values).any():
            raise RequestError(
                422, f"column {name!r}: an infinite number is not a valid value", field=name
            )


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, bound before the server starts so that a port in use is
    an input error (exit 2) reported before anything claims to be serving.

    Raises:
        InputError: the port is in use, not permitted, or the host is not an address here.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise InputError(
            f"cannot bind to {host!r}: {e.strerror}",
            hint="pass --host with an address of this machine",
        ) from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise InputError(
                f"port {port} on {host} is already in use",
                hint=f"stop the process listening there (e.g. `ss -ltnp 'sport = :{port}'`) "
                "or pass --port with a free port",
            ) from None
        if e.errno == errno.EACCES:
            raise InputError(
                f"no permission to listen on port {port}",
                hint="ports below 1024 need privileges: pass --port 8080 or higher",
            ) from None
        raise InputError(
            f"cannot listen on {host}:{port}: {e.strerror}", hint="check --host and --port"
        ) from None
    return sock


class ServedApp:
    """The ASGI application of `run_server`, picklable so that uvicorn can hand it to worker
    processes: each process builds its own FastAPI app (metrics, log writer) on first use."""

    def __init__(self, handle: ModelHandle, options: dict[str, Any]) -> None:
        self.handle = handle
        self.options = options
        self._app: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"handle": self.handle, "options": self.options, "_app": None}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._app is None:
            self._app = create_app(self.handle, **self.options)
        await self._app(scope, receive, send)


def run_server(
    handle: ModelHandle,
    sock: socket.socket,
    *,
    log_dir: Path | None,
    max_body_bytes: int,
    flush_rows: int,
    flush_seconds: float,
    max_queued_rows: int = 100_000,
    workers: int = 1,
) -> None:
    """Serve the model on a socket from `bind` until interrupted (SIGINT or SIGTERM: requests
    in flight are answered and queued log rows written before the process exits).

    Args:
        handle: the model.
        sock: the listening socket.
        log_dir: the prediction log directory, or None not to log.
        max_body_bytes: the largest request body accepted.
        flush_rows: rows per prediction log file.
        flush_seconds: the longest a logged row waits for its file.
        max_queued_rows: rows waiting for the log writer beyond which a request's rows are
            dropped (and counted in /metrics).
        workers: processes serving the socket; each has its own model copy and log writer,
            and /metrics shows the sums over all of them.
    """
    import uvicorn

    host = sock.getsockname()[0]
    options = {
        "log_dir": log_dir,
        "max_body_bytes": max_body_bytes,
        "allowed_hosts": list(LOOPBACK_HOSTS) if is_loopback(host) else None,
        "flush_rows": flush_rows,
        "flush_seconds": flush_seconds,
        "max_queued_rows": max_queued_rows,
    }
    if workers == 1:
        config = uvicorn.Config(
            ServedApp(handle, options), log_level="warning", server_header=False
        )
        uvicorn.Server(config).run(sockets=[sock])
    else:
        _run_workers(handle, options, sock, workers)


def _run_workers(
    handle: ModelHandle, options: dict[str, Any], sock: socket.socket, workers: int
) -> None:
    """uvicorn's worker processes on sock, their metrics in a directory of this server's own
    (named before the workers start, so that each imports prometheus_client in multiprocess
    mode), removed when the server stops."""
    import shutil
    import tempfile

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    shared = Path(tempfile.mkdtemp(prefix="mlops-serve-metrics-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(shared)
    app = ServedApp(handle, {**options, "metrics_dir": shared})
    config = uvicorn.Config(app, log_level="warning", server_header=False, workers=workers)
    try:
        Multiprocess(config, sockets=[sock]).run()
    finally:
        shutil.rmtree(shared, ignore_errors=True)
