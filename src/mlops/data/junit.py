"""ValidationReport -> JUnit XML: one test case per check, so CI lists every check."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from mlops.data.results import ValidationReport


def report_to_junit(report: ValidationReport, suite_name: str = "mlops.validate") -> str:
    suite = ET.Element(
        "testsuite",
        {
            "name": suite_name,
            "tests": str(len(report.checks)),
            "failures": str(len(report.failures)),
            "errors": "0",
            "skipped": "0",
        },
    )
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", {"name": "n_rows", "value": str(report.n_rows)})
    for check in report.checks:
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": f"{suite_name}.{check.reason.value}", "name": check.name},
        )
        if not check.passed:
            failure = ET.SubElement(
                case, "failure", {"message": check.message, "type": check.reason.value}
            )
            lines = [check.message, f"failing rows: {check.failing_rows}"]
            lines += [f"row {s.row}: {s.value!r}" for s in check.samples]
            failure.text = "\n".join(lines)
    suites = ET.Element("testsuites", {"name": suite_name})
    suites.append(suite)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
