"""Schema inference in one streaming pass, tuned so the next healthy batch from the same source
passes: bounds are widened beyond what was observed, category sets are inferred only when the
sample plausibly saw every category, and missing-value allowances leave room for sampling noise.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self

from mlops.data.checks import dtype_kind
from mlops.data.schema import ColumnSchema, DatasetSchema, Dtype
from mlops.data.seen_hashes import SeenHashes

if TYPE_CHECKING:
    import pandas as pd

# ISO dates and timestamps, and months (`2026-01`): a monthly batch's period column
_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}(-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)
# names of columns that say when a row happened: their values change from batch to batch
DEFAULT_TIME_PATTERN = (
    r"(?i)(^|[^a-z])(date|time|timestamp|ts|day|week|month|quarter|year|period|window)($|[^a-z])"
    r"|[a-z](Date|Time|Month|Period)$"
)
_TAIL_VALUES = 10
DEFAULT_ID_PATTERN = r"(?i)(^|[^a-z])(id|uuid|guid|key)$|^(id|uuid|guid|key)([^a-z]|$)|[a-z]Id$"


class SchemaInferrer:
    """Infer a `DatasetSchema` from chunks of data (scikit-learn style: `fit` sets `schema_`).

    range_margin: numeric bounds are widened by at least this fraction of the observed range on
        each side (a bound is not widened across zero: a column with no negatives keeps min >= 0).
    tail_risk: ...or more when the tail looks long: the spacing of the 10 most extreme values
        estimates the tail's scale b (exponential-tail model), and the bound moves by
        b * ln(1 / tail_risk), so a same-size batch exceeds it with probability about tail_risk.
    max_categories: text columns with at most this many distinct values get an `allowed` set...
    max_unseen_share: ...provided the share of values seen only once (the Good-Turing estimate
        of the chance that the next value is a category not seen yet) is at most this.
    missing_margin: columns with missing values get `max_missing` = observed share times
        (1 + margin) plus four standard errors; None writes `nullable: true` instead.
    id_pattern: regex on column names; integer or text columns that match it and whose values
        were all distinct are marked `unique`.
    time_columns: columns that say when a row happened (data.time_column). They, and text
        columns whose name matches time_pattern, never get an `allowed` set: the next batch
        brings the next period. Text that parses as ISO dates or months becomes `datetime`
        with a `min` and no `max`.

    After `fit`: `schema_`, `comments_` (for `dump_schema`) and `n_rows_`.
    """

    def __init__(
        self,
        range_margin: float = 0.1,
        tail_risk: float = 0.001,
        max_categories: int = 50,
        max_unseen_share: float = 0.01,
        missing_margin: float | None = 0.1,
        id_pattern: str = DEFAULT_ID_PATTERN,
        time_columns: Iterable[str] = (),
        time_pattern: str = DEFAULT_TIME_PATTERN,
    ) -> None:
        self.time_columns = set(time_columns)
        self.time_pattern = time_pattern
        self.range_margin = range_margin
        self.tail_risk = tail_risk
        self.max_categories = max_categories
        self.max_unseen_share = max_unseen_share
        self.missing_margin = missing_margin
        self.id_pattern = id_pattern

    def fit(self, chunks: Iterable[pd.DataFrame | tuple[int, pd.DataFrame]] | pd.DataFrame) -> Self:
        import pandas as pd

        if isinstance(chunks, pd.DataFrame):
            chunks = [chunks]
        id_names = re.compile(self.id_pattern)
        stats: dict[str, _ColumnStats] = {}
        n_rows = 0
        for item in chunks:
            frame = item[1] if isinstance(item, tuple) else item
            n_rows += len(frame)
            for name in frame.columns:
                key = str(name)
                if key not in stats:
                    stats[key] = _ColumnStats(
                        bool(id_names.search(key)), self.max_categories, self.max_unseen_share
                    )
                stats[key].update(frame[name])
        columns: dict[str, ColumnSchema] = {}
        comments: dict[str, str] = {
            "": f"Inferred by mlops from {n_rows} rows. Review and edit: bounds are widened "
            "guesses, not rules.",
            "allow_extra_columns": "new columns fail validation; set true to accept them",
            "min_rows": "an empty batch is never healthy",
        }
        for name, column_stats in stats.items():
            spec, notes = self._column(column_stats, n_rows)
            if spec["dtype"] == Dtype.CATEGORY.value and self._is_time(name):
                spec = {k: v for k, v in spec.items() if k != "allowed"} | {"dtype": "string"}
                notes.pop("allowed", None)
                notes["dtype"] = (
                    "a time or period column: its values change with every batch, so no allowed set"
                )
            columns[name] = ColumnSchema.model_validate(spec)
            comments.update({f"columns.{name}{'.' + k if k else ''}": v for k, v in notes.items()})
        any_inf = any(s.has_inf for s in stats.values())
        if any_inf:
            comments["allow_nan_inf"] = "infinite values were seen in the sample"
        self.schema_ = DatasetSchema(
            columns=columns,
            allow_extra_columns=False,
            min_rows=1,
            allow_nan_inf=any_inf,
        )
        self.comments_ = comments
        self.n_rows_ = n_rows
        return self

    def _is_time(self, name: str) -> bool:
        return name in self.time_columns or re.search(self.time_pattern, name) is not None

    def _column(self, stats: _ColumnStats, n_rows: int) -> tuple[dict[str, Any], dict[str, str]]:
        dtype = stats.dtype()
        spec: dict[str, Any] = {"dtype": dtype.value}
        notes: dict[str, str] = {}
        if stats.n_present == 0:
            notes["dtype"] = "every value was missing, so the dtype is a guess"
        elif dtype is Dtype.DATETIME and stats.kinds != {"datetime"}:
            notes["dtype"] = "parsed from ISO-8601 text"
        self._missing(stats, n_rows, spec, notes)
        id_column = (
            stats.all_distinct and dtype in (Dtype.INT, Dtype.STRING) and stats.n_present > 1
        )
        if id_column:
            spec["unique"] = True
            notes["unique"] = (
                f"all {stats.n_present} values distinct and the name looks like an id "
                "(no range: ids tend to grow)"
            )
        elif dtype in (Dtype.INT, Dtype.FLOAT) and stats.low is not None:
            self._numeric_bounds(stats, dtype, spec, notes)
        if dtype is Dtype.DATETIME and stats.low is not None:
            self._datetime_bounds(stats, spec, notes)
        if dtype is Dtype.CATEGORY and stats.counts is not None:
            spec["allowed"] = sorted(stats.counts)
            notes["allowed"] = f"{len(stats.counts)} distinct values seen in {stats.n_present} rows"
        return spec, notes

    def _missing(
        self, stats: _ColumnStats, n_rows: int, spec: dict[str, Any], notes: dict[str, str]
    ) -> None:
        if stats.n_missing == 0:
            return
        share = stats.n_missing / n_rows
        observed = f"observed {share:.2%} missing ({stats.n_missing} of {n_rows} rows)"
        if self.missing_margin is None:
            spec["nullable"] = True
            notes["nullable"] = observed
            return
        noise = 4 * math.sqrt(share * (1 - share) / n_rows)
        allowance = math.ceil((share * (1 + self.missing_margin) + noise) * 10_000) / 10_000
        if allowance >= 1:
            spec["nullable"] = True
            notes["nullable"] = observed
        else:
            spec["max_missing"] = allowance
            notes["max_missing"] = f"{observed}, plus room for sampling noise"

    def _numeric_bounds(
        self, stats: _ColumnStats, dtype: Dtype, spec: dict[str, Any], notes: dict[str, str]
    ) -> None:
        low, high = float(stats.low), float(stats.high)  # type: ignore[arg-type]
        span = high - low
        margin = self.range_margin * (span if span > 0 else max(abs(low), 1.0))
        tail = math.log(1 / self.tail_risk)
        low_margin = max(margin, tail * _tail_scale(-stats.smallest))
        high_margin = max(margin, tail * _tail_scale(stats.largest))
        new_low, new_high = low - low_margin, high + high_margin
        # Do not invent a sign the data never had: no negatives seen -> min stays >= 0.
        if low >= 0:
            new_low = max(new_low, 0.0)
        if high <= 0:
            new_high = min(new_high, 0.0)
        if dtype is Dtype.INT:
            spec["min"], spec["max"] = math.floor(new_low), math.ceil(new_high)
        else:
            spec["min"], spec["max"] = _round_out(new_low, new_high, margin)

        def how(extra: float) -> str:
            if extra > margin:
                return f"widened by {_num(extra)} for its long tail"
            return f"widened by {self.range_margin:.0%} of the observed range"

        notes["min"] = f"observed {_num(low)}; {how(low_margin)}" + (
            ", not below 0 (no negatives seen)" if low >= 0 and spec["min"] == 0 else ""
        )
        notes["max"] = f"observed {_num(high)}; {how(high_margin)}" + (
            ", not above 0 (no positives seen)" if high <= 0 and spec["max"] == 0 else ""
        )

    def _datetime_bounds(
        self, stats: _ColumnStats, spec: dict[str, Any], notes: dict[str, str]
    ) -> None:
        low, high = stats.low, stats.high
        widened = low - (high - low) * self.range_margin  # type: ignore[operator]
        spec["min"] = widened.isoformat()
        notes["min"] = (
            f"observed {low.isoformat()} to {high.isoformat()}; min widened by "  # type: ignore[union-attr]
            f"{self.range_margin:.0%} of the span, no max because new batches are newer"
        )


def _tail_scale(extremes: Any) -> float:
    """Mean excess of the most extreme values over the least of them (largest first)."""
    import numpy as np

    values = np.sort(np.asarray(extremes, dtype="float64"))[::-1]
    if len(values) < 2:
        return 0.0
    return float(np.mean(values[:-1] - values[-1]))


def _round_out(low: float, high: float, margin: float) -> tuple[float, float]:
    """Round bounds outward to a few digits finer than the margin, for a readable YAML file."""
    step = 10.0 ** (math.floor(math.log10(margin)) - 1) if margin > 0 else 1e-6
    return math.floor(low / step) * step, math.ceil(high / step) * step


def _num(value: float) -> str:
    return f"{value:.6g}"


@dataclass
class _ColumnStats:
    id_like: bool
    max_categories: int
    max_unseen_share: float
    kinds: set[str] = field(default_factory=set)
    n_missing: int = 0
    n_present: int = 0
    low: Any = None
    high: Any = None
    has_inf: bool = False
    integral: bool = True
    datetime_text: bool | None = None
    counts: dict[Any, int] | None = field(default_factory=dict)
    largest: Any = field(default_factory=list)
    smallest: Any = field(default_factory=list)
    seen: SeenHashes | None = None
    all_distinct: bool = False

    def __post_init__(self) -> None:
        if self.id_like:
            self.seen = SeenHashes()
            self.all_distinct = True

    def update(self, column: pd.Series) -> None:
        import pandas as pd

        present = column.dropna()
        self.n_missing += len(column) - len(present)
        self.n_present += len(present)
        if not len(present):
            return
        kind = dtype_kind(column)
        self.kinds.add(kind)
        if kind in ("int", "float"):
            self._numbers(present, kind)
        elif kind == "datetime":
            self._extend(present.min(), present.max())
        elif kind in ("string", "object", "category"):
            text = present.astype(object) if kind == "category" else present
            self._text(text)
        if self.seen is not None and kind in ("int", "string", "object", "category"):
            hashes = pd.util.hash_array(
                present.to_numpy(dtype=object) if kind != "int" else present.to_numpy()
            )
            if self.seen.add(hashes).any():
                self.all_distinct = False
                self.seen = None

    def _numbers(self, present: pd.Series, kind: str) -> None:
        import numpy as np

        values = present.to_numpy(dtype="float64")
        finite = np.isfinite(values)
        if not finite.all():
            self.has_inf = True
            values = values[finite]
        if not len(values):
            return
        if kind == "float" and self.integral:
            self.integral = bool(np.all(np.floor(values) == values))
        self._extend(values.min(), values.max())
        k = _TAIL_VALUES
        high = np.concatenate(
            [self.largest, values if len(values) <= k else np.partition(values, -k)[-k:]]
        )
        low = np.concatenate(
            [self.smallest, values if len(values) <= k else np.partition(values, k)[:k]]
        )
        self.largest = np.sort(high)[-k:]
        self.smallest = np.sort(low)[:k]

    def _text(self, present: pd.Series) -> None:
        if self.counts is not None:
            for value, count in present.value_counts().items():
                self.counts[value] = self.counts.get(value, 0) + int(count)
            if len(self.counts) > self.max_categories:
                self.counts = None
        if self.datetime_text is not False:
            self._datetimes(present)

    def _datetimes(self, present: pd.Series) -> None:
        import pandas as pd

        first = str(present.iloc[0])
        if not _ISO_DATE.match(first):
            self.datetime_text = False
            return
        try:
            parsed = pd.to_datetime(present, errors="coerce", format="ISO8601")
        except (ValueError, TypeError):
            self.datetime_text = False
            return
        if parsed.isna().any():
            self.datetime_text = False
            return
        self.datetime_text = True
        self._extend(parsed.min(), parsed.max())

    def _extend(self, low: Any, high: Any) -> None:
        self.low = low if self.low is None else min(self.low, low)
        self.high = high if self.high is None else max(self.high, high)

    def dtype(self) -> Dtype:
        kinds = self.kinds
        if not kinds:
            return Dtype.STRING if self.counts else Dtype.FLOAT
        if kinds == {"bool"}:
            return Dtype.BOOL
        if kinds == {"int"}:
            return Dtype.INT
        if kinds <= {"int", "float"}:
            return (
                Dtype.INT if "int" in kinds and self.integral and not self.has_inf else Dtype.FLOAT
            )
        if kinds == {"datetime"}:
            return Dtype.DATETIME
        if kinds <= {"string", "object", "category"}:
            if self.datetime_text:
                return Dtype.DATETIME
            if self.counts is not None and self._categories_complete():
                return Dtype.CATEGORY
            return Dtype.STRING
        return Dtype.STRING

    def _categories_complete(self) -> bool:
        counts = self.counts or {}
        singletons = sum(1 for c in counts.values() if c == 1)
        return (
            bool(counts)
            and singletons <= self.n_present * self.max_unseen_share
            and not self.id_like
        )
