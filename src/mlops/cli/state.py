"""Global CLI state: output mode, and the config and store, opened on first use."""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops.errors import ConfigError

if TYPE_CHECKING:
    from mlops.config import Config
    from mlops.store import Store

FORMATS = ("table", "tsv", "csv", "json")  # --format: how listings print


@dataclass
class State:
    json: bool = False
    quiet: bool = False
    debug: bool = False
    config_path: Path | None = None
    store_path: str | None = None
    format: str | None = None
    remote_name: str | None = None  # the remote blobs come from on demand (serve --remote)
    _config: Config | None = field(default=None, repr=False)
    _config_loaded: bool = field(default=False, repr=False)
    _store: Store | None = field(default=None, repr=False)

    @property
    def command_line(self) -> str:
        return "mlops " + " ".join(shlex.quote(a) for a in sys.argv[1:])

    def table_format(self) -> str:
        """How listings print: --format if given, else a table on a terminal and TSV in a pipe."""
        if self.format in ("table", "tsv", "csv"):
            return self.format
        return "table" if sys.stdout.isatty() else "tsv"

    def config(self, required: bool = True) -> Config | None:
        from mlops.config import CONFIG_NAME, find_config, load_config

        if not self._config_loaded:
            path = self.config_path or find_config()
            if path is not None:
                if not Path(path).is_file():
                    raise ConfigError(
                        f"{path}: file not found", hint="check --config, or run `mlops init`"
                    )
                self._config = load_config(Path(path))
            self._config_loaded = True
        if self._config is None and required:
            raise ConfigError(
                f"no {CONFIG_NAME} in {Path.cwd()} or any parent directory",
                hint="run `mlops init` (or `mlops init --example churn DIR`), or pass --config PATH",
            )
        return self._config

    def require_config(self) -> Config:
        config = self.config(required=True)
        assert config is not None
        return config

    def store_location(self) -> Path:
        """Where the store is (from --store, MLOPS_STORE or mlops.yaml); loads the config first,
        so a bad config fails before anything is created."""
        if self.store_path:  # --store or MLOPS_STORE: no need to read (or import) the config
            return Path(self.store_path)
        from mlops.config import default_store_path

        return default_store_path(self.config(required=False), None)

    def store(self, create: bool = True) -> Store:
        """The store, opened on first use. Commands that only read pass create=False, so a typo
        in --store is reported instead of creating an empty store."""
        from mlops.store import Store

        if self._store is None:
            self._store = Store.open(self.store_location(), create=create)
            self._blobs_on_demand(self._store)
        return self._store

    def _blobs_on_demand(self, store: Store) -> None:
        """Reads of a fetched-but-not-pulled blob download it from the remote (--remote or the
        default); mlops.remote is imported only when that happens."""
        if not hasattr(store.objects, "on_missing"):
            return

        def bring(digest: str) -> bool:
            from mlops.remote import open_site
            from mlops.remote.on_demand import bring_blob

            config = self.config(required=False)
            section = config.model.remote if config is not None else None
            return bring_blob(
                store, digest, lambda: open_site(store.root, self.remote_name, section)
            )

        store.objects.on_missing = bring

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def state_of(ctx: Any) -> State:
    obj = ctx.find_root().obj
    if not isinstance(obj, State):
        obj = State()
        ctx.find_root().obj = obj
    return obj
