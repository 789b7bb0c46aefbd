from __future__ import annotations

import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pandas as pd

from mlops.data.schema import DatasetSchema
from mlops.data.validate import validate_frame
from mlops.report.junit import validation_junit
from mlops.report.validate_html import report_to_html

HOSTILE = "<script>alert('x')</script>&\"'"


def report():
    schema = DatasetSchema.model_validate(
        {
            "columns": {
                "x": {"dtype": "int", "min": 0},
                HOSTILE: {"dtype": "string", "allowed": ["a"]},
            }
        }
    )
    frame = pd.DataFrame({"x": [1, -2, 3], HOSTILE: ["a", HOSTILE, "a"]})
    return validate_frame(frame, schema)


def test_junit_has_one_testcase_per_check_and_failures() -> None:
    result = report()
    root = ET.fromstring(validation_junit(result))
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == len(result.checks)
    failed = [c for c in cases if c.find("failure") is not None]
    assert {c.get("name") for c in failed} == {"x.min", f"{HOSTILE}.allowed"}
    assert suite.get("failures") == "2"
    failure = failed[0].find("failure")
    assert failure is not None and "must" in (failure.get("message") or "")


def test_html_is_self_contained_and_escaped() -> None:
    page = report_to_html(report())
    assert "<script" not in page
    assert "&lt;script&gt;" in page
    assert "http://" not in page and "https://" not in page and "<link" not in page
    HTMLParser().feed(page)
    assert "FAILED" in page
