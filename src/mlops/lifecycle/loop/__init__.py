"""The closed loop: `run` (pipeline.py: the declared stages, cached), `retrain` (retraining.py:
monitor, decide, train a candidate, gate it, promote or keep) and `demo` (demo.py)."""

from typing import TYPE_CHECKING

from mlops.lifecycle._lazy import lazy_exports

if TYPE_CHECKING:
    from mlops.lifecycle.loop.demo import DemoResult, run_demo
    from mlops.lifecycle.loop.pipeline import PipelineResult, run_pipeline, select_stages
    from mlops.lifecycle.loop.retraining import (
        NO_RETRAIN,
        PROMOTED,
        RetrainLocked,
        RetrainResult,
        champion_alias,
        retrain,
    )

__all__ = [
    "NO_RETRAIN",
    "PROMOTED",
    "DemoResult",
    "PipelineResult",
    "RetrainLocked",
    "RetrainResult",
    "champion_alias",
    "retrain",
    "run_demo",
    "run_pipeline",
    "select_stages",
]
__getattr__ = lazy_exports(
    __name__,
    {
        "demo": ("DemoResult", "run_demo"),
        "pipeline": ("PipelineResult", "run_pipeline", "select_stages"),
        "retraining": (
            "NO_RETRAIN",
            "PROMOTED",
            "RetrainLocked",
            "RetrainResult",
            "champion_alias",
            "retrain",
        ),
    },
)
