"""The explanation of one moment as the explain overlay lists it: plain rows built in the loader's thread.

Like ``frame``, no Textual here: the analysis runs (and reads the trace) off the UI loop, and every untrusted
string is made visible before it reaches a widget.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._util.safetext import visible
from ..analysis import TOPICS, Explanation, source_of
from ..store import Trace

#: Evidence lines shown under each finding (the CLI's ``explain`` lists them all).
EVIDENCE_SHOWN = 3


@dataclass(frozen=True)
class FindingRow:
    text: str
    inferred: bool
    evidence: tuple[str, ...]  # "seq 12  file:3  the source line", made visible
    seq: int | None  # where Enter jumps: the finding's first evidence


@dataclass(frozen=True)
class Findings:
    seq: int
    ts_ns: int | None
    topics: tuple[tuple[str, tuple[FindingRow, ...]], ...]  # (heading, rows) in TOPICS order


def findings(trace: Trace, ex: Explanation) -> Findings:
    names = [name for name, _ in trace.sources]
    topics = []
    for topic, heading in TOPICS.items():
        rows = []
        for f in (f for f in ex.findings if f.topic == topic):
            shown = []
            for e in f.evidence[:EVIDENCE_SHOWN]:
                shown.append(f"seq {e.seq}  {source_of(e, names)}" + (f"  {visible(e.text)}" if e.text else ""))
            if len(f.evidence) > EVIDENCE_SHOWN:
                shown.append(f"and {len(f.evidence) - EVIDENCE_SHOWN} more")
            rows.append(FindingRow(visible(f.text), f.inferred, tuple(shown),
                                   f.evidence[0].seq if f.evidence else None))
        if rows:
            topics.append((heading, tuple(rows)))
    return Findings(ex.seq, ex.ts_ns, tuple(topics))
