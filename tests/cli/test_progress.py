"""Progress bars: on a terminal, done/total, rate and time left for reads and hashing; nothing
in a pipe or with --quiet."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from helpers.cli import on_a_terminal, run_cli
from mlops import progress
from mlops.data.readers import count_rows, iter_chunks_with_offset


def _data(project: Path, rows: int = 50_000) -> Path:
    frame = pd.DataFrame({"a": range(rows), "b": [f"x{i % 7}" for i in range(rows)]})
    frame.to_parquet(project / "big.parquet")
    return project / "big.parquet"


def test_add_and_validate_show_barson_a_terminal(project: Path) -> None:
    data = _data(project)
    code, shown = on_a_terminal(["add", str(data)], project)
    assert code == 0, shown
    # done/total in bytes (the rate and time left depend on the machine: not checked)
    assert "hashing 1 file(s)" in shown and re.search(r"[\d.]+ [kM]B/[\d.]+", shown), shown
    code, shown = on_a_terminal(["validate", "--infer", str(data), "-o", "s.yaml"], project)
    assert code == 0, shown
    assert "/50,000 rows" in shown  # the total from the Parquet metadata


def test_nothing_extra_in_a_pipe_or_with_quiet(project: Path) -> None:
    data = _data(project, 1000)
    r = run_cli("add", str(data), cwd=project)
    assert r.returncode == 0 and r.stderr == ""
    code, shown = on_a_terminal(["-q", "add", str(data)], project)
    assert code == 0 and shown == ""


def test_rows_are_counted_from_parquet_metadata_and_csv_lines(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": range(2500), "b": ["x"] * 2500})
    frame.to_parquet(tmp_path / "a.parquet")
    frame.to_csv(tmp_path / "b.csv", index=False)
    frame.to_csv(tmp_path / "c.csv.gz", index=False)
    assert count_rows([tmp_path / "a.parquet", tmp_path / "b.csv"]) == 5000
    assert count_rows([tmp_path / "c.csv.gz"]) is None


class _Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, float | None, str, float]] = []

    def start(self, label: str, total: float | None, unit: str) -> _Recorder:
        self.events.append((label, total, unit, 0.0))
        return self

    def advance(self, n: float) -> None:
        label, total, unit, done = self.events[-1]
        self.events[-1] = (label, total, unit, done + n)

    def finish(self) -> None:
        pass


def test_a_read_reports_every_row_once(tmp_path: Path) -> None:
    pd.DataFrame({"a": range(1234)}).to_csv(tmp_path / "d.csv", index=False)
    sink = _Recorder()
    with progress.reporting(sink):
        frames = list(iter_chunks_with_offset([tmp_path / "d.csv"], chunk_rows=100))
    assert len(frames) == 13
    assert sink.events == [("reading d.csv", 1234, "rows", 1234.0)]
    assert not progress.active()  # the sink is gone after the block
