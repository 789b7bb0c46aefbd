"""Named remotes: those `mlops remote add` records in the store (<store>/remotes.json, as git
keeps remotes in .git/config) and those in mlops.yaml's `remote:` section.

A name in the store's file wins over the same name in mlops.yaml. The default remote is the
store file's default, else mlops.yaml's, else the only remote there is. The file holds names,
URLs and endpoints only: never credentials (URLs with user:password are refused).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops.atomic import atomic_write_bytes
from mlops.errors import ConfigError, NotFoundError, UsageError
from mlops.jsonable import fields_dict
from mlops.remote.urls import check_url, redact

FILE_NAME = "remotes.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Remote:
    name: str
    url: str
    endpoint_url: str | None = None
    source: str = "store"  # "store" (remote add) or "mlops.yaml"

    @property
    def options(self) -> dict[str, Any]:
        return {"endpoint_url": self.endpoint_url} if self.endpoint_url else {}

    def to_dict(self, default: bool = False) -> dict[str, Any]:
        return {**fields_dict(self), "url": redact(self.url), "default": default}


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise UsageError(
            f"{name!r} is not a valid remote name",
            hint="letters, digits, '.', '_' and '-', starting with a letter or digit",
        )
    return name


def check_no_credentials(url: str) -> None:
    if "://" in url and "@" in url.split("://", 1)[1].split("/", 1)[0]:
        raise UsageError(
            f"the remote URL {redact(url)} holds credentials",
            hint="drop user:password from the URL; the backend reads them from its "
            "environment (e.g. AWS_ACCESS_KEY_ID, AWS_PROFILE)",
        )


def _read(store_root: Path) -> dict[str, Any]:
    path = store_root / FILE_NAME
    if not path.exists():
        return {"default": None, "remotes": {}}
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict) or not isinstance(data.get("remotes"), dict):
            raise ValueError("not a remotes file")
        return data
    except (ValueError, UnicodeDecodeError) as e:
        raise ConfigError(
            f"{path}: cannot be read ({e})", hint="fix or delete it and add the remotes again"
        ) from None


def _write(store_root: Path, data: dict[str, Any]) -> None:
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    atomic_write_bytes(store_root / FILE_NAME, text.encode())


def add(
    store_root: Path,
    name: str,
    url: str,
    endpoint_url: str | None = None,
    default: bool = False,
) -> Remote:
    check_name(name)
    check_no_credentials(url)
    url = check_url(url)
    data = _read(store_root)
    if name in data["remotes"]:
        raise UsageError(
            f"a remote named {name!r} exists already",
            hint=f"remove it first with `mlops remote remove {name}`",
        )
    entry = {"url": url, **({"endpoint_url": endpoint_url} if endpoint_url else {})}
    data["remotes"][name] = entry
    if default or not data.get("default"):
        data["default"] = name
    _write(store_root, data)
    return Remote(name, url, endpoint_url)


def remove(store_root: Path, name: str) -> None:
    data = _read(store_root)
    if name not in data["remotes"]:
        raise NotFoundError(
            f"no remote named {name!r} in the store",
            hint="list remotes with `mlops remote ls` (remotes in mlops.yaml are edited there)",
        )
    del data["remotes"][name]
    if data.get("default") == name:
        data["default"] = None
    _write(store_root, data)


def all_remotes(
    store_root: Path, config_section: Any = None
) -> tuple[dict[str, Remote], str | None]:
    """Every remote by name and the default one's name (None when there is no default)."""
    found: dict[str, Remote] = {}
    default = None
    if config_section is not None:
        for name, spec in config_section.remotes.items():
            found[name] = Remote(name, spec.url, spec.endpoint_url, "mlops.yaml")
        default = config_section.default
    data = _read(store_root)
    for name, entry in data["remotes"].items():
        found[name] = Remote(name, entry["url"], entry.get("endpoint_url"), "store")
    default = data.get("default") or default
    if default is None and len(found) == 1:
        default = next(iter(found))
    return found, default


def pick(store_root: Path, name: str | None, config_section: Any = None) -> Remote:
    """The remote --remote names, or the default one."""
    found, default = all_remotes(store_root, config_section)
    chosen = name or default
    if chosen is None:
        raise UsageError(
            "no remote given and no default remote"
            + (f" among {', '.join(sorted(found))}" if found else ""),
            hint="pass --remote NAME, or add one with `mlops remote add NAME URL --default`",
        )
    if chosen not in found:
        raise NotFoundError(
            f"no remote named {chosen!r}", hint="list remotes with `mlops remote ls`"
        )
    return found[chosen]
