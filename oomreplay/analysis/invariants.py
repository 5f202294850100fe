"""Rules every real OOM incident obeys, checked over a whole trace, each violation with the seq where it happens.

The rules (kernel-formats.md §1.9, §1.10, §6):

* ``one_kill_in_flight``: the kernel does not choose a new victim while an earlier one is still pending — not
  exited, not done by the reaper and its mm without ``MMF_OOM_SKIP`` (≥4.9: ``tsk_is_oom_victim`` aborts the
  scan; ≤4.8: ``TIF_MEMDIE`` / ``oom_victims`` does, and the 4.6–4.8 reaper ends a victim by clearing
  ``TIF_MEMDIE``, which the reaper's outcome covers here).
* ``reaper_retries``: at most ``MAX_OOM_REAP_RETRIES`` (10) reaper attempts per victim (4.6 → 6.19).
* ``victim_resolved``: every victim exits, is reaped, or is skipped (``MMF_OOM_SKIP``) by the end of the trace.
* ``release_held``: no task releases a lock it was never seen to hold (``apply`` records it as an anomaly).
* ``free_nonnegative``: no zone's free memory is below zero.

A log often stops early or never prints exits; a violation that only says "we did not see it happen" is marked
``certain=False`` when the trace records no exits at all, so a dmesg excerpt does not read as a kernel bug.
"""

from __future__ import annotations

from typing import NamedTuple

from ..model import MAX_OOM_REAP_RETRIES, State, Victim
from ..store import Trace
from .evidence import Evidence, cite

RULES: dict[str, str] = {
    "one_kill_in_flight": "no new victim is chosen while an earlier one is pending without MMF_OOM_SKIP",
    "reaper_retries": f"the reaper gives up after at most {MAX_OOM_REAP_RETRIES} attempts on a victim",
    "victim_resolved": "every victim exits, is reaped or is skipped (MMF_OOM_SKIP)",
    "release_held": "no task releases a lock it never acquired",
    "free_nonnegative": "free memory is never below zero",
}


class Violation(NamedTuple):
    rule: str
    seq: int
    message: str  # may hold comms from the traced machine: print through ``safetext.visible``
    evidence: tuple[Evidence, ...]
    certain: bool


def check_all(trace: Trace) -> list[Violation]:
    """Every violation of every rule in the whole trace, in seq order."""
    if not len(trace):
        return []
    end = trace.state_at(len(trace) - 1)
    sees_exits = trace.next(-1, kind="task_exit") is not None
    found = (one_kill_in_flight(trace, sees_exits) + reaper_retries(trace) + victim_resolved(trace, end, sees_exits)
             + release_held(trace, end) + free_nonnegative(trace))
    return sorted(found, key=lambda v: (v.seq, v.rule))


def _resolved(state: State, v: Victim) -> bool:
    mm = state.mms.get(v.mm) if v.mm is not None else None
    return (v.exited or v.outcome is not None or "reaped" in v.attempts or "skipped" in v.attempts
            or (mm is not None and "MMF_OOM_SKIP" in mm.flags))


def one_kill_in_flight(trace: Trace, sees_exits: bool) -> list[Violation]:
    out = []
    for kill in trace.events(kind="oom_kill"):
        assert kill.seq is not None
        before = trace.state_at(kill.seq - 1)
        killed = before.tasks.get(kill.pid) if kill.pid is not None else None
        mm = killed.tgid if killed is not None and killed.tgid is not None else kill.pid
        for v in before.victims.values():
            if v.pid == kill.pid or v.mm == mm or v.killed_seq is None or _resolved(before, v):
                continue
            ev = (cite(trace, kill),) + ((cite(trace, trace.event(v.killed_seq)),) if v.killed_seq >= 0 else ())
            out.append(Violation("one_kill_in_flight", kill.seq,
                                 f"{kill.pid} ({kill.get('comm')}) killed while {v.pid} ({v.comm}), killed at seq "
                                 f"{v.killed_seq}, had not exited, been reaped or skipped", ev, sees_exits))
    return out


def reaper_retries(trace: Trace) -> list[Violation]:
    out = []
    counts: dict[int, int] = {}
    for ev in trace.events(kind=["oom_kill", "reaper_attempt"]):
        if ev.pid is None:
            continue
        if ev.kind == "oom_kill":
            counts[ev.pid] = 0
            continue
        counts[ev.pid] = counts.get(ev.pid, 0) + 1
        if counts[ev.pid] == MAX_OOM_REAP_RETRIES + 1:
            assert ev.seq is not None
            out.append(Violation("reaper_retries", ev.seq, f"reaper attempt {counts[ev.pid]} on {ev.pid}: the "
                                 f"kernel stops after {MAX_OOM_REAP_RETRIES}", (cite(trace, ev),), True))
    return out


def victim_resolved(trace: Trace, end: State, sees_exits: bool) -> list[Violation]:
    out = []
    for v in end.victims.values():
        if _resolved(end, v) or v.killed_seq is None or v.killed_seq < 0:
            continue
        out.append(Violation("victim_resolved", v.killed_seq,
                             f"{v.pid} ({v.comm}) never exits, is reaped or skipped before the trace ends",
                             (cite(trace, trace.event(v.killed_seq)),), sees_exits))
    return out


def release_held(trace: Trace, end: State) -> list[Violation]:
    return [Violation("release_held", a.seq, a.message, (cite(trace, trace.event(a.seq)),), True)
            for a in end.anomalies.values() if a.kind == "lock_release" and a.seq is not None]


def free_nonnegative(trace: Trace) -> list[Violation]:
    out = []
    for ev in trace.events(kind="zone"):
        free = ev.get("free_kb")
        if free is not None and free < 0 and ev.seq is not None:
            out.append(Violation("free_nonnegative", ev.seq, f"zone {ev.get('node') or 0}:{ev.get('zone')} free "
                                 f"memory {free} kB", (cite(trace, ev),), True))
    return out
