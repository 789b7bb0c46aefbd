"""ValidationReport -> one self-contained HTML page (inline CSS, no scripts, every value escaped)."""

from __future__ import annotations

from html import escape

from mlops.data.results import CheckResult, ValidationReport

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1f24}
h1{font-size:1.4rem}.pass{color:#116329}.fail{color:#a40e26}
table{border-collapse:collapse;width:100%;margin:1rem 0}
th,td{border:1px solid #d0d7de;padding:.35rem .6rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}tr.failed td{background:#fff5f5}
code{font-family:ui-monospace,monospace}details{margin:.2rem 0}
"""


def report_to_html(report: ValidationReport, title: str = "Data validation report") -> str:
    verdict = "PASSED" if report.passed else "FAILED"
    css = "pass" if report.passed else "fail"
    rows = "\n".join(_row(check) for check in report.checks)
    summary = (
        f"{report.n_rows} rows, {len(report.columns)} columns, {len(report.checks)} checks, "
        f"{len(report.failures)} failed"
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{escape(title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>{escape(title)}: <span class="{css}">{verdict}</span></h1>
<p>{escape(summary)}</p>
<table>
<thead><tr><th>Check</th><th>Reason</th><th>Result</th><th>Failing rows</th><th>Message</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</body>
</html>
"""


def _row(check: CheckResult) -> str:
    status = '<span class="pass">pass</span>' if check.passed else '<span class="fail">fail</span>'
    samples = ""
    if check.samples:
        items = "".join(
            f"<tr><td>{s.row}</td><td>{escape(str(s.column))}</td>"
            f"<td><code>{escape(repr(s.value))}</code></td></tr>"
            for s in check.samples
        )
        samples = (
            f"<details><summary>{len(check.samples)} sample(s)</summary><table>"
            f"<tr><th>Row</th><th>Column</th><th>Value</th></tr>{items}</table></details>"
        )
    return (
        f'<tr class="{"passed" if check.passed else "failed"}">'
        f"<td><code>{escape(check.name)}</code></td><td>{escape(check.reason.value)}</td>"
        f"<td>{status}</td><td>{check.failing_rows}</td>"
        f"<td>{escape(check.message)}{samples}</td></tr>"
    )
