"""Streaming validation: every check runs vectorised on each chunk and is accumulated.

Memory is bounded by the chunk size, except for `unique` columns and `no_duplicate_rows`,
which keep 8 bytes per distinct value/row (see `seen_hashes.py`). Frames are never copied:
checks read columns and build boolean masks. All failures are collected, never just the first.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from mlops.data import checks, value_keys
from mlops.data.results import CheckResult, ReasonCode, Sample, ValidationReport
from mlops.data.schema import ColumnSchema, CustomCheck, DatasetSchema, Dtype
from mlops.data.seen_hashes import SeenHashes
from mlops.errors import InputError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


def validate_frame(
    frame: pd.DataFrame, schema: DatasetSchema, sample_limit: int = 20
) -> ValidationReport:
    return validate_chunks([(0, frame)], schema, sample_limit)


def validate_chunks(
    chunks_with_offsets: Iterable[tuple[int, pd.DataFrame] | pd.DataFrame],
    schema: DatasetSchema,
    sample_limit: int = 20,
) -> ValidationReport:
    """Validate chunks (as yielded by `readers.iter_chunks_with_offset`) against `schema`.

    Items may also be bare DataFrames; their offsets are then counted from 0. Custom checks
    must be registered before the call (see `checks.load_checks_module`).
    """
    run: _Run | None = None
    next_offset = 0
    for item in chunks_with_offsets:
        offset, frame = item if isinstance(item, tuple) else (next_offset, item)
        if run is None:
            run = _Run(schema, [str(c) for c in frame.columns], sample_limit)
        run.update(offset, frame)
        next_offset = offset + len(frame)
    if run is None:
        run = _Run(schema, [], sample_limit)
    return run.report()


@dataclass
class _Tally:
    """Failing-row count and the first samples of one check, accumulated over chunks."""

    check: str
    reason: ReasonCode
    column: str | None
    expectation: str
    sample_limit: int
    failing: int = 0
    samples: list[Sample] = field(default_factory=list)
    shown: Callable[[Any], Any] | None = None  # how a sampled value is shown (None: as read)
    seconds: float = 0.0

    @contextmanager
    def timed(self) -> Iterator[None]:
        """Count the time spent inside towards this check (JUnit reports it per check)."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds += time.perf_counter() - t0

    def add(self, mask: np.ndarray | None, offset: int, values: pd.Series | None) -> None:
        import numpy as np

        if mask is None:
            return
        count = int(np.count_nonzero(mask))
        if count:
            self.failing += count
            self._sample(np.flatnonzero(mask), offset, values)

    def add_positions(self, positions: np.ndarray, offset: int, values: pd.Series | None) -> None:
        if len(positions):
            self.failing += len(positions)
            self._sample(positions, offset, values)

    def _sample(self, positions: np.ndarray, offset: int, values: pd.Series | None) -> None:
        room = self.sample_limit - len(self.samples)
        for position in positions[: max(room, 0)]:
            value = None if values is None else values.iloc[int(position)]
            if self.shown is not None and value is not None:
                value = self.shown(value)
            self.samples.append(Sample(offset + int(position), self.column, value))

    def merge(self, other: _Tally) -> None:
        """Add a later partition's tally: counts add, samples keep the first rows."""
        self.failing += other.failing
        room = max(self.sample_limit - len(self.samples), 0)
        self.samples.extend(other.samples[:room])

    def result(self, passed: bool | None = None, outcome: str | None = None) -> CheckResult:
        passed = self.failing == 0 if passed is None else passed
        if outcome is None:
            outcome = _rows_outcome(self.failing, self.samples)
        return CheckResult(
            check=self.check,
            reason=self.reason,
            column=self.column,
            passed=passed,
            failing_rows=self.failing,
            message=message(self.column, self.expectation, outcome),
            samples=self.samples if not passed else [],
            seconds=self.seconds,
        )


def message(column: str | None, expectation: str, outcome: str) -> str:
    """The one template of every check message: '<subject> must <expectation>; <outcome>.'"""
    subject = "The dataset" if column is None else f"Column {column!r}"
    return f"{subject} must {expectation}; {outcome}."


