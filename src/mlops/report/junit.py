"""JUnit XML, which CI systems (GitHub Actions, GitLab, Jenkins) show as test results."""

from __future__ import annotations

import os
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path


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


def write_junit(path: Path, suite: str, cases: list[Case]) -> Path:
    return write_atomic(path, junit_xml(suite, cases))
