"""Untrusted text made safe to show: comm names, log lines and lock names come from the traced machine.

A comm can hold an ESC sequence that retitles the terminal or a NUL that truncates a line; every view (CLI text,
Markdown, the TUI) passes such strings through ``visible`` so they appear as what they are and do nothing.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def _escape(m: re.Match[str]) -> str:
    return f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}"


def visible(text: object) -> str:
    """``text`` with every control character (tabs aside) written as an escape such as ``\\x1b``."""
    s = str(text)
    return _CONTROL.sub(_escape, s) if _CONTROL.search(s) else s
