"""Output sanitising: column names and values from data never put a control character on the
terminal or into JUnit XML, and never a raw <script into HTML."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops.cli import output
from mlops.data.schema import ColumnSchema, DatasetSchema
from mlops.data.validate import validate_frame
from mlops.lifecycle.validate import ValidateResult
from mlops.report import validate_console
from mlops.report.junit import Case, junit_xml, validation_junit
from mlops.report.sanitise import SafeConsole, printable
from mlops.report.validate_html import report_to_html

CONTROLS = [chr(c) for c in range(0x20)] + ["\x7f", "\x9b", "\x85", "\u202e"]
SEQUENCES = ["\x1b]0;title\x07", "\x1b[2J", "\x1b[31m", "\x9b2J", "<script>alert(1)</script>"]
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]")
SGR = re.compile("\x1b\\[[0-9;]*m")

text = st.lists(
    st.one_of(st.sampled_from(CONTROLS), st.sampled_from(SEQUENCES), st.text(max_size=3)),
    min_size=1,
    max_size=6,
).map("".join)


def _report(name: str, value: str):  # type: ignore[no-untyped-def]
    schema = DatasetSchema(
        columns={name: ColumnSchema(dtype="string", allowed=["ok"])}, allow_extra_columns=False
    )
    frame = pd.DataFrame({name: [value, "ok"], name + "\x1b[2J!": ["x", "y"]})
    return validate_frame(frame, schema)


def _console(terminal: bool) -> tuple[SafeConsole, io.StringIO]:
    buf = io.StringIO()
    return SafeConsole(file=buf, force_terminal=terminal, width=100, highlight=False), buf


def test_printable_escapes_each_control_character():
    for c in CONTROLS:
        if c in "\n\t":
            assert printable(c) == c
        else:
            assert not UNSAFE.search(printable(c)) and printable(c).startswith("\\")
    assert printable("a\x1b]0;t\x07b") == "a\\x1b]0;t\\x07b"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=text, value=text)
def test_renderers_never_emit_control_characters(name, value):
    report = _report(name, value)
    assert not report.passed  # the data reaches the renderers: a failing check names it

    result = ValidateResult(report, paths=[f"{name}.csv"], schema_source=value, notes=[value])
    plain, buf = _console(terminal=False)
    validate_console.render(plain, result, show_passing=True)
    assert not UNSAFE.search(buf.getvalue())

    term, buf = _console(terminal=True)
    validate_console.render(term, result, show_passing=True)
    assert not UNSAFE.search(SGR.sub("", buf.getvalue()))  # only rich's own style codes

    xml = validation_junit(report)
    root = ET.fromstring(xml)  # parses: XML 1.0 holds no control characters
    assert root.find("testsuite") is not None
    case = junit_xml(name, [Case(name=name, classname=value, passed=False, message=value)])
    ET.fromstring(case)

    page = report_to_html(report)
    assert "<script" not in page.lower()


@settings(max_examples=30, deadline=None)
@given(message=text, hint=text)
def test_error_lines_escape_control_characters(message, hint):
    console, buf = _console(terminal=False)
    old = output._err
    output._err = console
    try:
        output.error_line(message, hint)
    finally:
        output._err = old
    assert not UNSAFE.search(buf.getvalue())
    assert buf.getvalue().startswith("error:")


def test_the_cli_consoles_are_safe():
    assert isinstance(output.out(), SafeConsole) and isinstance(output.err(), SafeConsole)
