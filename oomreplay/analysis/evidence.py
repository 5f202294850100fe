"""What every claim of an analysis points at: the event (seq) and the source line it came from.

A reader of an explanation must be able to check each sentence against the log, so analyses never state a fact
without an ``Evidence``; ``inferred`` says the converter deduced it (a flag implied by a kill, a holding seen
only in a lockdep dump) rather than read it.
"""

from __future__ import annotations

from typing import NamedTuple

from .._util.safetext import visible
from ..model import Event
from ..store import Trace


class Evidence(NamedTuple):
    seq: int
    ts_ns: int
    kind: str
    file: int | None  # source file id, as in ``trace.sources``
    line: int | None  # 1-based line in that file
    text: str | None  # the source line itself, untrusted (print through ``safetext.visible``)
    inferred: bool


def cite(trace: Trace, ev: Event, inferred: bool | None = None) -> Evidence:
    """The evidence for ``ev``: its seq and its source line; inferred when the event says any field is."""
    text = None
    if ev.src is not None:
        lines = trace.source_lines(ev.src.line, ev.src.line, ev.src.file)
        text = lines[0] if lines else None
    assert ev.seq is not None, "only stored events can be cited"
    return Evidence(ev.seq, ev.ts_ns, ev.kind, ev.src.file if ev.src else None, ev.src.line if ev.src else None,
                    text, bool(ev.inferred) if inferred is None else inferred)




def source_of(e: Evidence, names: list[str]) -> str:
    """``file:line`` of the evidence's source line (file names as ``trace.sources`` gives them), or ``-``."""
    return f"{visible(names[e.file])}:{e.line}" if e.file is not None and 0 <= e.file < len(names) else "-"
