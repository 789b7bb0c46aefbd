"""When and by whom: the timestamps and user names recorded on artifacts, runs and alias moves."""

from __future__ import annotations

import getpass
import os
from datetime import UTC, datetime


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def current_user() -> str:
    user = os.environ.get("MLOPS_USER")
    if user:
        return user
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"
