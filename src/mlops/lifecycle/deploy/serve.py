"""`mlops serve`: an HTTP JSON API around one model (FastAPI; the optional extra `serve`).

    POST /predict   {"records": [{col: value, ...}, ...]}  or  {"columns": {col: [values]}}
                    (MLflow's {"dataframe_records": ...} / {"dataframe_split": ...} also work)
    GET  /health    {"status": "ok", ...}
    GET  /metadata  model id, name, version, inputs, classes, metrics
    GET  /metrics   Prometheus text: requests, errors, rows, a latency histogram

A schema error or a non-finite number is a 422 naming the field, an oversized body a 413, a
non-JSON body a 415, invalid JSON a 400, any unexpected failure a 500 (all counted in /metrics).
When bound to a loopback address, requests must carry a loopback Host header (a guard against
DNS rebinding from a web page).
"""

import errno
import json
import logging
import math
import socket
import time
from pathlib import Path
from typing import Any

from mlops.errors import InputError, UsageError
from mlops.lifecycle.deploy.log_writer import PredictionLogWriter
from mlops.lifecycle.deploy.package import ModelHandle
from mlops.lifecycle.deploy.signature import SchemaMismatch

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
MAX_ROWS = 100_000

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

    The counters live here rather than in report/ because the middleware updates them on every
    request and lifecycle/ may not import report/; rendering is prometheus_client's
    `generate_latest`, so no text format is written by hand."""

    def __init__(self, handle: ModelHandle) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        # the `_created` series (one per counter child) were never exposed: keep them out
        disable_created_metrics()
        self.registry = CollectorRegistry(auto_describe=True)
        info = Gauge(
            "mlops_model_info",
            "The model being served.",
            ["model_id", "name", "version"],
            registry=self.registry,
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
            "mlops_predicted_rows", "Rows scored by /predict.", registry=self.registry
        )
        self.latency = Histogram(
            "mlops_predict_latency_seconds",
            "Latency of /predict requests.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def watch_log(self, writer: PredictionLogWriter) -> None:
        """Export the prediction log writer's row counts with the other metrics."""
        self.registry.register(_LogCollector(writer))

    def observe(self, path: str, method: str, status: int, seconds: float, rows: int = 0) -> None:
        self.requests.labels(path, method, str(status)).inc()
        if status >= 400:
            self.errors.labels(path, "client" if status < 500 else "server").inc()
        if path == "/predict":
            self.rows.inc(rows)
            self.latency.observe(seconds)

    def render(self) -> bytes:
        from prometheus_client import generate_latest

        return generate_latest(self.registry)


class _LogCollector:
    """The prediction log's rows written, dropped and waiting, read when /metrics is scraped."""

    def __init__(self, writer: PredictionLogWriter) -> None:
        self.writer = writer

    def collect(self) -> Any:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        w = self.writer
        yield CounterMetricFamily(
            "mlops_prediction_log_written_rows",
            "Served rows written to the prediction log.",
            value=w.written_rows,
        )
        yield CounterMetricFamily(
            "mlops_prediction_log_dropped_rows",
            "Served rows not logged: the log queue was full, or a write failed.",
            value=w.dropped_rows,
        )
        yield GaugeMetricFamily(
            "mlops_prediction_log_queued_rows",
            "Served rows waiting for the log writer.",
            value=w.queued_rows,
        )


def disable_created_metrics() -> None:
    """Leave out the `_created` series prometheus_client adds to counters and histograms (a
    process-wide switch: prometheus_client has no per-registry option)."""
    import prometheus_client

    prometheus_client.disable_created_metrics()


class RequestError(Exception):
    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


