"""JUnit XML as CI publishers read it: a time per case, a timestamp and hostname, and a file with
one <error> case when the command cannot run its checks."""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest

from helpers.cli import invoke_cli as invoke


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    rows = "".join(f"{i},{20 + i % 60},{'Paris' if i % 3 else 'Lyon'}\n" for i in range(20_000))
    (tmp_path / "train.csv").write_text("id,age,city\n" + rows)
    (tmp_path / "mlops.yaml").write_text(
        "project: demo\ndata:\n  train: train.csv\nschema:\n  columns:\n"
        "    id: {dtype: int, unique: true}\n"
        "    age: {dtype: int, min: 18, max: 70}\n"
        "    city: {dtype: category, allowed: [Paris, Lyon]}\n"
    )
    return tmp_path


def _suite(path: Path) -> ET.Element:
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None
    return suite


def test_cases_carry_their_time_and_the_suite_its_timestamp(project: Path) -> None:
    r = invoke("validate", "--no-record", "--junit", "out/junit.xml")
    assert r.exit_code == 1  # age > 70 in some rows
    suite = _suite(project / "out" / "junit.xml")
    cases = suite.findall("testcase")
    times = [float(c.get("time", "")) for c in cases]
    assert len(cases) >= 6 and all(t >= 0 for t in times)
    # the unique check hashes 20,000 values: it took measurable time
    by_name = {c.get("name"): float(c.get("time", "")) for c in cases}
    assert by_name["id.unique"] > 0 and by_name["age.max"] > 0
    assert float(suite.get("time", "")) == pytest.approx(sum(times), abs=1e-5)
    stamp = datetime.fromisoformat(suite.get("timestamp", ""))
    assert (
        stamp.tzinfo is None
        and abs((datetime.now(UTC).replace(tzinfo=None) - stamp).total_seconds()) < 3600
    )
    assert suite.get("hostname") == socket.gethostname()
    assert [c.get("name") for c in cases if c.find("failure") is not None] == ["age.max"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["validate", "missing.csv"], "missing.csv"),
        (["validate", "--schema", "nope.yaml"], "nope.yaml"),
        (["evaluate", "no-such-model"], "no-such-model"),
    ],
)
def test_exit_2_still_writes_junit_with_the_error(
    project: Path, args: list[str], words: str
) -> None:
    junit = project / "reports" / "junit.xml"
    r = invoke(*args, "--junit", str(junit))
    assert r.exit_code == 2, r.stdout
    suite = _suite(junit)
    assert (suite.get("tests"), suite.get("errors"), suite.get("failures")) == ("1", "1", "0")
    [case] = suite.findall("testcase")
    error = case.find("error")
    assert error is not None and words in (error.get("message") or "")
    assert "exit code 2" in (error.text or "")
    assert float(case.get("time", "")) >= 0 and suite.get("timestamp")


def test_no_junit_file_without_the_option(project: Path) -> None:
    assert invoke("validate", "missing.csv").exit_code == 2
    assert not list(project.rglob("*.xml"))
