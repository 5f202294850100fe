"""``/`` search: the next event whose text or source line matches a regular expression, scanned in the loader's thread.

A search is the one request whose cost grows with the trace, so it runs in chunks and gives up as soon as a
newer request is waiting: a user who typed the wrong word and pressed an arrow key is never kept waiting.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..store import Trace
from .frame import describe

#: Events read between two checks for a newer request.
CHUNK = 2048


class Interrupted(Exception):
    """A newer request arrived while searching."""


def _source_text(trace: Trace, evs: list) -> dict[int, str]:
    """seq -> source line for the events of one chunk, read one line range per source file."""
    spans: dict[int, tuple[int, int]] = {}
    for ev in evs:
        if ev.src is not None:
            lo, hi = spans.get(ev.src.file, (ev.src.line, ev.src.line))
            spans[ev.src.file] = (min(lo, ev.src.line), max(hi, ev.src.line))
    lines = {f: trace.source_lines(lo, hi, f) for f, (lo, hi) in spans.items()}
    out = {}
    for ev in evs:
        if ev.src is not None:
            lo = spans[ev.src.file][0]
            got = lines[ev.src.file]
            if 0 <= ev.src.line - lo < len(got):
                out[ev.seq] = got[ev.src.line - lo]
    return out


def pattern_of(text: str) -> re.Pattern[str]:
    """``text`` as a case-ignoring regular expression, or, when it is not one (``a.out[``), as the literal text."""
    try:
        return re.compile(text, re.IGNORECASE)
    except re.error:
        return re.compile(re.escape(text), re.IGNORECASE)


def find_text(trace: Trace, text: str, origin: int, forward: bool, cancelled: Callable[[], bool]) -> int | None:
    """The first event after (or last before) ``origin`` whose description or source line matches ``text`` (a
    regular expression, case ignored; see ``pattern_of``); raises ``Interrupted`` when ``cancelled()`` turns true
    between chunks."""
    needle = pattern_of(text)
    n = len(trace)
    start = origin + 1 if forward else origin - 1
    while 0 <= start < n:
        lo, hi = (start, min(n, start + CHUNK)) if forward else (max(0, start - CHUNK + 1), start + 1)
        evs = list(trace.events(lo, hi))
        sources = _source_text(trace, evs)
        for ev in evs if forward else reversed(evs):
            if needle.search(describe(ev)) or needle.search(sources.get(ev.seq, "")):
                return ev.seq
        start = hi if forward else lo - 1
        if cancelled():
            raise Interrupted
    return None