def _rows_outcome(failing: int, samples: list[Sample]) -> str:
    if not failing:
        return "no rows fail"
    noun = "row fails" if failing == 1 else "rows fail"
    if not samples:
        return f"{failing} {noun}"
    first = samples[0]
    example = (
        f"row {first.row}" if first.value is None else f"{_show(first.value)} at row {first.row}"
    )
    return f"{failing} {noun} (e.g. {example})"


def _show(value: Any, width: int = 40) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _show_list(values: list[Any], limit: int = 10) -> str:
    shown = ", ".join(_show(v) if isinstance(v, str) else str(v) for v in values[:limit])
    return shown + (f", ... ({len(values)} in all)" if len(values) > limit else "")


def _timestamp(value: Any) -> Any:
    import pandas as pd

    return pd.Timestamp(value)


# Samples of value checks show the value as its declared dtype, so a sample reads the same
# whichever dtype its chunk was read as (5, not 5.0 or "5", in an int column).
_DECLARED: dict[Dtype, Callable[[Any], Any]] = {
    Dtype.INT: int,
    Dtype.FLOAT: float,
    Dtype.BOOL: bool,
    Dtype.STRING: str,
    Dtype.CATEGORY: str,
    Dtype.DATETIME: _timestamp,
}


class _ColumnRun:
    def __init__(self, name: str, spec: ColumnSchema, allow_inf: bool, sample_limit: int):
        self.name = name
        self.spec = spec

        shown = _DECLARED[spec.dtype]

        def tally(check: str, reason: ReasonCode, expectation: str) -> _Tally:
            return _Tally(check, reason, name, expectation, sample_limit, shown=shown)

        self.dtype = _Tally(
            "dtype", ReasonCode.DTYPE_MISMATCH, name, f"have dtype {spec.dtype}", sample_limit
        )
        self.missing: _Tally | None = None
        if spec.max_missing is not None:
            self.missing = tally(
                "max_missing",
                ReasonCode.TOO_MANY_MISSING,
                f"have at most {spec.max_missing * 100:.4g}% of its values missing",
            )
        elif not spec.nullable:
            self.missing = tally("nullable", ReasonCode.NULL_VALUES, "have no missing values")
        self.inf = None
        if spec.dtype is Dtype.FLOAT and not allow_inf:
            self.inf = tally("allow_nan_inf", ReasonCode.NAN_OR_INF, "not contain +inf or -inf")
        self.min = self.max = self.allowed = self.regex = self.unique = None
        if spec.min is not None:
            self.min = tally("min", ReasonCode.BELOW_MIN, f"be >= {spec.min}")
        if spec.max is not None:
            self.max = tally("max", ReasonCode.ABOVE_MAX, f"be <= {spec.max}")
        if spec.allowed is not None:
            self.allowed = tally(
                "allowed", ReasonCode.NOT_ALLOWED, f"be one of {_show_list(spec.allowed)}"
            )
        if spec.regex is not None:
            self.regex = tally(
                "regex", ReasonCode.REGEX_MISMATCH, f"fully match the regex {spec.regex!r}"
            )
        self.seen: SeenHashes | None = None
        self.deferred: list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None
        if spec.unique:
            self.unique = tally("unique", ReasonCode.NOT_UNIQUE, "have unique values")
            self.seen = SeenHashes()

    def update(self, offset: int, column: pd.Series) -> tuple[pd.Series, np.ndarray | None]:
        """Run the column's checks on one chunk; return its typed values and dtype failures."""
        import numpy as np

        spec = self.spec
        with self.dtype.timed():
            typed, bad = checks.coerce(column, spec.dtype)
            self.dtype.add(bad, offset, column)
        regex = self.regex if spec.regex is not None else None
        masks: list[tuple[_Tally | None, Callable[[], np.ndarray | None], pd.Series | None]] = [
            (self.missing, lambda: checks.missing_mask(column), None),
            (self.inf, lambda: checks.inf_mask(typed), typed),
            (self.min, lambda: checks.below_mask(typed, spec.min_bound()), typed),
            (self.max, lambda: checks.above_mask(typed, spec.max_bound()), typed),
            (
                self.allowed,
                lambda: checks.not_allowed_mask(typed, spec.allowed or [], spec.dtype),
                typed,
            ),
            (regex, lambda: checks.regex_mismatch_mask(typed, spec.regex or ""), typed),
        ]
        for tally, mask, values in masks:
            if tally is not None:
                with tally.timed():
                    tally.add(mask(), offset, values)
        if self.unique is not None:
            with self.unique.timed():
                present = np.flatnonzero(typed.notna().to_numpy())
                keys = value_keys.typed_keys(column.iloc[present], typed.iloc[present], spec.dtype)
                if self.deferred is not None:
                    # decided across partitions later (the Dask engine): keep keys, rows, values
                    values = typed.iloc[present].to_numpy(dtype=object)
                    self.deferred.append((keys, offset + present, values))
                elif self.seen is not None:
                    self.unique.add_positions(present[self.seen.add(keys)], offset, typed)
        return typed, bad

    def tallies(self) -> list[_Tally | None]:
        return [self.dtype, self.missing, self.inf, self.min, self.max, self.allowed, self.regex]

    def results(self, n_rows: int) -> list[CheckResult]:
        out = [self.dtype.result()]
        if self.missing is not None and self.spec.max_missing is not None:
            share = self.missing.failing / n_rows if n_rows else 0.0
            outcome = f"{share:.2%} are missing ({self.missing.failing} of {n_rows} rows" + (
                f", e.g. row {self.missing.samples[0].row})" if self.missing.samples else ")"
            )
            out.append(self.missing.result(share <= self.spec.max_missing, outcome))
        elif self.missing is not None:
            out.append(self.missing.result())
        for tally in (self.inf, self.min, self.max, self.allowed, self.regex, self.unique):
            if tally is not None:
                out.append(tally.result())
        return out


