"""Content-addressed objects plus a SQLite catalog of artifacts, lineage, runs and aliases."""

from mlops.store.artifact import Artifact, FileEntry
from mlops.store.backend import ObjectStore
from mlops.store.objects import LocalObjectStore
from mlops.store.store import Store

__all__ = ["Artifact", "FileEntry", "LocalObjectStore", "ObjectStore", "Store"]
