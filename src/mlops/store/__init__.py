"""Content-addressed objects plus a SQLite catalog of artifacts, lineage, runs and aliases."""

from mlops.store.artifact import Artifact, FileEntry
from mlops.store.store import Store

__all__ = ["Artifact", "FileEntry", "Store"]
