"""Posting alerts to a webhook (Slack-compatible JSON) with a timeout and retries.

The payload is `{"text": summary, "blocks": [...], "mlops": {...}}`: Slack and Mattermost show
`text`/`blocks`; other receivers can read the `mlops` object (model, alerts, report id). A post
that fails after every retry is returned as an outcome with `ok: false`; it never raises, so the
report is never lost because a chat service is down.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from mlops import __version__
from mlops.jsonable import fields_dict


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
        return {**fields_dict(self), "url": redact(self.url)}


def redact(url: str) -> str:
    """Webhook URLs carry their secret in the path: keep scheme and host only."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/..." if parts.path not in ("", "/") else url


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
    """POST body as JSON; retry on connection errors, timeouts, 429 and 5xx (not other 4xx)."""
    if not url.lower().startswith(("http://", "https://")):
        return NotifyOutcome(
            url, False, 0, error="the webhook URL must start with http:// or https://"
        )
    data = json.dumps(body, default=str, allow_nan=False).encode()
    errors: list[str] = []
    status: int | None = None
    attempts = 0
    for attempt in range(retries + 1):
        attempts = attempt + 1
        request = urllib.request.Request(
            url,
            data=data,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": f"mlops/{__version__}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
                status = response.status
                response.read(65536)
            return NotifyOutcome(url, True, attempts, status, errors=errors)
        except urllib.error.HTTPError as e:
            status = e.code
            errors.append(f"HTTP {e.code} {e.reason}")
            if e.code < 500 and e.code != 429:
                break
        except (TimeoutError, urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            text = (
                "timed out"
                if isinstance(reason, TimeoutError) or "timed out" in str(reason)
                else str(reason)
            )
            errors.append(f"{text} after {timeout_s:g}s" if text == "timed out" else text)
        if attempt < retries:
            time.sleep(backoff_s * (2**attempt))
    return NotifyOutcome(
        url, False, attempts, status, error=errors[-1] if errors else None, errors=errors
    )
