"""JUnit XML, which CI systems (GitHub Actions, GitLab, Jenkins) show as test results.

One writer, `junit_xml`; `validation_junit` and `gate_junit` turn results into its cases."""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
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
    seconds: float = 0.0  # the time the check took
    error: bool = False  # the command could not run the checks (<error>, not <failure>)


def junit_xml(
    suite: str,
    cases: list[Case],
    properties: dict[str, Any] | None = None,
    seconds: float | None = None,
) -> bytes:
    """One <testsuite> of one <testcase> per check, inside <testsuites>, with each case's time,
    the suite's timestamp (UTC) and hostname. Every name and text goes through `printable`:
    XML 1.0 cannot hold most control characters.

    Args:
        suite: the suite's name.
        cases: the test cases.
        properties: <property> entries of the suite.
        seconds: the suite's time (default: the sum of its cases').

    Returns:
        The XML document, UTF-8.
    """
    failures = sum(not c.passed and not c.error for c in cases)
    errors = sum(c.error for c in cases)
    total = sum(c.seconds for c in cases) if seconds is None else seconds
    suite = printable(suite)
    counts = {
        "name": suite,
        "tests": str(len(cases)),
        "failures": str(failures),
        "errors": str(errors),
        "time": _secs(total),
    }
    root = ET.Element("testsuites", counts)
    ts = ET.SubElement(
        root,
        "testsuite",
        {
            **counts,
            "skipped": "0",
            "timestamp": datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds"),
            "hostname": printable(socket.gethostname()),
        },
    )
    if properties:
        props = ET.SubElement(ts, "properties")
        for key, value in properties.items():
            ET.SubElement(props, "property", name=printable(key), value=printable(value))
    for c in cases:
        _case(ts, c)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _case(ts: ET.Element, c: Case) -> None:
    tc = ET.SubElement(
        ts,
        "testcase",
        name=printable(c.name),
        classname=printable(c.classname),
        time=_secs(c.seconds),
    )
    if not c.passed:
        f = ET.SubElement(
            tc,
            "error" if c.error else "failure",
            message=printable(c.message),
            type=printable(c.failure_type),
        )
        f.text = printable(c.details or c.message)
    elif c.output:
        ET.SubElement(tc, "system-out").text = printable(c.output)


def _secs(seconds: float) -> str:
    return f"{max(seconds, 0.0):.6f}"


def error_junit(
    suite: str, message: str, hint: str | None, exit_code: int, seconds: float
) -> bytes:
    """A suite of one errored case, for a command that stopped before its checks (exit 2 or 3):
    CI publishers then show the error instead of "no test results"."""
    details = message + (f"\nhint: {hint}" if hint else "") + f"\nexit code {exit_code}"
    case = Case(
        name=f"{suite} could not run",
        classname=suite,
        passed=False,
        message=message,
        details=details,
        failure_type=f"exit{exit_code}",
        seconds=seconds,
        error=True,
    )
    return junit_xml(suite, [case], {"exit_code": exit_code}, seconds)


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
                seconds=check.seconds,
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
            seconds=r.get("seconds") or 0.0,
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
