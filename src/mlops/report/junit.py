"""JUnit XML, which CI systems (GitHub Actions, GitLab, Jenkins) show as test results.

One writer, `junit_xml`; `validation_junit` and `gate_junit` turn results into its cases."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

from mlops.report.sanitise import printable


@dataclass
class Case:
    name: str
    classname: str
    passed: bool
    message: str = ""
    details: str = ""
    failure_type: str = "CheckFailed"
    output: str = ""  # shown as system-out (e.g. why a passing check passed)


def junit_xml(suite: str, cases: list[Case], properties: dict[str, Any] | None = None) -> bytes:
    """One <testsuite> of one <testcase> per check, inside <testsuites>. Every name and text
    goes through `printable`: XML 1.0 cannot hold most control characters."""
    failures = sum(not c.passed for c in cases)
    suite = printable(suite)
    root = ET.Element("testsuites", name=suite, tests=str(len(cases)), failures=str(failures))
    ts = ET.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(len(cases)),
        failures=str(failures),
        errors="0",
        skipped="0",
    )
    if properties:
        props = ET.SubElement(ts, "properties")
        for key, value in properties.items():
            ET.SubElement(props, "property", name=printable(key), value=printable(value))
    for c in cases:
        tc = ET.SubElement(
            ts, "testcase", name=printable(c.name), classname=printable(c.classname), time="0"
        )
        if not c.passed:
            f = ET.SubElement(
                tc, "failure", message=printable(c.message), type=printable(c.failure_type)
            )
            f.text = printable(c.details or c.message)
        elif c.output:
            ET.SubElement(tc, "system-out").text = printable(c.output)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def validation_junit(report: Any, suite: str = "mlops.validate") -> bytes:
    """A ValidationReport: one test case per check, failing rows and samples in the failure."""
    cases = []
    for check in report.checks:
        lines = [check.message, f"failing rows: {check.failing_rows}"]
        lines += [f"row {s.row}: {s.value!r}" for s in check.samples]
        cases.append(
            Case(
                name=check.name,
                classname=f"{suite}.{check.reason.value}",
                passed=check.passed,
                message=check.message,
                details="\n".join(lines),
                failure_type=check.reason.value,
            )
        )
    return junit_xml(suite, cases, {"n_rows": report.n_rows})


def gate_junit(result: dict[str, Any]) -> bytes:
    """An evaluation result (its to_dict()): one test case per gate rule."""
    cases = [
        Case(
            name=r["name"],
            classname=f"mlops.gate.{r['kind']}",
            passed=r["passed"],
            message=r["detail"],
            details=f"value {r['value']} bound {r['bound']}: {r['detail']}",
            failure_type=f"gate.{r['kind']}",
            output=r["detail"],
        )
        for r in result["rules"]
    ]
    props = {
        "model": result["model"]["label"],
        "model_id": result["model"]["id"],
        "data": result["data"]["source"],
        "rows": result["data"]["rows"],
    }
    return junit_xml(f"mlops.gate.{result['model']['name']}", cases, props)
