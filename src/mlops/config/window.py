"""The monitoring window of mlops.yaml (`monitor.window`, `mlops monitor --window`): a calendar
period of the time column or a block of N consecutive rows. Parsed here, below the lifecycle, so
that the config can check it; lifecycle/monitor/windows.py assigns rows to windows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlops.errors import InputError

PERIODS = ("hour", "day", "week", "month")


@dataclass(frozen=True)
class Window:
    period: str | None = None  # hour | day | week | month
    rows: int | None = None  # a block of this many rows

    @property
    def label(self) -> str:
        return self.period or f"{self.rows} rows"


def parse_window(value: str | int | None) -> Window | None:
    """None, 'hour' | 'day' | 'week' | 'month', an int N or 'N rows' -> a Window."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InputError(f"window {value!r} is not hour, day, week, month or a number of rows.")
    if isinstance(value, int):
        n = value
    else:
        text = str(value).strip().lower()
        if text in ("", "none", "all"):
            return None
        if text in PERIODS:
            return Window(period=text)
        if text.endswith("s") and text[:-1] in PERIODS:
            return Window(period=text[:-1])
        text = text.removesuffix("rows").strip()
        try:
            n = int(text.replace("_", ""))
        except ValueError:
            raise InputError(
                f"window {value!r} is not hour, day, week, month or a number of rows.",
                hint="e.g. window: day, or window: 10000",
            ) from None
    if n < 1:
        raise InputError(f"a window of {n} rows is not possible; use a positive number.")
    return Window(rows=n)


def _any_case(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in word)


def window_schema(schema: dict[str, Any]) -> None:
    """The JSON Schema of a window, accepting exactly what parse_window accepts."""
    words = [*PERIODS, *(p + "s" for p in PERIODS), "none", "all"]
    text = "|".join(_any_case(w) for w in words)
    rows = r"\+?[0-9_]*[1-9][0-9_]*\s*(" + _any_case("rows") + ")?"  # some digit not 0
    schema.clear()
    schema["anyOf"] = [
        {"type": "string", "pattern": rf"^\s*({text}|{rows})?\s*$"},
        {"type": "integer", "minimum": 1},
        {"type": "null"},
    ]