class _BadNumber:
    """What the body parser puts in place of a number a model cannot take (NaN, ±Infinity, a
    number beyond the float range); frame_from_body turns it into a 422 naming the column."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _parse_constant(text: str) -> _BadNumber:
    return _BadNumber(text)


def _parse_float(text: str) -> float | _BadNumber:
    value = float(text)
    return value if math.isfinite(value) else _BadNumber(text)


def _parse_int(text: str) -> int | float | _BadNumber:
    value = int(text)
    if -(2**63) <= value < 2**63:
        return value
    try:  # beyond int64: the float it stands for, unless it overflows that too
        return float(value)
    except OverflowError:
        return _BadNumber(text if len(text) <= 24 else f"{text[:20]}... ({len(text)} digits)")


def parse_body(raw: bytes) -> Any:
    """A request body -> JSON value. NaN, ±Infinity and numbers beyond the float range are
    parsed into markers that frame_from_body rejects (422, naming the column).

    Raises:
        RequestError: 400 for invalid or too deeply nested JSON.
    """
    try:
        return json.loads(
            raw,
            parse_constant=_parse_constant,
            parse_float=_parse_float,
            parse_int=_parse_int,
        )
    except RecursionError:
        raise RequestError(400, "the body is nested too deeply") from None
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError, int digit limit
        raise RequestError(400, f"the body is not valid JSON: {e}") from None


def _check_cells(frame: Any) -> None:
    """Every cell must be a scalar and a finite number when a number: RequestError(422) naming
    the first offending column otherwise. Only object columns can hold either."""
    for col in frame.columns:
        if frame[col].dtype != object:
            continue
        for value in frame[col]:
            if isinstance(value, _BadNumber):
                raise RequestError(
                    422,
                    f"column {col!r}: {value.text} is not a finite number in the float range",
                    field=str(col),
                )
            if isinstance(value, (list, dict)):
                raise RequestError(
                    422,
                    f"column {col!r}: a value must be a scalar, not a {type(value).__name__}",
                    field=str(col),
                )


def frame_from_body(body: Any, columns: list[str]) -> Any:
    """A JSON body -> DataFrame; raises RequestError(422) with the offending field."""
    frame = _frame(body, columns)
    if len(frame) > MAX_ROWS:
        raise RequestError(413, f"at most {MAX_ROWS} rows per request")
    if not all(isinstance(c, str) for c in frame.columns):
        raise RequestError(422, "column names must be strings")
    if frame.columns.has_duplicates:
        dup = str(frame.columns[frame.columns.duplicated()][0])
        raise RequestError(422, f"column {dup!r} appears more than once", field=dup)
    _check_cells(frame)
    return frame


def _frame(body: Any, columns: list[str]) -> Any:
    import pandas as pd

    if isinstance(body, list):
        body = {"records": body}
    if not isinstance(body, dict):
        raise RequestError(422, "the body must be a JSON object with `records` or `columns`")
    if "dataframe_records" in body:
        body = {"records": body["dataframe_records"]}
    if "dataframe_split" in body:
        return _split_frame(body["dataframe_split"])
    if "records" in body:
        records = body["records"]
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise RequestError(422, "`records` must be a list of objects", field="records")
        if len(records) > MAX_ROWS:
            raise RequestError(413, f"at most {MAX_ROWS} rows per request")
        return pd.DataFrame.from_records(records)
    if "columns" in body:
        cols = body["columns"]
        if not isinstance(cols, dict) or not all(isinstance(v, list) for v in cols.values()):
            raise RequestError(422, "`columns` must map each column to a list", field="columns")
        lengths = {len(v) for v in cols.values()}
        if len(lengths) > 1:
            raise RequestError(422, "the lists in `columns` differ in length", field="columns")
        if lengths and max(lengths) > MAX_ROWS:
            raise RequestError(413, f"at most {MAX_ROWS} rows per request")
        return pd.DataFrame(cols)
    raise RequestError(422, "the body must hold `records` or `columns`")


def _split_frame(split: Any) -> Any:
    """MLflow's {"columns": [...], "data": [[...], ...]}; both keys are required."""
    import pandas as pd

    field = "dataframe_split"
    if not isinstance(split, dict) or "columns" not in split or "data" not in split:
        raise RequestError(422, "`dataframe_split` must hold `columns` and `data`", field=field)
    cols, data = split["columns"], split["data"]
    if not isinstance(cols, list) or not all(isinstance(c, str) for c in cols):
        raise RequestError(
            422, "`dataframe_split.columns` must be a list of names", field=f"{field}.columns"
        )
    if not isinstance(data, list) or not all(isinstance(r, list) for r in data):
        raise RequestError(
            422, "`dataframe_split.data` must be a list of rows (lists)", field=f"{field}.data"
        )
    if len(data) > MAX_ROWS:
        raise RequestError(413, f"at most {MAX_ROWS} rows per request")
    for i, row in enumerate(data):
        if len(row) != len(cols):
            raise RequestError(
                422,
                f"row {i} of `dataframe_split.data` has {len(row)} values for {len(cols)} columns",
                field=f"{field}.data",
            )
    return pd.DataFrame(data, columns=cols)


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
    flush_rows: int = 1000,
    flush_seconds: float = 60.0,
    max_queued_rows: int = 100_000,
) -> Any:
    """The FastAPI application. allowed_hosts None accepts any Host header.

    With log_dir, served rows go to a PredictionLogWriter (at most max_queued_rows waiting),
    started with the application and closed, after writing every queued row, at shutdown."""
    from contextlib import asynccontextmanager

    from fastapi import FastAPI

    metrics = Metrics(handle)
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
        if log is not None:
            log.start()
        try:
            yield
        finally:
            if log is not None:
                log.close()

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
    app.middleware("http")(_guard(metrics, allowed_hosts))
    _add_info_routes(app, handle, metrics)
    _add_predict_route(app, handle, log, max_body_bytes)
    return app


