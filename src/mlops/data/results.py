"""Validation result objects: the contract between validation and every renderer."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from mlops.jsonable import fields_dict

REPORT_VERSION = 1


class ReasonCode(StrEnum):
    """Stable machine-readable code of a check; consumers match on these, never on messages."""

    COLUMN_MISSING = "column_missing"
    EXTRA_COLUMNS = "extra_columns"
    DTYPE_MISMATCH = "dtype_mismatch"
    NULL_VALUES = "null_values"
    TOO_MANY_MISSING = "too_many_missing"
    BELOW_MIN = "below_min"
    ABOVE_MAX = "above_max"
    NOT_ALLOWED = "not_allowed"
    REGEX_MISMATCH = "regex_mismatch"
    NOT_UNIQUE = "not_unique"
    DUPLICATE_ROWS = "duplicate_rows"
    NAN_OR_INF = "nan_or_inf"
    ROW_COUNT = "row_count"
    CUSTOM = "custom"


@dataclass(frozen=True)
class Sample:
    """One failing value: `row` is the 0-based data row across all files (header excluded)."""

    row: int | None
    column: str | None
    value: Any

    def to_dict(self) -> dict[str, Any]:
        # kept: json_safe writes infinities as strings in validation reports
        return {"row": self.row, "column": self.column, "value": json_safe(self.value)}


@dataclass
class CheckResult:
    """The outcome of one check; passing checks are kept so reports can list every check."""

    check: str
    reason: ReasonCode
    column: str | None
    passed: bool
    failing_rows: int
    message: str
    samples: list[Sample] = field(default_factory=list)
    # the time spent on it (for JUnit); not in to_dict, so a stored report does not change
    # with machine load
    seconds: float = field(default=0.0, compare=False)

    @property
    def name(self) -> str:
        """A stable, unique-per-report identifier such as `age.min` or `dataset.row_count`."""
        return f"{'dataset' if self.column is None else self.column}.{self.check}"

    def to_dict(self) -> dict[str, Any]:
        data = {"name": self.name, **fields_dict(self)}
        data.pop("seconds", None)
        return data


@dataclass
class ValidationReport:
    passed: bool
    checks: list[CheckResult]
    n_rows: int
    columns: list[str]

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed]

    def to_dict(self) -> dict[str, Any]:
        # kept: adds the report version and counts
        return {
            "report_version": REPORT_VERSION,
            "passed": self.passed,
            "n_rows": self.n_rows,
            "columns": list(self.columns),
            "n_checks": len(self.checks),
            "n_failed": len(self.failures),
            "checks": [c.to_dict() for c in self.checks],
        }


def json_safe(value: Any) -> Any:
    """Convert numpy/pandas scalars to JSON-representable Python values (inf/NaN as strings)."""
    import numpy as np
    import pandas as pd

    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, float | np.floating) and math.isinf(value):
        return str(float(value))
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, timedelta):  # a duration: ISO 8601, as pandas writes it (P1DT2H0M0S)
        return pd.Timedelta(value).isoformat()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)
