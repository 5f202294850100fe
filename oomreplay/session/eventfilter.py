"""The event list's filter (lnav's filters, ``trace-cmd report -F``): events by kind, pid, comm, CPU and a regular
expression, and the hits of ``/`` search counted for "hit k of n".

A filter is one line the user types: ``kind:oom_kill,reaper_attempt pid:3163 comm:a.out cpu:1`` and any other
words, a regular expression (case ignored) over the event's description and its source line. The scan reads
the trace in chunks through the store's own iteration (the kinds and pid narrowed by its change lists when no
comm is asked for) and checks ``cancelled`` between chunks, so the thread running it gives up at once when the
user types on. It runs in a thread of its own with its own trace handle, never on the UI loop nor in the
loader's thread, so stepping stays instant while a big trace is filtered.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from .._util.safetext import visible
from ..model import KINDS, Event
from ..store import Trace
from .frame import describe
from .search import CHUNK, Interrupted, _source_text

#: The CPU column of an ftrace line (``comm-pid [(tgid)] [cpu] flags ts:``); kernel log lines have none.
CPU_COLUMN = re.compile(r"-\d+\s+(?:\(\s*[\d-]+\)\s+)?\[(\d{1,4})\]\s")
#: Rows described for the list at most, around the cursor (the count covers every match).
MAX_ROWS = 400
KEYS = ("kind", "pid", "comm", "cpu")


class FilterError(ValueError):
    """A filter that cannot be read: the message says which word and why."""


@dataclass(frozen=True)
class EventFilter:
    kinds: tuple[str, ...] = ()
    pid: int | None = None
    comm: str | None = None
    cpu: int | None = None
    pattern: re.Pattern[str] | None = None

    def matches(self, ev: Event, comm: str | None, source: str | None) -> bool:
        if self.kinds and ev.kind not in self.kinds:
            return False
        if self.pid is not None and ev.pid != self.pid:
            return False
        if self.comm is not None and (comm or "").casefold() != self.comm.casefold():
            return False
        if self.cpu is not None:
            found = CPU_COLUMN.search(source or "")
            if found is None or int(found.group(1)) != self.cpu:
                return False
        if self.pattern is not None:
            return bool(self.pattern.search(describe(ev)) or (source and self.pattern.search(source)))
        return True


def compile_pattern(text: str) -> re.Pattern[str]:
    """``text`` as a case-ignoring regular expression; raises ``FilterError`` saying what is wrong with it."""
    try:
        return re.compile(text, re.IGNORECASE)
    except re.error as e:
        raise FilterError(f"not a regular expression: {visible(text)!r} ({e})") from None


def parse_filter(text: str) -> EventFilter:
    """``kind:A,B pid:N comm:NAME cpu:N`` and a regular expression made of the other words."""
    fields: dict[str, object] = {}
    rest = []
    for word in text.split():
        key, colon, value = word.partition(":")
        if not colon or key not in KEYS:
            rest.append(word)
            continue
        if key == "kind":
            kinds = tuple(k for k in value.split(",") if k)
            unknown = [k for k in kinds if k not in KINDS]
            if unknown:
                raise FilterError(f"no event kind {visible(unknown[0])!r} (kinds: {', '.join(KINDS)})")
            fields["kinds"] = kinds
        elif key in ("pid", "cpu"):
            try:
                fields[key] = int(value)
            except ValueError:
                raise FilterError(f"{key}: wants a number, not {visible(value)!r}") from None
        else:
            fields["comm"] = value
    if rest:
        fields["pattern"] = compile_pattern(" ".join(rest))
    return EventFilter(**fields)  # type: ignore[arg-type]


class Matches(NamedTuple):
    seqs: list[int]  # every matching event, in order
    first: int  # the index in ``seqs`` of the first row described
    rows: list[tuple[int, str]]  # (seq, the event described) for up to MAX_ROWS matches around the origin


def filter_events(trace: Trace, f: EventFilter, origin: int, cancelled: Callable[[], bool],
                  rows: int = MAX_ROWS) -> Matches:
    """Every event ``f`` matches, and ``rows`` of them described around ``origin``; raises ``Interrupted``."""
    narrow = f.comm is None  # a comm is learnt from the task events, which a narrowed read would skip
    kind = (list(f.kinds) or None) if narrow else None
    pid = f.pid if narrow else None
    need_source = f.pattern is not None or f.cpu is not None
    comms: dict[int, str] = {}
    seqs: list[int] = []
    n = len(trace)
    for lo in range(0, n, CHUNK):
        evs = list(trace.events(lo, min(n, lo + CHUNK), kind=kind, pid=pid))
        sources = _source_text(trace, evs) if need_source else {}
        for ev in evs:
            comm = ev.get("comm") if ev.kind != "log" else None
            if comm and ev.pid is not None:
                comms[ev.pid] = comm
            if f.matches(ev, comms.get(ev.pid) if ev.pid is not None else None, sources.get(ev.seq)):
                seqs.append(ev.seq)  # type: ignore[arg-type]
        if cancelled():
            raise Interrupted
    at = bisect_left(seqs, origin)
    first = max(0, min(at - rows // 2, len(seqs) - rows))
    described = [(seq, describe(trace.event(seq))) for seq in seqs[first:first + rows]]
    return Matches(seqs, first, described)