def _guard(metrics: Metrics, allowed_hosts: list[str] | None) -> Any:
    """The middleware: counts every request in metrics; refuses a Host header not allowed."""
    from fastapi import Request
    from fastapi.responses import JSONResponse

    allowed = {h.lower() for h in allowed_hosts} if allowed_hosts is not None else None

    async def guard(request: Request, call_next: Any) -> Any:
        start = time.perf_counter()
        path = request.url.path
        known = path if path in ("/predict", "/health", "/metadata", "/metrics") else "other"
        if allowed is not None:
            host = (request.headers.get("host") or "").lower()
            hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if hostname not in allowed:
                metrics.observe(known, request.method, 400, time.perf_counter() - start)
                return JSONResponse({"error": f"Host {host!r} is not allowed"}, status_code=400)
        try:
            response = await call_next(request)
        except Exception:  # noqa: BLE001 - any failure is answered, and counted, as a 500
            logger.exception("unhandled error in %s %s", request.method, path)
            metrics.observe(known, request.method, 500, time.perf_counter() - start)
            return _error(500, "internal server error")
        rows = int(response.headers.get("x-mlops-rows", "0"))
        metrics.observe(
            known, request.method, response.status_code, time.perf_counter() - start, rows
        )
        return response

    return guard


def _add_info_routes(app: Any, handle: ModelHandle, metrics: Metrics) -> None:
    """GET /health, /metadata and /metrics."""
    from fastapi.responses import Response

    description = handle.describe()

    @app.get("/health")
    async def health() -> Any:
        return {"status": "ok", "model_id": handle.model_id, "model": handle.label}

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

    @app.post("/predict")
    async def predict(request: Request) -> Any:
        try:
            ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
            if ctype != "application/json":
                raise RequestError(415, "send the body as application/json")
            raw = await _read_body(request, max_body_bytes)
            body = parse_body(raw)
            result, rows = await run_in_threadpool(_score, handle, log, body)
        except RequestError as e:
            return _error(e.status, e.message, e.field)
        return JSONResponse(result, headers={"x-mlops-rows": str(rows)})


def _error(status: int, message: str, field: str | None = None) -> Any:
    from fastapi.responses import JSONResponse

    body: dict[str, Any] = {"error": message}
    if field is not None:
        body["field"] = field
    return JSONResponse(body, status_code=status)


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
    handle: ModelHandle, log: PredictionLogWriter | None, body: Any
) -> tuple[dict[str, Any], int]:
    """The response to a /predict body and its number of rows; logs the predictions."""
    frame = frame_from_body(body, handle.signature.names)
    try:
        X = handle.signature.coerce(frame, 0, "the request")
    except SchemaMismatch as e:
        raise RequestError(422, e.message, field=e.field) from None
    scores = handle.score(X)
    result: dict[str, Any] = {
        "model_id": handle.model_id,
        "model": handle.label,
        "predictions": [_jsonable(v) for v in scores["prediction"].tolist()],
    }
    proba_cols = [c for c in scores.columns if c.startswith("proba_")]
    if proba_cols:
        result["probabilities"] = [
            {c.removeprefix("proba_"): _jsonable(row[c]) for c in proba_cols}
            for row in scores[proba_cols].to_dict("records")
        ]
    if log is not None and len(X):
        id_col = handle.signature.id_column
        ids = frame[id_col] if id_col and id_col in frame.columns else None
        log.submit(X, scores, ids, id_col if ids is not None else None)
    return result, len(X)


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
        workers: processes serving the socket; each has its own model copy, log writer and
            metrics.
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
    app = ServedApp(handle, options)
    config = uvicorn.Config(app, log_level="warning", server_header=False, workers=workers)
    if workers > 1:
        from uvicorn.supervisors import Multiprocess

        Multiprocess(config, sockets=[sock]).run()
    else:
        uvicorn.Server(config).run(sockets=[sock])
