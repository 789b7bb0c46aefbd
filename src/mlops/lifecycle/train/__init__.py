"""`train`: fit the pipeline declared in mlops.yaml, score the holdout, store a `model` artifact.

step.py runs it; the parts are data.py (reading data.train), columns.py (features, target, task,
metrics), pipeline.py (estimator and preprocessing), split.py (holdout and CV), importance.py,
artifact.py (the stored files) and model_card.py.
"""

from typing import TYPE_CHECKING

from mlops.lifecycle._lazy import lazy_exports

if TYPE_CHECKING:
    from mlops.lifecycle.train.step import TrainResult, package_versions, train

__all__ = ["TrainResult", "package_versions", "train"]
__getattr__ = lazy_exports(__name__, {"step": ("TrainResult", "package_versions", "train")})
