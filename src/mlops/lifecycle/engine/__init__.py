"""Engines: where data-parallel work runs.

The local engine is the default: the steps read their data in chunks in this process. The Dask
engine runs the same per-chunk functions on a Dask cluster, one task per partition (file), and
merges their small results (profiles, validation tallies) in a tree on the workers. settings.py
resolves the engine from mlops.yaml, options and the environment without importing Dask;
cluster.py connects (or starts a LocalCluster); tree.py and partitions.py are the shared tools
of the per-step code (monitor/parallel.py, validate_parallel.py, deploy/predict_parallel.py).
"""

from typing import TYPE_CHECKING

from mlops.lifecycle._lazy import lazy_exports

if TYPE_CHECKING:
    from mlops.lifecycle.engine.cluster import DaskEngine, open_engine
    from mlops.lifecycle.engine.settings import EngineSpec, engine_spec

__all__ = ["DaskEngine", "EngineSpec", "engine_spec", "open_engine"]
__getattr__ = lazy_exports(
    __name__,
    {"cluster": ("DaskEngine", "open_engine"), "settings": ("EngineSpec", "engine_spec")},
)
