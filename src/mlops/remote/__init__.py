"""Remotes: one store shared by laptops, CI runners, cron hosts and servers through object
storage (docs/remote.md). The library API the `mlops remote/push/fetch/pull` commands call:

    site = open_site(store.root, "origin", config)
    push(store, site, refs)  /  fetch(store, site)  /  pull(store, site, refs, with_lineage)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlops.remote.fetch import FetchResult, fetch, pull
from mlops.remote.push import PushResult, push
from mlops.remote.remotes import Remote, pick
from mlops.remote.site import Site


def open_site(store_root: Path, name: str | None, config_section: Any = None) -> Site:
    """The remote --remote names (or the default one), opened."""
    return Site(pick(store_root, name, config_section))


__all__ = ["FetchResult", "PushResult", "Remote", "Site", "fetch", "open_site", "pull", "push"]
