"""Rich progress bars for long work: the current stage, and per read or hash a bar with
done/total, rate and time left. Only on a terminal (the caller decides)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.filesize import decimal
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from mlops import progress as work


def _amount(n: float, unit: str) -> str:
    return decimal(int(n)) if unit == "bytes" else f"{int(n):,}"


class _Done(ProgressColumn):
    """`1,200,000/3,000,000 rows` (or bytes); blank for the stage line."""

    def render(self, task: Task) -> Text:
        unit = task.fields.get("unit")
        if unit is None:
            return Text("")
        total = "?" if task.total is None else _amount(task.total, unit)
        suffix = " rows" if unit == "rows" else ""
        return Text(f"{_amount(task.completed, unit)}/{total}{suffix}", style="progress.download")


class _Rate(ProgressColumn):
    """`250,000 rows/s`, `80.1 MB/s`."""

    def render(self, task: Task) -> Text:
        unit = task.fields.get("unit")
        speed = task.finished_speed or task.speed
        if unit is None or not speed:
            return Text("")
        shown = f"{decimal(int(speed))}/s" if unit == "bytes" else f"{speed:,.0f} rows/s"
        return Text(shown, style="progress.data.speed")


class _Sink:
    def __init__(self, bars: Progress) -> None:
        self.bars = bars

    def start(self, label: str, total: float | None, unit: str) -> _Handle:
        return _Handle(self.bars, self.bars.add_task(label, total=total, unit=unit))


class _Handle:
    def __init__(self, bars: Progress, task: TaskID) -> None:
        self.bars, self.task = bars, task

    def advance(self, n: float) -> None:
        self.bars.update(self.task, advance=n)

    def finish(self) -> None:
        # a total that was an estimate (CSV line ends) or unknown becomes what was done; the bar
        # stays until the command ends, so even a quick read shows once
        done = next(t.completed for t in self.bars.tasks if t.id == self.task)
        self.bars.update(self.task, total=done, completed=done)


@contextmanager
def progress_bars(console: Console) -> Iterator[Callable[[str], None]]:
    """Show the stage (set through the function yielded) and a bar per piece of long work
    reported through `mlops.progress` inside; the display is cleared when the block ends."""
    bars = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        _Done(),
        _Rate(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    with bars, work.reporting(_Sink(bars)):
        stage = bars.add_task("starting", total=None)

        def say(message: Any) -> None:
            bars.update(stage, description=str(message))

        yield say
