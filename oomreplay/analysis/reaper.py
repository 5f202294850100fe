"""Why the OOM reaper could not reap a victim: its attempts, the lock it needed, and who had that lock.

The reaper needs the victim mm's ``mmap_lock`` (``mmap_sem`` before 5.8) for read and only try-locks it, up to
ten times (kernel-formats.md §1.9); it fails while anyone holds the lock for write or a writer is queued. So the
answer is the tasks holding or queued on that lock when the reaper tried. How sure we can be depends on what the
trace recorded:

* ``high``: lock events name the victim's mm;
* ``low``: only a lock of that name (a lockdep dump prints ``&mm->mmap_sem`` without saying whose mm) — and a
  lockdep dump lists queued tasks among the holders, so each "holder" there is "holder or queued";
* ``guess``: no lock events at all; the tasks the victim forked or that share its tgid, blocked in D state,
  are the only suspects.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ..model import Lock, State, Victim
from ..store import Trace
from .evidence import Evidence, cite

#: Both spellings of the mm lock, as lockdep and the mmap_lock tracepoints print them.
MM_LOCK = re.compile(r"mmap_(sem|lock)\b")


class Suspect(NamedTuple):
    """A task holding or queued on the victim's mm lock (or, at ``guess``, merely blocked near it)."""

    pid: int
    comm: str | None
    role: str  # "holder", "holder or queued" (lockdep), "waiter", "blocked"
    mode: str | None
    state: str | None  # the task's state letter then
    site: str | None  # where it took or waits for the lock, or its last known call site
    lock: str | None
    evidence: tuple[Evidence, ...]


class ReaperFailure(NamedTuple):
    victim: int
    comm: str | None
    mm: int | None
    attempts: tuple[Evidence, ...]  # every reaper_attempt event, in order
    done: Evidence | None  # the reaper_done ("unable") event, when logged
    lock: str | None  # the lock name the evidence shows (mmap_sem / mmap_lock), None without lock events
    confidence: str  # "high", "low", "guess"
    evidence_seq: int  # the state the suspects are read from
    suspects: tuple[Suspect, ...]


def unreaped(state: State) -> list[Victim]:
    """Victims the reaper tried and did not reap: it said "unable", or every attempt it made failed."""
    return [v for v in state.victims.values()
            if v.outcome == "unable" or (v.outcome is None and v.attempts and "reaped" not in v.attempts)]


def mm_locks(state: State, victim: Victim) -> tuple[list[Lock], str]:
    """The held or awaited locks that may be the victim's mm lock, and how sure that is: ``high`` when lock events
    name its mm, ``low`` for locks of that name whose mm is unknown (a lockdep dump)."""
    locks = [lk for lk in state.locks.values() if MM_LOCK.search(lk.name)]
    mine = [lk for lk in locks if lk.mm is not None and lk.mm == victim.mm]
    if mine:
        return mine, "high"
    return [lk for lk in locks if lk.mm is None], "low"


def why_unreaped(trace: Trace, victim: Victim, until: int) -> ReaperFailure:
    """Explain one victim at seq ``until``; a lock dump printed right after the last attempt counts too."""
    attempts = tuple(cite(trace, ev) for ev in trace.events(0, until + 1, kind="reaper_attempt", pid=victim.pid)
                     if ev.seq is not None and (victim.killed_seq is None or ev.seq > victim.killed_seq))
    done = None
    if victim.done_seq is not None and victim.done_seq <= until:
        done = cite(trace, trace.event(victim.done_seq))
    last = max([a.seq for a in attempts] + ([done.seq] if done else []), default=until)
    at = _dump_after(trace, last, until)
    state = trace.state_at(at)
    chosen, confidence = mm_locks(state, victim)
    suspects = [s for lk in chosen for s in _on_lock(trace, state, lk)]
    if not suspects:
        confidence = "guess"
        suspects = _blocked_near(trace, state, victim, at)
    return ReaperFailure(victim.pid, victim.comm, victim.mm, attempts, done,
                         chosen[0].name if chosen else None, confidence, at, tuple(suspects))


def _dump_after(trace: Trace, last: int, until: int) -> int:
    """The seq of the last ``lock_held`` of a dump that follows ``last`` with no kill in between, else ``last``.

    The reaper prints "unable to reap" and then the lock dump (4.6–4.19) or the victim's stack; the dump's
    lines are the only evidence of who held the lock, so the state is read after them.
    """
    end = trace.next(last, kind=["oom_kill", "oom_invoke"])
    stop = until + 1 if end is None else min(end, until + 1)
    seq = trace.next(last, kind="lock_held")
    found = last
    while seq is not None and seq < stop:
        found = seq
        seq = trace.next(seq, kind="lock_held")
    return found


def _on_lock(trace: Trace, state: State, lk: Lock) -> list[Suspect]:
    out = []
    for role, people in (("holder", lk.holders), ("waiter", lk.waiters)):
        for h in people:
            t = state.tasks.get(h.pid)
            ev = cite(trace, trace.event(h.since), h.inferred) if h.since is not None and h.since >= 0 else None
            name = "holder or queued" if role == "holder" and h.inferred else role
            out.append(Suspect(h.pid, t.comm if t else None, name, h.mode, t.state if t else None,
                               h.site or (t.site if t else None), lk.name, (ev,) if ev else ()))
    return out


def _blocked_near(trace: Trace, state: State, victim: Victim, at: int) -> list[Suspect]:
    """Without lock events: the victim's threads or children (by tgid or fork) that are in D state at ``at``."""
    family = {t.pid for t in state.tasks.values() if victim.mm is not None and t.tgid == victim.mm}
    family.add(victim.pid)
    for ev in trace.events(0, at + 1, kind="fork"):
        if ev.pid in family and ev.get("child") is not None:
            family.add(ev.get("child"))
    out = []
    for pid in sorted(family):
        t = state.tasks.get(pid)
        if t is None or t.state != "D":
            continue
        last = trace.prev(at + 1, kind="task_state", pid=pid)
        ev = (cite(trace, trace.event(last), inferred=True),) if last is not None else ()
        out.append(Suspect(pid, t.comm, "blocked", None, t.state, t.site, None, ev))
    return out


class Reaped(NamedTuple):
    victim: int
    comm: str | None
    done: Evidence  # the reaper_done ("reaped") event
    after_kill_ns: int | None  # how long after the kill


def reaped(trace: Trace, state: State) -> list[Reaped]:
    """Victims the reaper did reap, with when: the answer to "did the reaper help, and how late"."""
    out = []
    for v in state.victims.values():
        if v.outcome == "reaped" and v.done_seq is not None:
            done = cite(trace, trace.event(v.done_seq))
            out.append(Reaped(v.pid, v.comm, done, done.ts_ns - v.killed_ts if v.killed_seq is not None else None))
    return sorted(out, key=lambda r: r.done.seq)
