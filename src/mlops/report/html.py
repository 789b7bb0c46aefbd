"""Self-contained HTML pages: inline CSS, charts as inline SVG, every value escaped."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2430;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #dde;padding-bottom:.3rem}
.sub{color:#667;margin-top:0}table{border-collapse:collapse;width:100%;margin:.6rem 0;font-size:.9rem}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #eef}th{background:#f5f6fa}
.pass{color:#137333;font-weight:600}.fail{color:#b3261e;font-weight:600}.warn{color:#a15c00;font-weight:600}
.badge{display:inline-block;padding:.2rem .6rem;border-radius:1rem;font-weight:600}
.badge.pass{background:#e6f4ea}.badge.fail{background:#fce8e6}.badge.warn{background:#fef7e0}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:1rem}
figure{margin:0}figcaption{font-size:.85rem;color:#445}figure svg{width:100%;height:auto;display:block}
code{background:#f5f6fa;padding:0 .3rem;border-radius:3px}
"""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


class Page:
    def __init__(self, title: str, subtitle: str = "") -> None:
        self.title = title
        self.parts: list[str] = [f"<h1>{esc(title)}</h1>"]
        if subtitle:
            self.parts.append(f'<p class="sub">{esc(subtitle)}</p>')

    def heading(self, text: str) -> None:
        self.parts.append(f"<h2>{esc(text)}</h2>")

    def paragraph(self, text: str, css: str = "") -> None:
        cls = f' class="{esc(css)}"' if css else ""
        self.parts.append(f"<p{cls}>{esc(text)}</p>")

    def badge(self, text: str, status: str) -> None:
        self.parts.append(f'<p><span class="badge {esc(status)}">{esc(text)}</span></p>')

    def table(
        self, headers: Sequence[str], rows: Iterable[Sequence[Any]], status_col: int | None = None
    ) -> None:
        out = [
            "<table><thead><tr>",
            *(f"<th>{esc(h)}</th>" for h in headers),
            "</tr></thead><tbody>",
        ]
        for row in rows:
            out.append("<tr>")
            for i, cell in enumerate(row):
                cls = ""
                if i == status_col:
                    s = str(cell).lower()
                    cls = (
                        ' class="pass"'
                        if s in ("pass", "passed", "ok")
                        else (
                            ' class="warn"'
                            if s in ("warning", "warn", "skipped")
                            else ' class="fail"'
                        )
                    )
                out.append(f"<td{cls}>{esc(cell)}</td>")
            out.append("</tr>")
        out.append("</tbody></table>")
        self.parts.append("".join(out))

    def figures(self, figures: Iterable[tuple[str, str]]) -> None:
        """(caption, SVG markup) pairs in a grid. The SVG is inserted as is: it must come from
        `mlops.report.plots`, which escapes every text it draws."""
        items = [
            f"<figure>{svg}<figcaption>{esc(cap)}</figcaption></figure>" for cap, svg in figures
        ]
        if items:
            self.parts.append('<div class="grid">' + "".join(items) + "</div>")

    def render(self) -> str:
        body = "\n".join(self.parts)
        return (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width"><title>{esc(self.title)}</title>'
            f"<style>{_CSS}</style></head><body>{body}</body></html>"
        )
