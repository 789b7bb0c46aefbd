"""User data made safe to show: control characters become visible escapes.

Column names, values, paths and messages come from data files and configs. Written raw, a
terminal runs their escape sequences (`\\x1b]0;title\\x07` sets the window title, `\\x1b[2J`
clears the screen) and XML 1.0 refuses most of them outright. `printable` replaces every C0
control but newline and tab, DEL, every C1 control (`\\x9b` is a one-byte CSI), the Unicode
bidirectional overrides, surrogates and the non-characters U+FFFE/U+FFFF with a `\\xNN` or
`\\uNNNN` escape. It is the one helper every renderer uses: `SafeConsole` (rich output),
`junit.py` (XML) and the CLI's error lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.segment import Segment
from rich.text import Text

_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
    "\ud800-\udfff\ufffe\uffff]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: Any) -> str:
    """str(text) with control characters (all but newline and tab) written as escapes."""
    return _UNSAFE.sub(_escape, str(text))


def printable_line(text: Any) -> str:
    """printable, with newlines and tabs escaped too: for one-line fields."""
    return printable(text).replace("\n", "\\n").replace("\t", "\\t")


class SafeConsole(Console):
    """A rich Console that never writes a control character it did not produce itself.

    Strings are made printable before rich lays them out (so tables keep their widths); the
    final segments are checked again, so text passed as rich `Text` objects is covered too.
    Rich's own control segments (cursor moves, styles) are left alone."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(printable(text), **kwargs)

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        safe = (s if s.control else Segment(printable(s.text), s.style) for s in buffer)
        return super()._render_buffer(safe)