# Columns are checked in threads on chunks this large: the checks run in numpy and Arrow, which
# release the GIL, and each column's tallies are its own.
_THREADED_ROWS = 50_000


@cache
def _column_pool() -> ThreadPoolExecutor | None:
    workers = min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)
    return ThreadPoolExecutor(workers, thread_name_prefix="mlops-validate") if workers > 1 else None


def _up_front_checks(schema: DatasetSchema, columns: list[str]) -> list[CheckResult]:
    """The checks decided by the column names alone: required columns, undeclared columns."""
    present = set(columns)
    up_front: list[CheckResult] = [
        CheckResult(
            check="required",
            reason=ReasonCode.COLUMN_MISSING,
            column=name,
            passed=name in present,
            failing_rows=0,
            message=message(
                name, "be present", "it is present" if name in present else "it is missing"
            ),
        )
        for name in schema.required_columns
    ]
    if not schema.allow_extra_columns:
        extra = [c for c in columns if c not in schema.columns]
        outcome = f"found {len(extra)}: {_show_list(extra)}" if extra else "none found"
        up_front.append(
            CheckResult(
                check="allow_extra_columns",
                reason=ReasonCode.EXTRA_COLUMNS,
                column=None,
                passed=not extra,
                failing_rows=0,
                message=message(None, "have no undeclared columns", outcome),
            )
        )
    return up_front


