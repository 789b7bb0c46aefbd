"""The `evaluate:` section of mlops.yaml: the gate a model must pass before promotion.

Four kinds of rule, told apart by their keys:

    gate:
      - roc_auc >= 0.85                    # absolute (shorthand for metric/min)
      - {metric: log_loss, max: 0.4}       # absolute
      - {metric: roc_auc, against: production, max_drop: 0.01}    # relative to a champion
      - {metric: roc_auc, slice: contract, min: 0.7, max_gap: 0.1}  # per slice
      - {latency_p95_ms: 50}               # p95 of single-row predict
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from mlops.config.base import Section

_SHORTHAND = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=)\s*(-?[0-9.eE+-]+)\s*$")


class GateRule(Section):
    name: str | None = Field(None, description="a label for reports (default: derived)")
    metric: str | None = Field(None, description="metric name (as in train.metrics)")
    min: float | None = Field(None, description="the value (or every slice's value) must be >= min")
    max: float | None = Field(None, description="the value (or every slice's value) must be <= max")
    against: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="alias of the champion to compare with (e.g. production)",
    )
    max_drop: float | None = Field(
        None,
        description="relative rule: the metric may get worse than the champion's by at most this "
        "(negative: it must improve by at least -max_drop)",
    )
    slice: str | None = Field(None, description="column whose values define slices")
    max_gap: float | None = Field(
        None, ge=0, description="slice rule: largest allowed gap between the best and worst slice"
    )
    min_rows: int = Field(30, ge=1, description="slice rule: slices with fewer rows are skipped")
    latency_p95_ms: float | None = Field(
        None,
        gt=0,
        description="p95 of single-row predict, in CPU milliseconds of one thread, must be under this",
    )
    latency_calls: int = Field(100, ge=10, le=100_000, description="single-row predict calls timed")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v: object) -> object:
        if isinstance(v, str):
            m = _SHORTHAND.match(v)
            if not m:
                raise ValueError(
                    f"cannot read rule {v!r}; write 'METRIC >= NUMBER', 'METRIC <= NUMBER' or a mapping"
                )
            metric, op, num = m.groups()
            try:
                bound = float(num)
            except ValueError:
                raise ValueError(f"{num!r} in rule {v!r} is not a number") from None
            return {"metric": metric, "min" if op == ">=" else "max": bound}
        return v

    @model_validator(mode="after")
    def _one_kind(self) -> GateRule:
        kind = self.kind
        if kind == "latency":
            if self.metric or self.against or self.slice:
                raise ValueError("a latency rule takes only latency_p95_ms and latency_calls")
            return self
        if not self.metric:
            raise ValueError("a rule needs a metric (or latency_p95_ms)")
        if kind == "relative":
            if self.max_drop is None:
                raise ValueError(f"rule against @{self.against} needs max_drop")
            if self.slice:
                raise ValueError("a rule cannot have both against and slice")
        elif kind == "slice":
            if self.min is None and self.max is None and self.max_gap is None:
                raise ValueError(f"slice rule on {self.slice!r} needs min, max or max_gap")
        elif self.min is None and self.max is None:
            raise ValueError(f"rule on {self.metric!r} needs min or max (or against/slice)")
        if self.max_drop is not None and kind != "relative":
            raise ValueError("max_drop needs against: ALIAS")
        if self.max_gap is not None and kind != "slice":
            raise ValueError("max_gap needs slice: COLUMN")
        return self

    @property
    def kind(self) -> Literal["absolute", "relative", "slice", "latency"]:
        if self.latency_p95_ms is not None:
            return "latency"
        if self.against is not None:
            return "relative"
        if self.slice is not None:
            return "slice"
        return "absolute"

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if self.kind == "latency":
            return f"latency p95 < {self.latency_p95_ms:g} ms"
        if self.kind == "relative":
            return f"{self.metric} vs @{self.against}"
        if self.kind == "slice":
            return f"{self.metric} by {self.slice}"
        parts = []
        if self.min is not None:
            parts.append(f"{self.metric} >= {self.min:g}")
        if self.max is not None:
            parts.append(f"{self.metric} <= {self.max:g}")
        return " and ".join(parts)


def _rules_may_be_strings(schema: dict) -> None:
    """In the JSON Schema, a rule may also be a string such as "roc_auc >= 0.85"."""
    number = r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?"
    rule = {
        "type": "string",
        "pattern": rf"^\s*[A-Za-z_][A-Za-z0-9_]*\s*(>=|<=)\s*{number}\s*$",
    }
    schema["items"] = {"anyOf": [schema["items"], rule]}


class EvaluateConfig(Section):
    """The gate: every rule must pass for `mlops evaluate` to exit 0 (and --promote to act)."""

    gate: list[GateRule] = Field(
        default_factory=list,
        description="the rules (see above)",
        json_schema_extra=_rules_may_be_strings,
    )
    data: Literal["auto", "holdout", "test"] = Field(
        "auto",
        description="what to score without --data: holdout (the model's stored holdout), test "
        "(data.test) or auto (data.test when set, else the holdout)",
    )
