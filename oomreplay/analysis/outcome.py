"""How an incident ended, victim by victim, in one sentence: what the verdict of ``diff`` says of each side.

"The reaper gave up on oomr-mlock after 10 attempts while oomr-memreader held its mmap_lock" is what a kernel
developer comparing a run before and after a fix wants first; the blockers come from ``why_unreaped``, with its
confidence said in words (a lockdep dump cannot tell a holder from a queued task; without lock events the tasks
blocked beside the victim are only a guess).
"""

from __future__ import annotations

from typing import NamedTuple

from .._util.plural import count
from ..model import Victim, reaper_status
from ..store import Trace
from .reaper import why_unreaped
from .story import StoryEvent, normalise

#: How many victims a verdict names before it counts the rest.
NAMED_VICTIMS = 3


class Outcome(NamedTuple):
    """One victim's end. ``result`` is the reaper's outcome (reaped / unable) or exited / pending; ``key`` is what
    two incidents must share to end the same way."""

    pid: int
    comm: str | None  # untrusted text
    result: str
    attempts: int | None  # numbered reaper attempts, None when the trace does not number them
    after_kill_ns: int | None  # when the outcome came, after the kill
    blockers: tuple[str, ...]  # the comms of who held (or queued on, or sat blocked beside) the mm lock
    blocked_how: str | None  # how: "held", "held or queued on", "queued for", "blocked"
    lock: str | None

    @property
    def key(self) -> tuple[str | None, str]:
        return normalise(self.comm), self.result


def _after(story: list[StoryEvent], pid: int, kinds: tuple[str, ...]) -> int | None:
    """The first ``after_kill_ms`` of a story event of ``kinds`` about victim ``pid``, in ns."""
    for e in story:
        if e.pid == pid and e.kind in kinds and e.value("after_kill_ms") is not None:
            return round(e.value("after_kill_ms") * 1e6)
    return None


def outcomes(trace: Trace, story: list[StoryEvent]) -> list[Outcome]:
    """Every victim's outcome at the end of ``trace``, in kill order."""
    if not len(trace):
        return []
    end = len(trace) - 1
    victims: list[Victim] = sorted(trace.state_at(end).victims.values(), key=lambda v: (v.killed_seq or -1, v.pid))
    # a dying victim's thread marked as a victim itself (task_will_free_mem) is part of that kill, not another one
    killed = {e.pid for e in story if e.kind == "kill"}
    if killed:
        victims = [v for v in victims if v.pid in killed]
    out = []
    for v in victims:
        result = reaper_status(v)
        attempts = [e.value("count") for e in story if e.kind == "reaper_attempts" and e.pid == v.pid]
        numbered = max((n for n in attempts if n is not None), default=None)
        blockers: tuple[str, ...] = ()
        how = lock = None
        if result == "unable":
            failure = why_unreaped(trace, v, end)
            names = dict.fromkeys(s.comm or str(s.pid) for s in failure.suspects if s.pid != v.pid)
            blockers = tuple(names)
            roles = {s.role for s in failure.suspects if s.pid != v.pid}
            how = ("blocked" if failure.confidence == "guess" else "held or queued on" if "holder or queued" in roles
                   else "held" if "holder" in roles else "queued for" if roles else None)
            lock = failure.lock
            when = _after(story, v.pid, ("reaper_done",))
        elif result == "reaped":
            when = _after(story, v.pid, ("reaper_done",))
        elif result == "exited":
            when = _after(story, v.pid, ("victim_exit", "oom_skip"))
        else:
            when = None
        out.append(Outcome(v.pid, v.comm, result, numbered, when, blockers, how, lock))
    return out


def delay(ns: int) -> str:
    """A delay as a person reads it: ``3 ms``, ``0.4 s``, ``2.0 s``."""
    if ns < 100_000_000:
        return f"{ns / 1e6:.0f} ms" if ns >= 10_000_000 else f"{ns / 1e6:.1f} ms"
    return f"{ns / 1e9:.1f} s"


def _names(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def sentence(o: Outcome) -> str:
    """One victim's end in words (comms as the trace gives them: escape them for the output)."""
    name = o.comm or f"pid {o.pid}"
    s = "" if o.after_kill_ns is None else f" {delay(o.after_kill_ns)} after its kill"
    if o.result == "reaped":
        return f"{name} was reaped{s}"
    if o.result == "exited":
        return f"{name} exited{s} before the reaper was done with it"
    if o.result == "pending":
        return f"{name} was killed and the trace ends before any outcome"
    text = f"the reaper gave up on {name}"
    if o.attempts is not None:
        text += f" after {count(o.attempts, 'attempt')}"
    if o.blockers:
        lock = o.lock or "mmap_lock"
        plural = len(o.blockers) > 1
        text += {"held": f" while {_names(o.blockers)} held its {lock}",
                 "held or queued on": f" while {_names(o.blockers)} held or queued on its {lock} (lockdep dump)",
                 "queued for": f" while {_names(o.blockers)} {'were' if plural else 'was'} queued for its {lock}",
                 "blocked": f" while {_names(o.blockers)} {'were' if plural else 'was'} blocked in D state beside it "
                            "(a guess: no lock events)"}.get(o.blocked_how or "", "")
    return text


def summary(found: list[Outcome], story: list[StoryEvent]) -> str:
    """How one incident ended: its victims' outcomes, or why nothing was killed."""
    if found:
        parts = [sentence(o) for o in found[:NAMED_VICTIMS]]
        if len(found) > NAMED_VICTIMS:
            parts.append(f"{count(len(found) - NAMED_VICTIMS, 'more victim')}")
        head = f"{count(len(found), 'kill')}: " if len(found) > 1 else ""
        return head + "; ".join(parts)
    ends = [e for e in story if e.kind == "oom_end"]
    if ends:
        e = ends[-1]
        why = f" ({e.value('reason')})" if e.value("reason") else ""
        said = "the kernel panicked" if e.value("outcome") == "panic" else "the OOM killer found nothing to kill"
        return said + why
    invocations = sum(e.kind == "invoke" for e in story)
    if invocations:
        return f"{count(invocations, 'OOM invocation')} and no kill"
    stalls = sum(e.kind in ("stalls", "alloc_fails") for e in story)
    return "allocation stalls or failures and no OOM" if stalls else "no OOM"
