"""Writing TOML, which the standard library does not: strings escaped so that any text round-trips exactly
(quotes, backslashes, control characters, any Unicode), and the plain values and tables the notes sidecar and
the explorer's witness scenarios are made of."""

from __future__ import annotations

import math
import re
from typing import Any

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
#: What TOML forbids raw in a basic string: control characters (tab aside), DEL, and the two we escape by syntax.
_BASIC_UNSAFE = re.compile(r'["\\\x00-\x08\x0a-\x1f\x7f]')
#: In a multi-line basic string, newlines stay raw; backslashes, control characters and lone CRs are escaped.
_MULTI_UNSAFE = re.compile(r'[\\\x00-\x08\x0b-\x1f\x7f]')


def _escape(m: re.Match[str]) -> str:
    c = m.group()
    return _ESCAPES.get(c) or f"\\u{ord(c):04X}"


def basic(text: str) -> str:
    """A TOML basic string (``"..."``) holding ``text`` exactly."""
    return '"' + _BASIC_UNSAFE.sub(_escape, text) + '"'


def multiline(text: str) -> str:
    """A TOML multi-line basic string holding ``text`` exactly, readable as Markdown in the file: newlines stay
    newlines; a quote is escaped only where it would close the string (a third in a row, or the last character)."""
    body = _MULTI_UNSAFE.sub(_escape, text)
    out, run = [], 0
    for i, c in enumerate(body):
        if c == '"' and (run == 2 or i == len(body) - 1):
            out.append('\\"')
            run = 0
        else:
            out.append(c)
            run = run + 1 if c == '"' else 0
    # The newline right after the opening delimiter is dropped by TOML readers, so the text starts on its own line.
    return '"""\n' + "".join(out) + '"""'


def value(v: Any) -> str:
    """A TOML value: a string (multi-line when it holds a newline), an integer, a finite float, a bool, an array
    or an inline table of those."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"TOML has no {v}")
        return repr(v)
    if isinstance(v, str):
        return multiline(v) if "\n" in v else basic(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(value(x) for x in v) + "]"
    if isinstance(v, dict):
        # an inline table is one line: its strings are never multi-line
        return "{ " + ", ".join(f"{key(k)} = {basic(x) if isinstance(x, str) else value(x)}"
                                for k, x in v.items()) + " }"
    raise TypeError(f"no TOML for {type(v).__name__}")


_BARE = re.compile(r"[A-Za-z0-9_-]+")


def key(k: str) -> str:
    """A key, quoted unless it is bare."""
    return k if _BARE.fullmatch(k) else basic(k)


def table(header: str, items: dict[str, Any], array: bool = True) -> list[str]:
    """The lines of one ``[[header]]`` (``[header]``) table; None values are left out."""
    lines = [f"[[{header}]]" if array else f"[{header}]"]
    lines += [f"{key(k)} = {value(v)}" for k, v in items.items() if v is not None]
    return lines
