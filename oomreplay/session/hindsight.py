"""Hindsight: lock holdings a lockdep dump prints *after* the moment they matter, shown at that moment as inferred.

The reaper prints "unable to reap" and only then the dump naming who holds the mm lock it needed, so stepping
through, the locks panel said "no lock held" exactly where the answer matters. A dump's holdings were taken at
some unknown time before the dump (that is what ``lock_held`` means), so at an earlier moment they are a
plausible inference, never a fact: every view says "known from the dump at seq N".

Speed: the dumps are found once per session (``dump_index``, in the loader's thread, reading only the
``lock_held`` change list and one bisect per dump), and each step then bisects for the next dump after the
cursor. Nothing per step grows with the trace; it grows with the one dump shown (``MAX_HELD``).
"""

from __future__ import annotations

from bisect import bisect_right
from typing import NamedTuple

from .._util.safetext import visible
from ..analysis.reaper import MM_LOCK
from ..model import KIND_NAMES, State
from ..store import Trace

#: Events that may sit inside a dump without ending it: the dump's own "N locks held by comm/pid" task lines
#: and lines with no structured meaning. Any other event between two ``lock_held`` starts another dump.
INSIDE_A_DUMP = ("lock_held", "task", "log")
ENDS_A_DUMP = tuple(k for k in KIND_NAMES if k not in INSIDE_A_DUMP)
#: Events past which hindsight stops: a later incident's dump says nothing about this one.
NEW_INCIDENT = ["oom_invoke", "oom_kill"]
#: Holdings kept per dump: a dump on a machine with thousands of tasks stays a bounded cost per step.
MAX_HELD = 512


class Held(NamedTuple):
    """One line of a dump: ``pid`` (``comm``) holds ``lock`` (or is queued for it: lockdep lists both)."""

    lock: str  # made visible
    pid: int
    comm: str  # made visible
    mode: str | None
    site: str | None  # made visible
    seq: int  # the lock_held event


class Dump(NamedTuple):
    """A run of ``lock_held`` events with nothing else in between (a lockdep "Showing all locks held")."""

    first: int
    last: int
    ts_ns: int
    held: tuple[Held, ...]


class Later(NamedTuple):
    """What the next dump after the cursor says that the state at the cursor does not: lock -> holdings, the
    mm locks (what the reaper needs) first, then by name."""

    dump: Dump
    ahead_ns: int  # how long after the cursor the dump was printed
    locks: tuple[tuple[str, tuple[Held, ...]], ...]

    def label(self) -> str:
        return f"known from the dump at seq {self.dump.first} (+{self.ahead_ns / 1e9:.3f} s), inferred"


def dump_index(trace: Trace) -> list[Dump]:
    """Every dump of the trace, in seq order: one pass over the ``lock_held`` events and a bisect per dump."""
    dumps: list[Dump] = []
    run: list[Held] = []
    first = last = ts = boundary = -1
    for ev in trace.events(kind="lock_held"):
        assert ev.seq is not None
        if last >= 0 and ev.seq > boundary:  # something else happened since the last line: a new dump
            dumps.append(Dump(first, last, ts, tuple(run)))
            run, last = [], -1
        if last < 0:
            first, ts = ev.seq, ev.ts_ns
            found = trace.next(ev.seq, kind=list(ENDS_A_DUMP))
            boundary = len(trace) if found is None else found
        last = ev.seq
        if len(run) < MAX_HELD:  # past it the dump goes on (``last`` follows) but its lines are not kept
            run.append(Held(visible(ev.get("lock") or "?"), ev.pid if ev.pid is not None else -1,
                            visible(ev.get("comm") or ""), ev.get("mode"), visible(ev.get("site") or "") or None,
                            ev.seq))
    if last >= 0:
        dumps.append(Dump(first, last, ts, tuple(run)))
    return dumps


class Hindsight:
    """The dumps of one trace and the per-step question "what will the next dump say that we do not know yet"."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.dumps = dump_index(trace)
        self._lasts = [d.last for d in self.dumps]

    def later(self, seq: int, state: State) -> Later | None:
        """The holdings of the first dump still to come after ``seq`` (its lines after ``seq``, if the cursor is
        inside it) that the state at ``seq`` lacks; None when no dump comes before the next OOM or kill."""
        at = bisect_right(self._lasts, seq)
        if at == len(self.dumps):
            return None
        dump = self.dumps[at]
        if dump.first > seq:
            cut = self.trace.next(seq, kind=NEW_INCIDENT)
            if cut is not None and cut < dump.first:
                return None
        known = {(visible(lk.name), h.pid) for lk in state.locks.values() for h in lk.holders}
        by_lock: dict[str, list[Held]] = {}
        for h in dump.held:
            if h.seq > seq and (h.lock, h.pid) not in known:
                by_lock.setdefault(h.lock, []).append(h)
        if not by_lock:
            return None
        order = sorted(by_lock, key=lambda name: (not MM_LOCK.search(name), name))
        ahead = dump.ts_ns - state.ts_ns if state.ts_ns is not None else 0
        return Later(dump, max(ahead, 0), tuple((name, tuple(by_lock[name])) for name in order))
