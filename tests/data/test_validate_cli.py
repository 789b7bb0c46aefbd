"""`mlops validate` end to end: real files, real store, the CLI in-process."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from helpers.cli import invoke_cli
from mlops.store import Store


def run(*args: str) -> tuple[int, str, str]:
    result = invoke_cli(*args)
    return result.returncode, result.stdout, result.stderr


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLOPS_STORE", raising=False)
    (tmp_path / "train.csv").write_text(
        "id,age,city\n1,34,Paris\n2,51,Lyon\n3,29,Paris\n4,44,Nice\n"
    )
    (tmp_path / "mlops.yaml").write_text(
        "project: demo\ndata:\n  train: train.csv\nschema:\n  columns:\n"
        "    id: {dtype: int, unique: true}\n"
        "    age: {dtype: int, min: 18, max: 99}\n"
        "    city: {dtype: category, allowed: [Paris, Lyon, Nice]}\n"
    )
    return tmp_path


def test_passing_data_exits_0_and_records_dataset_and_report(project: Path) -> None:
    code, out, _ = run("validate", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["passed"] is True
    assert doc["report"]["report_version"] == 1
    store = Store.open(project / ".mlops")
    ds = store.resolve("dataset/demo-train")
    report = store.resolve(doc["report_artifact"]["id"])
    assert report.parents == [ds.id]
    assert store.read_json(report, "report.json")["passed"] is True


def test_unchanged_data_is_not_rehashed(project: Path) -> None:
    assert run("validate", "--json")[0] == 0
    code, out, _ = run("validate", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["files_unchanged"] == 1 and doc["files_hashed"] == 0
    _, text, _ = run("validate")
    assert "not re-hashed" in text


def test_every_failure_is_collected_exit_1_with_junit_and_html(project: Path) -> None:
    bad = project / "bad.csv"
    bad.write_text("id,age,city\n1,12,Paris\n1,130,Rome\n3,29,Paris\n")
    code, out, _ = run("validate", "bad.csv", "--json", "--junit", "j.xml", "--html", "r.html")
    assert code == 1
    failed = {
        (c["column"], c["reason"]) for c in json.loads(out)["report"]["checks"] if not c["passed"]
    }
    assert failed == {
        ("id", "not_unique"),
        ("age", "below_min"),
        ("age", "above_max"),
        ("city", "not_allowed"),
    }
    suite = ET.parse(project / "j.xml").getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    assert int(suite.get("failures")) == 4
    assert "<html" in (project / "r.html").read_text()


def test_unreadable_data_exits_2_and_stores_nothing(project: Path) -> None:
    (project / "bin.csv").write_bytes(b"\x00\x01\x02PK\x03\x04" * 50)
    code, _, err = run("validate", "bin.csv")
    assert code == 2
    assert "bin.csv" in err and "Traceback" not in err
    store = Store.open(project / ".mlops")
    assert store.list_artifacts() == []


def test_missing_schema_is_a_config_error(project: Path) -> None:
    (project / "mlops.yaml").write_text("project: demo\ndata:\n  train: train.csv\n")
    code, _, err = run("validate")
    assert code == 2
    assert "no `schema:`" in err and "--infer" in err


def _sample(path: Path, seed: int, start: int, n: int = 500) -> None:
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = [
        f"{start + i},{rng.integers(20, 80)},{rng.choice(['Paris', 'Lyon', 'Nice'])}"
        for i in range(n)
    ]
    path.write_text("id,age,city\n" + "\n".join(rows) + "\n")


def test_infer_then_validate_round_trip(project: Path) -> None:
    _sample(project / "train.csv", seed=1, start=0)
    code, _, _ = run("validate", "--infer", "train.csv", "-o", "schema.yaml")
    assert code == 0
    text = (project / "schema.yaml").read_text()
    assert "schema_version: 1" in text and "#" in text
    (project / "mlops.yaml").write_text(
        "project: demo\ndata:\n  train: train.csv\nschema: schema.yaml\n"
    )
    assert run("validate")[0] == 0
    _sample(project / "next.csv", seed=2, start=10_000)
    assert run("validate", "next.csv")[0] == 0
    (project / "fault.csv").write_text("id,age,city\n7,38,Atlantis\n")
    code, out, _ = run("validate", "fault.csv", "--json")
    assert code == 1
    assert [c["name"] for c in json.loads(out)["report"]["checks"] if not c["passed"]] == [
        "city.allowed"
    ]
