"""JUnit XML, which CI systems (GitHub Actions, GitLab, Jenkins) show as test results.

`junit_xml` is generic (one Case per check); `gate_junit` renders an evaluate gate result."""

from __future__ import annotations

import os
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Case:
    name: str
    classname: str
    passed: bool
    message: str = ""
    details: str = ""
    time_s: float = 0.0
    skipped: bool = False


def junit_xml(suite: str, cases: list[Case]) -> bytes:
    failures = sum(1 for c in cases if not c.passed and not c.skipped)
    skipped = sum(1 for c in cases if c.skipped)
    root = ET.Element("testsuites", name="mlops", tests=str(len(cases)), failures=str(failures))
    ts = ET.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(len(cases)),
        failures=str(failures),
        errors="0",
        skipped=str(skipped),
        time=f"{sum(c.time_s for c in cases):.3f}",
    )
    for c in cases:
        tc = ET.SubElement(
            ts, "testcase", name=c.name, classname=c.classname, time=f"{c.time_s:.3f}"
        )
        if c.skipped:
            ET.SubElement(tc, "skipped", message=c.message)
        elif not c.passed:
            f = ET.SubElement(tc, "failure", message=c.message, type="CheckFailed")
            f.text = c.details or c.message
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def write_atomic(path: Path, data: bytes) -> Path:
    """Write a report file whole or not at all."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def gate_junit(result: dict[str, Any]) -> bytes:
    rules = result["rules"]
    failures = sum(not r["passed"] for r in rules)
    suite = ET.Element(
        "testsuite",
        name=f"mlops.gate.{result['model']['name']}",
        tests=str(len(rules)),
        failures=str(failures),
        errors="0",
        skipped="0",
    )
    props = ET.SubElement(suite, "properties")
    for k, v in (
        ("model", result["model"]["label"]),
        ("model_id", result["model"]["id"]),
        ("data", result["data"]["source"]),
        ("rows", result["data"]["rows"]),
    ):
        ET.SubElement(props, "property", name=k, value=str(v))
    for r in rules:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"mlops.gate.{r['kind']}",
            name=r["name"],
            time="0",
        )
        if not r["passed"]:
            fail = ET.SubElement(case, "failure", message=r["detail"], type=f"gate.{r['kind']}")
            fail.text = f"value {r['value']} bound {r['bound']}: {r['detail']}"
        else:
            out = ET.SubElement(case, "system-out")
            out.text = r["detail"]
    root = ET.Element("testsuites", tests=str(len(rules)), failures=str(failures))
    root.append(suite)
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")
