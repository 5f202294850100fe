"""The chapters of an incident's story: the moments a presenter walks an audience through.

One rule for every view that tells the story (``oomreplay story``, presentation mode): the reviewer's own marks
from the notes sidecar; if there are none, the marks written into the trace (a scenario's steps); if none either,
the key moments any OOM review starts from: each OOM invocation, each kill, each OOM that ended without one (no
killable task, a panic) and each reaper outcome.
"""

from __future__ import annotations

from itertools import islice
from typing import NamedTuple

from ..store import Trace
from .notes import Mark, Notes

#: Kinds that make a chapter when nobody marked anything.
KEY_KINDS = ("oom_invoke", "oom_kill", "oom_end", "reaper_done")
#: Chapters taken from the trace's events at most: a story is told in tens of them, and a synthetic trace with
#: thousands of kills would otherwise be read whole before the replay shows its first frame.
MAX_CHAPTERS = 100


class Chapter(NamedTuple):
    """One moment of the story. ``title`` and ``note`` may hold text from the traced machine (comms): escape them
    for the medium (``safetext.visible``, HTML escaping, ``markup=False``). ``origin``: ``notes``, ``trace`` or
    ``key moment``."""

    title: str
    note: str
    seq: int
    ts_ns: int
    kind: str
    pid: int | None
    fields: dict
    origin: str


def chapters(trace: Trace, notes: Notes | None) -> tuple[list[Chapter], list[Mark]]:
    """The chapters in seq order, and the sidecar marks whose event is no longer in the trace (to report)."""
    if notes is not None and notes.marks:
        found, missing = [], []
        for mark, seq in notes.resolve(trace):
            if seq is None:
                missing.append(mark)
            else:
                found.append(_chapter(trace, seq, mark.title, mark.note, "notes"))
        if found:
            return found, missing
        gone = missing
    else:
        gone = []
    marked = [_chapter(trace, ev.seq, str(ev.get("title", "")), str(ev.get("note") or ""), "trace")
              for ev in islice(trace.events(kind="mark"), MAX_CHAPTERS)]
    if marked:
        return marked, gone
    key = [_chapter(trace, ev.seq, key_title(ev.kind, ev.pid, ev.fields), "", "key moment")
           for ev in islice(trace.events(kind=list(KEY_KINDS)), MAX_CHAPTERS)]
    return key, gone


def _chapter(trace: Trace, seq: int, title: str, note: str, origin: str) -> Chapter:
    ev = trace.event(seq)
    return Chapter(title, note, seq, ev.ts_ns, ev.kind, ev.pid, dict(ev.fields), origin)


def key_title(kind: str, pid: int | None, fields: dict) -> str:
    """A title for a key moment, in the words of an OOM review."""
    who = f"{fields.get('comm') or 'pid'} ({pid})" if pid is not None else str(fields.get("comm") or "a task")
    if kind == "oom_invoke":
        order = fields.get("order")
        return f"{who} invokes the OOM killer" + ("" if order is None else f" (order {order})")
    if kind == "oom_kill":
        return f"The OOM killer kills {who}"
    if kind == "oom_end":
        why = {"no_killable": "no killable task", "deadlocked": "the system is deadlocked on memory",
               "panic_on_oom": "panic_on_oom is set", "panic_on_oom_compulsory": "panic_on_oom=2 (compulsory)"}
        reason = why.get(str(fields.get("reason")), str(fields.get("reason") or "no reason given"))
        if fields.get("outcome") == "panic":
            return f"The kernel panics: {reason}"
        return f"The OOM killer finds nothing to kill: {reason}"
    if kind == "reaper_done":
        outcome = fields.get("outcome")
        if outcome == "reaped":
            return f"The oom_reaper reaps {who}"
        if outcome == "unable":
            return f"The oom_reaper gives up on {who}"
        return f"The oom_reaper is done with {who}"
    return f"{kind} {who}"
