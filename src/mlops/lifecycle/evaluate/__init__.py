"""`evaluate`: score a model and apply the gate (rules.py); promote on a pass. registry.py holds
the model registry: versions, promotion and rollback of aliases, their history."""

from typing import TYPE_CHECKING

from mlops.lifecycle._lazy import lazy_exports

if TYPE_CHECKING:
    from mlops.lifecycle.evaluate.registry import (
        AliasMove,
        compare_runs,
        history,
        list_models,
        model_versions,
        promote,
        rollback,
    )
    from mlops.lifecycle.evaluate.rules import RuleResult
    from mlops.lifecycle.evaluate.step import EVALUATION_KIND, EvaluationResult, evaluate

__all__ = [
    "EVALUATION_KIND",
    "AliasMove",
    "EvaluationResult",
    "RuleResult",
    "compare_runs",
    "evaluate",
    "history",
    "list_models",
    "model_versions",
    "promote",
    "rollback",
]
__getattr__ = lazy_exports(
    __name__,
    {
        "step": ("EVALUATION_KIND", "EvaluationResult", "evaluate"),
        "rules": ("RuleResult",),
        "registry": (
            "AliasMove",
            "compare_runs",
            "history",
            "list_models",
            "model_versions",
            "promote",
            "rollback",
        ),
    },
)
