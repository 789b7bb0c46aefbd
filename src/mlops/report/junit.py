"""JUnit XML for the gate: one test case per rule, so CI systems show each verdict."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any


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
