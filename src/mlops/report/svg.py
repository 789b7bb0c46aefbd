"""A small SVG canvas for the report charts: one plot area with linear axes, ticks, rotated
category labels, a title and a legend. Plain string building; every text is XML-escaped."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

WIDTH, HEIGHT = 420, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 410, 26, 196  # the plot area, in SVG units
_FONT = 'font-family="Helvetica,Arial,sans-serif"'


def esc(value: object) -> str:
    """Text safe inside an SVG element or attribute (quotes included)."""
    return html.escape(str(value), quote=True)


def num(v: float) -> str:
    """A coordinate, short (two decimals are finer than a pixel)."""
    return f"{v:.2f}".rstrip("0").rstrip(".")


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick values (steps of 1, 2 or 5 times a power of ten) covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9)
    last = math.floor(hi / step + 1e-9)
    return [round(i * step, 12) for i in range(first, last + 1)]


def tick_label(v: float) -> str:
    return f"{v:.4g}" if v != 0 else "0"


class Chart:
    """One chart: data coordinates mapped onto the plot area; `render` closes the SVG."""

    def __init__(self, title: str, x: tuple[float, float], y: tuple[float, float]) -> None:
        self.title = title
        self.x0, self.x1 = x if x[1] > x[0] else (x[0] - 0.5, x[0] + 0.5)
        self.y0, self.y1 = y if y[1] > y[0] else (y[0] - 0.5, y[0] + 0.5)
        self.parts: list[str] = []

    def px(self, x: float) -> float:
        return LEFT + (x - self.x0) / (self.x1 - self.x0) * (RIGHT - LEFT)

    def py(self, y: float) -> float:
        return BOTTOM - (y - self.y0) / (self.y1 - self.y0) * (BOTTOM - TOP)

    def add(self, markup: str) -> None:
        self.parts.append(markup)

    def rect(self, x: float, y: float, w: float, h: float, fill: str, cls: str, op: float) -> None:
        """A bar from data x..x+w, 0..h above y (data units)."""
        left, right = self.px(x), self.px(x + w)
        top, base = self.py(y + h), self.py(y)
        self.add(
            f'<rect class="{cls}" x="{num(left)}" y="{num(top)}" width="{num(right - left)}" '
            f'height="{num(base - top)}" fill="{fill}" fill-opacity="{op}"/>'
        )

    def y_axis(self, label: str = "") -> None:
        """Horizontal grid lines at round values with their labels on the left."""
        for t in nice_ticks(self.y0, self.y1):
            y = num(self.py(t))
            self.add(f'<line x1="{LEFT}" x2="{RIGHT}" y1="{y}" y2="{y}" stroke="#e3e6ee"/>')
            self.add(
                f'<text x="{LEFT - 4}" y="{y}" dy="3" font-size="9" text-anchor="end">'
                f"{esc(tick_label(t))}</text>"
            )
        if label:
            mid = num((TOP + BOTTOM) / 2)
            self.add(
                f'<text x="11" y="{mid}" font-size="9" text-anchor="middle" '
                f'transform="rotate(-90 11 {mid})">{esc(label)}</text>'
            )

    def x_ticks(self) -> None:
        """Round values along the x axis (a numeric x)."""
        for t in nice_ticks(self.x0, self.x1, 6):
            x = num(self.px(t))
            self.add(f'<line x1="{x}" x2="{x}" y1="{BOTTOM}" y2="{BOTTOM + 4}" stroke="#667"/>')
            self.add(
                f'<text x="{x}" y="{BOTTOM + 14}" font-size="9" text-anchor="middle">'
                f"{esc(tick_label(t))}</text>"
            )

    def x_labels(self, labels: Sequence[str], xs: Sequence[float], limit: int) -> None:
        """Category or run labels under their x, rotated 45 degrees, cut to `limit` chars."""
        for lab, xv in zip(labels, xs, strict=True):
            text = str(lab)
            short = text if len(text) <= limit else text[: limit - 1] + "\u2026"
            x, y = num(self.px(xv)), num(BOTTOM + 10)
            self.add(
                f'<text x="{x}" y="{y}" font-size="9" text-anchor="end" '
                f'transform="rotate(-45 {x} {y})"><title>{esc(text)}</title>{esc(short)}</text>'
            )

    def legend(self, entries: Sequence[tuple[str, str, str]]) -> None:
        """(label, colour, 'box' or 'dash') entries stacked at the top right of the plot, on a
        white backing so a line drawn under them does not run through the text."""
        self.add(
            f'<rect x="{RIGHT - 101}" y="{TOP + 1}" width="99" height="{13 * len(entries) + 2}" '
            'fill="#fff" fill-opacity="0.85"/>'
        )
        for i, (label, colour, mark) in enumerate(entries):
            y = TOP + 8 + 13 * i
            if mark == "dash":
                sym = (
                    f'<line x1="{RIGHT - 98}" x2="{RIGHT - 84}" y1="{y}" y2="{y}" '
                    f'stroke="{colour}" stroke-dasharray="4 3"/>'
                )
            else:
                sym = (
                    f'<rect x="{RIGHT - 96}" y="{y - 5}" width="10" height="10" '
                    f'fill="{colour}" fill-opacity="0.7"/>'
                )
            self.add(
                f'<g class="legend">{sym}<text x="{RIGHT - 80}" y="{y}" dy="3" font-size="9">'
                f"{esc(label)}</text></g>"
            )

    def render(self) -> str:
        frame = (
            f'<line x1="{LEFT}" x2="{RIGHT}" y1="{BOTTOM}" y2="{BOTTOM}" stroke="#667"/>'
            f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{BOTTOM}" stroke="#667"/>'
        )
        title = (
            f'<text x="{num((LEFT + RIGHT) / 2)}" y="15" font-size="11" font-weight="600" '
            f'text-anchor="middle">{esc(self.title)}</text>'
        )
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
            f'role="img" aria-label="{esc(self.title)}" {_FONT} fill="#1d2430">'
            f"<title>{esc(self.title)}</title>{title}{''.join(self.parts)}{frame}</svg>"
        )
