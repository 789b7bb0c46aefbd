"""Posting alerts to a webhook (Slack-compatible JSON) with a deadline and retries.

The payload is `{"text": summary, "blocks": [...], "mlops": {...}}`: Slack and Mattermost show
`text`/`blocks`; other receivers can read the `mlops` object (model, alerts, report id). A post
that fails after every retry is returned as an outcome with `ok: false`; it never raises, so
monitoring never fails because a chat service is down (and the report is stored before the post).

Posts go through urllib, so the usual proxy variables (HTTPS_PROXY, NO_PROXY, ...) and redirects
work as for any Python HTTP client. Each attempt has a total deadline (`timeout_s`) covering
connect, TLS, sending and reading the whole response: it runs in a worker thread, and when the
deadline passes the sockets it opened are shut down, so a server dripping bytes cannot hold the
caller. The response is read bounded (http.client allows at most 100 header lines of 64 KiB;
the body is read up to 64 KiB). A URL is only ever shown or stored through `redact_url`.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from mlops import __version__
from mlops.jsonable import fields_dict

MAX_RESPONSE_BYTES = 64 << 10


@dataclass
class NotifyOutcome:
    url: str
    ok: bool
    attempts: int
    status: int | None = None
    error: str | None = None
    posted_alerts: int = 0
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = fields_dict(self)
        d["url"] = redact_url(self.url)
        d["error"] = scrub(self.error, self.url) if self.error is not None else None
        d["errors"] = [scrub(e, self.url) for e in self.errors]
        return d


def redact_url(url: str) -> str:
    """A webhook URL as it may be shown or stored: scheme, host and port kept; user and password
    replaced by `***`, the path by `/...` (Slack-style URLs carry their secret there), every
    query value by `***` (names kept; an item without `=` replaced whole), the fragment
    dropped."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<unparseable URL>"
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        netloc = f"***@{netloc}"
    path = "/..." if parts.path not in ("", "/") else parts.path
    query = ""
    if parts.query:
        items = parts.query.split("&")
        query = "&".join(f"{i.partition('=')[0]}=***" if "=" in i else "***" for i in items)
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def _secrets(url: str) -> list[str]:
    """The parts of url that redact_url hides, longest first (for scrubbing messages)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    found = [url, parts.netloc.rpartition("@")[0], parts.path if parts.path != "/" else ""]
    found += [parts.query, parts.fragment, parts.username or "", parts.password or ""]
    for item in parts.query.split("&"):
        name, eq, value = item.partition("=")
        found += [value, quote(unquote(value), safe="")] if eq else [name]
    found += [unquote(s) for s in found]
    return sorted({s for s in found if len(s) >= 3}, key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """text with url and every secret part of it replaced (the URL by its redacted form)."""
    text = text.replace(url, redact_url(url))
    for secret in _secrets(url):
        if secret != url:
            text = text.replace(secret, "***")
    return text


class _Attempt:
    """One POST through urllib, run in a worker thread so that the caller can give up on it at a
    deadline: the HTTP(S) connections it opens (to the server, a proxy or a redirect target)
    are recorded so that abort() can shut their sockets down."""

    def __init__(self, url: str, data: bytes, headers: dict[str, str], timeout_s: float) -> None:
        self.request = _request(url, data, headers)
        self.timeout_s = timeout_s
        self.conns: list[http.client.HTTPConnection] = []
        self.status: int | None = None
        self.reason = ""
        self.error: BaseException | None = None

    def run(self) -> None:
        opener = urllib.request.build_opener(_Http(self.conns), _Https(self.conns))
        try:
            with opener.open(self.request, timeout=self.timeout_s) as response:
                self.status, self.reason = response.status, response.reason
                response.read(MAX_RESPONSE_BYTES)
        except urllib.error.HTTPError as e:
            self.status, self.reason = e.code, str(e.reason)
            e.close()
        except BaseException as e:  # noqa: BLE001 - handed to the caller's thread
            self.error = e

    def abort(self) -> None:
        for conn in list(self.conns):
            if conn.sock is not None:
                with contextlib.suppress(OSError):
                    conn.sock.shutdown(socket.SHUT_RDWR)


def _request(url: str, data: bytes, headers: dict[str, str]) -> urllib.request.Request:
    """urllib does not take `user:password@` from a URL: send it as Basic authentication."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise ValueError("the webhook URL has no host")
    headers = dict(headers)
    if parts.username is not None:
        user = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(user.encode()).decode()
        netloc = parts.netloc.rpartition("@")[2]
        url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    return urllib.request.Request(url, data=data, method="POST", headers=headers)


