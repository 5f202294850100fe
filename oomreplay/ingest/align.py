"""Merging a kernel log and an ftrace recording of the same incident: one clock, each fact once.

The trace clock is not the printk clock (on the recorded machine it runs 23.6 ms ahead), so the offset between
them is estimated from facts both sources saw, in order of exactness:

- ``printk:console`` lines whose text is a line of the log (the same printk, stamped by both clocks);
- else kills (``mark_victim`` / the log's ``Killed process`` line for the same pid, microseconds apart in the
  kernel) and reaped outcomes (``finish_task_reaping`` / ``oom_reaper: reaped process``). An ``unable to reap``
  line is no anchor: it is printed a reaper sleep (100 ms) after the last attempt.

The offset is the median of the differences; the ftrace events are shifted onto the printk clock (the model's
clock is the kernel's since boot). Then a kill, victim mark, flag or reaper attempt / outcome that the log reports
for a pid the recording reports within ``WINDOW_NS`` is kept once: the ftrace event (more precise; fields only the
log knows, such as the memcg or the badness points, are copied onto it), and the log line stays as a ``log`` event.

Both inputs are converted to events in memory first (the offset can depend on the last line of either):
``MAX_EVENTS`` bounds that, beyond it ``convert`` stops with a clear error.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

from .. import _native
from ..model import Event
from .logrun import log_event
from .prefix import split_prefix

#: events held in memory, all merged inputs together, before ``convert`` gives up
MAX_EVENTS = 2_000_000
#: after alignment, a log fact this close to the same fact in the recording is the same fact
WINDOW_NS = 1_000_000_000
#: kinds that both sources can report for the same pid
_SHARED = ("oom_kill", "oom_victim", "flag_set", "flag_clear", "reaper_attempt", "reaper_done", "reaper_wake")


@dataclass
class Alignment:
    offset_ns: int | None   # added to the recording's times; None when nothing was shared
    anchors: int
    basis: str              # "console lines" or "kills/reaper outcomes"


def _text(line: str) -> str:
    return split_prefix(line).text.strip()


def console_texts(lines: dict[int, str]) -> list[tuple[int, str]]:
    """``(trace ts, message)`` of the ``printk:console`` lines among a recording's kept lines."""
    return [found for line in lines.values() if (found := _native.console_line(line)) is not None]


def estimate(log: list[Event], log_lines: dict[int, str], trace: list[Event],
             consoles: list[tuple[int, str]]) -> Alignment:
    """The offset that puts ``trace`` on ``log``'s clock."""
    deltas: list[int] = []
    if consoles:
        by_text: dict[str, list[int]] = defaultdict(list)
        for ev in log:
            if ev.src is not None and ev.src.line in log_lines:
                line = log_lines[ev.src.line]
                p = split_prefix(line)
                if p.mono_ns is not None:
                    by_text[p.text.strip()].append(p.mono_ns)
        for ts, payload in consoles:
            p = split_prefix(payload)
            if p.mono_ns is not None:  # the console line carries its own printk stamp: the exact anchor
                deltas.append(p.mono_ns - ts)
                continue
            stamps = sorted(set(by_text.get(p.text.strip(), ())))
            if len(stamps) == 1:  # a line that occurs once in the log: unambiguous
                deltas.append(stamps[0] - ts)
        if deltas:
            return Alignment(int(median(deltas)), len(deltas), "console lines")
    for kind, outcome in (("oom_kill", None), ("reaper_done", "reaped")):
        mine = _firsts(log, kind, outcome)
        theirs = _firsts(trace, kind, outcome)
        for pid, stamps in mine.items():
            for a, b in zip(stamps, theirs.get(pid, ())):
                deltas.append(a - b)
    if not deltas:
        return Alignment(None, 0, "nothing shared")
    return Alignment(int(median(deltas)), len(deltas), "kills/reaper outcomes")


def _firsts(events: list[Event], kind: str, outcome: str | None) -> dict[int, list[int]]:
    out: dict[int, list[int]] = defaultdict(list)
    for ev in events:
        if ev.kind == kind and ev.pid is not None and (outcome is None or ev.fields.get("outcome") == outcome):
            out[ev.pid].append(ev.ts_ns)
    return out


def shift(events: list[Event], offset_ns: int) -> None:
    """Moves ``events`` (in time order) by ``offset_ns``, never before 0."""
    for ev in events:
        ev.ts_ns = max(0, ev.ts_ns + offset_ns)


def _key(ev: Event) -> tuple:
    return ev.kind, ev.pid, ev.fields.get("flag")


def deduplicate(log: list[Event], log_lines: dict[int, str], traces: Sequence[list[Event]]) -> tuple[list[Event], int]:
    """``log`` less the facts the (aligned) recordings also report; returns the events kept and the number dropped.

    Each recording event stands for at most one log event, the nearest in time within ``WINDOW_NS``."""
    pool: dict[tuple, list[Event]] = defaultdict(list)
    for events in traces:
        for ev in events:
            if ev.kind in _SHARED and ev.pid is not None:
                pool[_key(ev)].append(ev)
    used: set[int] = set()
    out: list[Event] = []
    dropped = 0
    dropped_lines: set[int] = set()
    kept_lines: set[int] = set()
    for ev in log:
        twin = None
        if ev.kind in _SHARED and ev.pid is not None:
            best = WINDOW_NS + 1
            for cand in pool.get(_key(ev), ()):
                d = abs(cand.ts_ns - ev.ts_ns)
                if d < best and id(cand) not in used:
                    best, twin = d, cand
        if twin is None:
            out.append(ev)
            if ev.src is not None:
                kept_lines.add(ev.src.line)
            continue
        used.add(id(twin))
        dropped += 1
        for name, value in ev.fields.items():  # what only the log knew (points, memcg, constraint, …)
            if value is not None and twin.fields.get(name) is None:
                twin.fields[name] = value
        if ev.src is not None and ev.src.line not in dropped_lines and ev.src.line not in kept_lines:
            dropped_lines.add(ev.src.line)
            out.append(log_event(ev.ts_ns, _text(log_lines.get(ev.src.line, "")), ev.src))
    # a line may have kept a structured event too: then its extra log event is not needed
    out = [ev for ev in out if not (ev.kind == "log" and ev.src is not None and ev.src.line in dropped_lines
                                     and ev.src.line in kept_lines)]
    return out, dropped