class _Run:
    def __init__(
        self, schema: DatasetSchema, columns: list[str], sample_limit: int, defer: bool = False
    ):
        self.schema = schema
        self.columns = columns
        self.sample_limit = sample_limit
        self.n_rows = 0
        present = set(columns)
        self.up_front = _up_front_checks(schema, columns)
        self.column_runs = [
            _ColumnRun(name, spec, schema.allow_nan_inf, sample_limit)
            for name, spec in schema.columns.items()
            if name in present
        ]
        self.duplicates: _Tally | None = None
        self.row_hashes: SeenHashes | None = None
        if schema.no_duplicate_rows:
            self.duplicates = self._tally(
                "no_duplicate_rows", ReasonCode.DUPLICATE_ROWS, None, "have no duplicate rows"
            )
            self.row_hashes = SeenHashes()
        self.deferred_rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None
        if defer:  # uniqueness is decided across partitions (`repeated_rows`)
            self.deferred_rows = [] if schema.no_duplicate_rows else None
            for run in self.column_runs:
                run.deferred = [] if run.unique is not None else None
        self.custom: list[tuple[CustomCheck, checks.CheckFunction, _Tally]] = [
            (
                ref,
                checks.get_check(ref.name),
                self._tally(
                    f"custom:{ref.name}",
                    ReasonCode.CUSTOM,
                    ref.column,
                    f"pass the custom check {ref.name!r}",
                ),
            )
            for ref in schema.custom
            if ref.column is None or ref.column in present
        ]

    def _tally(
        self, check: str, reason: ReasonCode, column: str | None, expectation: str
    ) -> _Tally:
        return _Tally(check, reason, column, expectation, self.sample_limit)

    def update(self, offset: int, frame: pd.DataFrame) -> None:
        import numpy as np

        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise InputError(
                f"The chunk starting at row {offset} lacks the column(s) {missing} "
                "that earlier rows had.",
                hint="All files of one dataset must have the same columns.",
            )
        self.n_rows += len(frame)
        columns = [frame[run.name] for run in self.column_runs]
        if len(frame) >= _THREADED_ROWS and len(columns) > 1 and (pool := _column_pool()):
            updated = list(pool.map(lambda r, c: r.update(offset, c), self.column_runs, columns))
        else:
            updated = [
                run.update(offset, c) for run, c in zip(self.column_runs, columns, strict=True)
            ]
        coerced = {run.name: u for run, u in zip(self.column_runs, updated, strict=True)}
        if self.duplicates is not None and self.row_hashes is not None:
            with self.duplicates.timed():
                keys = self._row_keys(frame, coerced)
                if self.deferred_rows is not None:
                    rows = offset + np.arange(len(keys), dtype=np.int64)
                    self.deferred_rows.append((keys, rows, np.full(len(keys), None, object)))
                else:
                    self.duplicates.add(self.row_hashes.add(keys), offset, None)
        for ref, fn, tally in self.custom:
            with tally.timed():
                data = frame if ref.column is None else frame[ref.column]
                mask = checks.run_custom(fn, ref.name, data, ref.kwargs)
                tally.add(mask, offset, None if ref.column is None else frame[ref.column])

    def _row_keys(
        self, frame: pd.DataFrame, coerced: dict[str, tuple[pd.Series, np.ndarray | None]]
    ) -> np.ndarray:
        """Keys of whole rows, equal for equal rows whatever dtypes this chunk was read as."""
        import numpy as np

        keys = None
        for name in self.columns:
            spec = self.schema.columns.get(name)
            typed, bad = coerced.get(name, (None, None))
            column = value_keys.column_keys(
                frame[name], None if spec is None else spec.dtype, typed, bad
            )
            keys = value_keys.combine(keys, column)
        return keys if keys is not None else np.zeros(len(frame), dtype=np.uint64)

    def report(self) -> ValidationReport:
        results = list(self.up_front)
        results.extend(self._row_count())
        for run in self.column_runs:
            results.extend(run.results(self.n_rows))
        if self.duplicates is not None:
            results.append(self.duplicates.result())
        results.extend(tally.result() for _, _, tally in self.custom)
        return ValidationReport(
            passed=all(r.passed for r in results),
            checks=results,
            n_rows=self.n_rows,
            columns=self.columns,
        )

    def _row_count(self) -> list[CheckResult]:
        low, high = self.schema.min_rows, self.schema.max_rows
        if low is None and high is None:
            return []
        if low is not None and high is not None:
            expectation = f"have between {low} and {high} rows"
        elif low is not None:
            expectation = f"have at least {low} rows"
        else:
            expectation = f"have at most {high} rows"
        passed = (low is None or self.n_rows >= low) and (high is None or self.n_rows <= high)
        return [
            CheckResult(
                check="row_count",
                reason=ReasonCode.ROW_COUNT,
                column=None,
                passed=passed,
                failing_rows=0,
                message=message(None, expectation, f"found {self.n_rows}"),
            )
        ]


