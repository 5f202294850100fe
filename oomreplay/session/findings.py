"""The explanation of one moment as the explain overlay lists it: plain rows built in the loader's thread.

Like ``frame``, no Textual here: the analysis runs (and reads the trace) off the UI loop, and every untrusted
string is made visible before it reaches a widget.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._util.safetext import visible
from ..analysis import TOPICS, Explanation, cite, source_of
from ..store import Trace
from .hindsight import MM_LOCK, Later

#: Evidence lines shown under each finding (the CLI's ``explain`` lists them all).
EVIDENCE_SHOWN = 3
#: The heading of what a later lock dump says (``hindsight``), listed after the reaper.
LATER_HEADING = "Known from a later lock dump"


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


def findings(trace: Trace, ex: Explanation, later: Later | None = None) -> Findings:
    """The explanation's findings by topic; with ``later``, what the next lock dump says of this moment, after
    the reaper's topic (the reader asking why the reaper failed reads the answer next)."""
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
        if topic == "reaper" and later is not None:
            topics.append((LATER_HEADING, _later_rows(trace, later, names)))
    return Findings(ex.seq, ex.ts_ns, tuple(topics))


def _later_rows(trace: Trace, later: Later, names: list[str]) -> tuple[FindingRow, ...]:
    """A row per mm lock the dump names (the reaper's question), then one for the other locks it lists."""
    rows = []
    others = 0
    for name, held in later.locks:
        if not MM_LOCK.search(name):
            others += 1
            continue
        who = ", ".join(f"{h.pid} ({h.comm})" if h.comm else str(h.pid) for h in held)
        shown = []
        for h in held[:EVIDENCE_SHOWN]:
            e = cite(trace, trace.event(h.seq), True)
            shown.append(f"seq {e.seq}  {source_of(e, names)}" + (f"  {visible(e.text)}" if e.text else ""))
        if len(held) > EVIDENCE_SHOWN:
            shown.append(f"and {len(held) - EVIDENCE_SHOWN} more")
        rows.append(FindingRow(f"{name}: held (or queued for) by {who}, {later.label()}: a dump does not say "
                               "since when, so at this moment it may not be held yet", True, tuple(shown),
                               held[0].seq))
    if others:
        rows.append(FindingRow(f"and {others} other lock{'s' if others != 1 else ''} in that dump (the locks panel "
                               "lists them)", True, (), later.dump.first))
    return tuple(rows)