class _Http(urllib.request.HTTPHandler):
    def __init__(self, conns: list[http.client.HTTPConnection]) -> None:
        super().__init__()
        self.conns = conns

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        def connect(host: str, **kw: Any) -> http.client.HTTPConnection:
            conn = http.client.HTTPConnection(host, **kw)
            self.conns.append(conn)
            return conn

        return self.do_open(connect, req)  # type: ignore[arg-type]


class _Https(urllib.request.HTTPSHandler):
    def __init__(self, conns: list[http.client.HTTPConnection]) -> None:
        super().__init__()
        self.conns = conns

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        def connect(host: str, **kw: Any) -> http.client.HTTPSConnection:
            conn = http.client.HTTPSConnection(host, **kw)
            self.conns.append(conn)
            return conn

        return self.do_open(connect, req, context=self._context)  # type: ignore[arg-type,attr-defined]


def _attempt(
    url: str, data: bytes, headers: dict[str, str], timeout_s: float
) -> tuple[int | None, str, str | None]:
    """(status, reason, error) of one POST that ends within timeout_s (plus a moment)."""
    try:
        attempt = _Attempt(url, data, headers, timeout_s)
    except ValueError as e:
        return None, "", str(e)
    worker = threading.Thread(target=attempt.run, name="mlops-webhook", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        attempt.abort()
        worker.join(1.0)
        return None, "", f"timed out after {timeout_s:g}s"
    if attempt.error is None:
        return attempt.status, attempt.reason, None
    err: BaseException = attempt.error
    if isinstance(err, urllib.error.URLError) and isinstance(err.reason, BaseException):
        err = err.reason
    if isinstance(err, TimeoutError) or "timed out" in str(err):
        return None, "", f"timed out after {timeout_s:g}s"
    if isinstance(err, http.client.HTTPException):
        detail = str(err) or type(err).__name__
        return None, "", f"bad HTTP response: {detail[:200]}"
    if isinstance(err, urllib.error.URLError):
        return None, "", str(err.reason)[:300]
    if isinstance(err, (OSError, ValueError)):
        return None, "", str(getattr(err, "strerror", None) or err)[:300]
    return None, "", f"{type(err).__name__}: {err}"[:300]


def payload(summary: str, alerts: list[dict[str, Any]], extra: dict[str, Any]) -> dict[str, Any]:
    lines = [f"• [{a['severity']}] {a['message']}; {a['action']}" for a in alerts[:20]]
    if len(alerts) > 20:
        lines.append(f"… and {len(alerts) - 20} more")
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": summary}}
    ]
    if lines:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}})
    return {"text": summary, "blocks": blocks, "mlops": {**extra, "alerts": alerts}}


def post(
    url: str,
    body: dict[str, Any],
    timeout_s: float = 5.0,
    retries: int = 2,
    backoff_s: float = 0.5,
) -> NotifyOutcome:
    """POST body as JSON; each attempt ends within timeout_s; retry on connection errors,
    timeouts, malformed responses, 429 and 5xx (not other 4xx)."""
    if not url.lower().startswith(("http://", "https://")):
        return NotifyOutcome(
            url, False, 0, error="the webhook URL must start with http:// or https://"
        )
    data = json.dumps(body, default=str, allow_nan=False).encode()
    headers = {"Content-Type": "application/json", "User-Agent": f"mlops/{__version__}"}
    errors: list[str] = []
    status: int | None = None
    attempts = 0
    for attempt in range(retries + 1):
        attempts = attempt + 1
        got, reason, error = _attempt(url, data, headers, timeout_s)
        if got is not None:
            status = got
            if 200 <= got < 300:
                return NotifyOutcome(url, True, attempts, status, errors=errors)
            errors.append(f"HTTP {got} {reason}".rstrip())
            if got < 500 and got != 429:
                break
        else:
            errors.append(error or "failed")
        if attempt < retries:
            time.sleep(backoff_s * (2**attempt))
    return NotifyOutcome(
        url, False, attempts, status, error=errors[-1] if errors else None, errors=errors
    )