# -- validation in partitions (the Dask engine) ------------------------------------------------
Partial = _Run
Hashed = tuple["np.ndarray", "np.ndarray", "np.ndarray"]  # value hashes, global rows, values
ROWS_KEY = "\0rows"  # the key of the duplicate-row hashes among the unique columns'


def validate_partition(
    chunks_with_offsets: Iterable[tuple[int, pd.DataFrame]],
    schema: DatasetSchema,
    sample_limit: int = 20,
) -> Partial:
    """Every check of one partition's chunks (with global offsets), except that uniqueness and
    duplicate rows keep their hashes for `repeated_rows` instead of deciding locally."""
    run: _Run | None = None
    for offset, frame in chunks_with_offsets:
        if run is None:
            run = _Run(schema, [str(c) for c in frame.columns], sample_limit, defer=True)
        run.update(offset, frame)
    return run if run is not None else _Run(schema, [], sample_limit, defer=True)


def take_hashes(part: Partial, buckets: int) -> dict[str, list[Hashed]]:
    """Remove the partition's deferred hashes, split into `buckets` by hash: key (a unique
    column, or ROWS_KEY) -> one (hashes, rows, values) per bucket."""
    import numpy as np

    pending = {r.name: r.deferred for r in part.column_runs if r.deferred is not None}
    if part.deferred_rows is not None:
        pending[ROWS_KEY] = part.deferred_rows
    out: dict[str, list[Hashed]] = {}
    for key, pieces in pending.items():
        if pieces:
            h = np.concatenate([p[0] for p in pieces])
            rows = np.concatenate([p[1] for p in pieces])
            vals = np.concatenate([p[2] for p in pieces])
        else:
            h, rows, vals = np.empty(0, np.uint64), np.empty(0, np.int64), np.empty(0, object)
        which = h % np.uint64(buckets)
        out[key] = [(h[which == b], rows[which == b], vals[which == b]) for b in range(buckets)]
    for r in part.column_runs:
        r.deferred = [] if r.deferred is not None else None
    part.deferred_rows = [] if part.deferred_rows is not None else None
    return out


def repeated_rows(pieces: list[Hashed], sample_limit: int) -> tuple[int, list[tuple[int, Any]]]:
    """Among one bucket's hashes from every partition: how many rows repeat a value seen at an
    earlier row, and the first `sample_limit` of them (row, value)."""
    import numpy as np

    h = np.concatenate([p[0] for p in pieces])
    rows = np.concatenate([p[1] for p in pieces])
    vals = np.concatenate([p[2] for p in pieces])
    order = np.argsort(rows, kind="stable")
    h, rows, vals = h[order], rows[order], vals[order]
    _, first = np.unique(h, return_index=True)
    repeated = np.ones(len(h), dtype=bool)
    repeated[first] = False
    idx = np.flatnonzero(repeated)
    return len(idx), [(int(rows[i]), vals[i]) for i in idx[:sample_limit]]


def merge_partials(a: Partial, b: Partial) -> Partial:
    """a with b's tallies added (b holds the later rows); deferred hashes must be taken first."""
    if not a.columns:
        return b
    a.n_rows += b.n_rows
    for ra, rb in zip(a.column_runs, b.column_runs, strict=True):
        for ta, tb in zip(ra.tallies(), rb.tallies(), strict=True):
            if ta is not None and tb is not None:
                ta.merge(tb)
    for (_, _, ta), (_, _, tb) in zip(a.custom, b.custom, strict=True):
        ta.merge(tb)
    return a


def finish_partials(
    run: Partial, repeats: dict[str, tuple[int, list[tuple[int, Any]]]]
) -> ValidationReport:
    """The report of the merged partitions, with uniqueness and duplicate rows decided
    across all of them (`repeats`: key -> count and first samples, as `repeated_rows` gives)."""
    for r in run.column_runs:
        if r.unique is not None and r.name in repeats:
            count, samples = repeats[r.name]
            r.unique.failing = count
            r.unique.samples = [Sample(row, r.name, value) for row, value in samples]
    if run.duplicates is not None and ROWS_KEY in repeats:
        count, samples = repeats[ROWS_KEY]
        run.duplicates.failing = count
        run.duplicates.samples = [Sample(row, None, None) for row, _ in samples]
    return run.report()
