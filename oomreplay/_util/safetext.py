"""Untrusted text made safe to show: comm names, log lines and lock names come from the traced machine.

A comm can hold an ESC sequence that retitles the terminal or a NUL that truncates a line, or bidi controls that
make a terminal or an editor show the text in another order than it is (Trojan Source, CVE-2021-42574); every
view (CLI text, Markdown, the TUI) passes such strings through ``visible`` so they appear as what they are and do
nothing. Markdown outputs pass them through ``markdown_text`` too, so a comm like ``<img src=x onerror=…>`` or
``[x](javascript:…)`` reaches a review tool's renderer as text, not as a tag or a link.
"""

from __future__ import annotations

import re

#: C0 and C1 controls (tab and newline aside), the line and paragraph separators, and the bidi embeddings,
#: overrides, isolates and marks (U+061C, U+200E/F, U+202A-E, U+2066-9)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
#: what Markdown (CommonMark, GFM tables) or the HTML inside it could read as syntax mid-line: escaped with a
#: backslash, which CommonMark allows before any ASCII punctuation
_MARKDOWN = re.compile(r"[\\`*_\[\]<>&|~#!]")


def _escape(m: re.Match[str]) -> str:
    return f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}"


def visible(text: object) -> str:
    """``text`` with every control character (tabs aside) written as an escape such as ``\\x1b``."""
    s = str(text)
    return _CONTROL.sub(_escape, s) if _CONTROL.search(s) else s


def markdown_text(text: object) -> str:
    """``text`` from the traced machine as literal Markdown on one line: ``visible``, then every character Markdown
    or HTML could take for syntax escaped (tags, entities, links, emphasis, code, table pipes)."""
    return _MARKDOWN.sub(r"\\\g<0>", " ".join(visible(text).splitlines()))
