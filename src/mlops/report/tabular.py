"""Tables of rows for people (a rich table) or for pipes (TSV or CSV, one row per line).

A listing is built once as full, plain values; `print_rows` then either lays it out for a
terminal (cells shortened by the column's `short` function) or writes every value in full, so
`mlops ls | grep churn-train` and `cut -f3` see what the store holds, never an ellipsis.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mlops.report.sanitise import printable, printable_line


@dataclass
class Column:
    """One column: its header, how a terminal shows a value, and its colours by value."""

    name: str
    short: Callable[[str], str] | None = None
    justify: str = "left"
    styles: dict[str, str] = field(default_factory=dict)
    no_wrap: bool = False


def short_id(value: str) -> str:
    """The first 8 characters of an id, for a terminal."""
    return value[:8]


def short_time(value: str) -> str:
    """An ISO timestamp as `YYYY-MM-DD HH:MM`, for a terminal."""
    return value[:16].replace("T", " ")


def short_number(value: str) -> str:
    """A number to 4 significant digits, for a terminal (other text unchanged); a trailing `~`
    (an estimate) is kept."""
    number, mark = (value[:-1], "~") if value.endswith("~") else (value, "")
    try:
        return f"{float(number):.4g}{mark}"
    except ValueError:
        return value


def full(value: object) -> str:
    """A value as a pipe shows it: in full ('' for none)."""
    return "" if value is None else str(value)


def print_rows(
    console: Console,
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    fmt: str = "table",
    title: str | None = None,
    empty: str | None = None,
) -> None:
    """Print rows as a rich table (fmt "table"), or as TSV/CSV with a header line.

    Args:
        console: where to print (stdout's console).
        columns: the columns, in order.
        rows: full, plain values, one list per row, in column order.
        fmt: "table", "tsv" or "csv".
        title: a title above the rich table (not printed in TSV/CSV).
        empty: what a terminal shows when there are no rows (TSV/CSV print the header only).
    """
    if fmt in ("tsv", "csv"):
        _write_delimited(console, columns, rows, fmt)
        return
    if not rows and empty is not None:
        console.print(empty)
        return
    table = Table(box=None, header_style="bold", title=title, title_justify="left")
    for c in columns:
        table.add_column(c.name, justify=c.justify, no_wrap=c.no_wrap)  # type: ignore[arg-type]
    for row in rows:
        table.add_row(*[_cell(c, v) for c, v in zip(columns, row, strict=True)])
    console.print(table)


def _cell(column: Column, value: str) -> str:
    text = escape(column.short(value) if column.short and value else value)
    style = column.styles.get(value)
    return f"[{style}]{text}[/{style}]" if style else text


def _write_delimited(
    console: Console, columns: Sequence[Column], rows: Sequence[Sequence[str]], fmt: str
) -> None:
    if fmt == "tsv":
        lines = [
            "\t".join(printable_line(v) for v in r) for r in [[c.name for c in columns], *rows]
        ]
        text = "".join(line + "\n" for line in lines)
    else:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow([c.name for c in columns])
        writer.writerows([printable(v) for v in r] for r in rows)
        text = buf.getvalue()
    console.file.write(text)
    console.file.flush()
