"""Rules every real OOM incident obeys, checked over a whole trace, each violation with the seq where it happens.

The rules (kernel-formats.md §1.9, §1.10, §6), where they changed checked against the trace's kernel (``kernel``):

* ``one_kill_in_flight``: the kernel does not choose a new victim while an earlier one is still pending. What ends
  a victim depends on the version: only its exit before 4.6 (``TIF_MEMDIE`` aborts the scan); also being reaped
  on 4.6–4.7 (the reaper clears ``TIF_MEMDIE`` on success only); also the reaper giving up on 4.8; from 4.9
  ``MMF_OOM_SKIP``, which the reaper sets whether it reaped or gave up. When the version is not known closely
  enough, the most lenient of these is used.
* ``reaper_retries``: at most ``MAX_OOM_REAP_RETRIES`` (10) reaper attempts per victim (4.6 → 6.19).
* ``victim_resolved``: every victim stops being pending (as above) by the end of the trace.
* ``release_held``: no task releases a lock it was never seen to hold (``apply`` records it as an anomaly).
* ``free_nonnegative``: no zone's free memory is below zero.
* ``kernel_features``: the trace shows only what its kernel has: no reaper before 4.6, no mm flag outside the
  versions that define it.

A log often stops early or never prints exits; a violation that only says "we did not see it happen" is marked
``certain=False`` when the trace records no exits at all, so a dmesg excerpt does not read as a kernel bug.
"""

from __future__ import annotations

from typing import NamedTuple

from ..model import MAX_OOM_REAP_RETRIES, State, Victim
from ..store import Trace
from .evidence import Evidence, cite
from .kernel import FLAG_VERSIONS, NEWEST, REAPER_SINCE, Kernel, kernel_of

RULES: dict[str, str] = {
    "one_kill_in_flight": "no new victim is chosen while an earlier one is pending",
    "reaper_retries": f"the reaper gives up after at most {MAX_OOM_REAP_RETRIES} attempts on a victim",
    "victim_resolved": "every victim stops being pending (exits, or is reaped or skipped as its kernel allows)",
    "release_held": "no task releases a lock it never acquired",
    "free_nonnegative": "free memory is never below zero",
    "kernel_features": "the trace shows only the reaper and mm flags its kernel version has",
}

#: What ends a pending victim, per ``Kernel.ending()`` (None: the version is not known closely enough, so the
#: most lenient rule, which every version's violations also break).
ENDED_BY: dict[str | None, str] = {
    "exit": "only its exit ends a victim before 4.6",
    "reaped": "on 4.6 only being reaped or its exit ends a victim",
    "reaper_done": "on 4.7-4.8 its exit or the reaper being done with it (or MMF_OOM_REAPED) ends a victim",
    "oom_skip": "from 4.9 its exit or MMF_OOM_SKIP (which the reaper sets when done with it) ends a victim",
    None: "its exit, the reaper being done with it or MMF_OOM_SKIP ends a victim",
}


class Violation(NamedTuple):
    rule: str
    seq: int
    message: str  # may hold comms from the traced machine: print through ``safetext.visible``
    evidence: tuple[Evidence, ...]
    certain: bool


def check_all(trace: Trace, kernel: Kernel | None = None) -> list[Violation]:
    """Every violation of every rule in the whole trace, in seq order; ``kernel`` defaults to ``kernel_of``."""
    if not len(trace):
        return []
    kernel = kernel or kernel_of(trace)
    ending = kernel.ending()
    end = trace.state_at(len(trace) - 1)
    sees_exits = trace.next(-1, kind="task_exit") is not None
    found = (one_kill_in_flight(trace, sees_exits, ending) + reaper_retries(trace)
             + victim_resolved(trace, end, sees_exits, ending) + release_held(trace, end) + free_nonnegative(trace)
             + kernel_features(trace, kernel))
    return sorted(found, key=lambda v: (v.seq, v.rule))


def _resolved(state: State, v: Victim, ending: str | None) -> bool:
    """Whether ``v`` no longer blocks the choice of another victim, by the rule of ``ending``."""
    if v.exited or ending == "exit":
        return v.exited
    reaped = v.outcome == "reaped" or "reaped" in v.attempts
    if ending == "reaped":
        return reaped
    mm = state.mms.get(v.mm) if v.mm is not None else None
    if ending == "reaper_done":  # 4.8 oom_scan_process_thread: a victim whose mm has MMF_OOM_REAPED is skipped
        return reaped or v.outcome is not None or (mm is not None and "MMF_OOM_REAPED" in mm.flags)
    return (reaped or v.outcome is not None or "skipped" in v.attempts
            or (mm is not None and "MMF_OOM_SKIP" in mm.flags))


def one_kill_in_flight(trace: Trace, sees_exits: bool, ending: str | None = None) -> list[Violation]:
    out = []
    for kill in trace.events(kind="oom_kill"):
        assert kill.seq is not None
        before = trace.state_at(kill.seq - 1)
        killed = before.tasks.get(kill.pid) if kill.pid is not None else None
        mm = killed.tgid if killed is not None and killed.tgid is not None else kill.pid
        for v in before.victims.values():
            if v.pid == kill.pid or v.mm == mm or v.killed_seq is None or _resolved(before, v, ending):
                continue
            ev = (cite(trace, kill),) + ((cite(trace, trace.event(v.killed_seq)),) if v.killed_seq >= 0 else ())
            out.append(Violation("one_kill_in_flight", kill.seq,
                                 f"{kill.pid} ({kill.get('comm')}) killed while {v.pid} ({v.comm}), killed at seq "
                                 f"{v.killed_seq}, was still pending ({ENDED_BY[ending]})", ev, sees_exits))
    return out


def reaper_retries(trace: Trace) -> list[Violation]:
    """At most ten tries per reaper *round* (one oom_reap_task run; 4.6-4.8 may run it again for the same victim).
    A log's "unable to reap" is one event standing for the round's ten tries (its ``n``, inferred)."""
    out = []
    counts: dict[int, int] = {}
    done: set[int] = set()
    for ev in trace.events(kind=["oom_kill", "reaper_attempt", "reaper_done"]):
        if ev.pid is None:
            continue
        if ev.kind != "reaper_attempt":
            counts[ev.pid] = 0 if ev.kind == "oom_kill" else counts.get(ev.pid, 0)
            if ev.kind == "reaper_done":
                done.add(ev.pid)
            else:
                done.discard(ev.pid)
            continue
        if ev.pid in done:  # a new round
            done.discard(ev.pid)
            counts[ev.pid] = 0
        n = ev.get("n")
        counts[ev.pid] = max(counts.get(ev.pid, 0) + 1, n if isinstance(n, int) and "n" in ev.inferred else 0)
        if counts[ev.pid] == MAX_OOM_REAP_RETRIES + 1:
            assert ev.seq is not None
            out.append(Violation("reaper_retries", ev.seq, f"reaper attempt {counts[ev.pid]} on {ev.pid}: the "
                                 f"kernel stops after {MAX_OOM_REAP_RETRIES}", (cite(trace, ev),), True))
    return out


def victim_resolved(trace: Trace, end: State, sees_exits: bool, ending: str | None = None) -> list[Violation]:
    out = []
    for v in end.victims.values():
        if _resolved(end, v, ending) or v.killed_seq is None or v.killed_seq < 0:
            continue
        out.append(Violation("victim_resolved", v.killed_seq,
                             f"{v.pid} ({v.comm}) is still pending when the trace ends ({ENDED_BY[ending]})",
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


def kernel_features(trace: Trace, kernel: Kernel) -> list[Violation]:
    """Reaper events on a kernel without a reaper, mm flags set on a kernel that lacks them: a converter or a
    scenario got the version wrong, or the log was edited. Only ranges that rule the feature out count."""
    out = []
    reaper = trace.next(-1, kind=["reaper_wake", "reaper_attempt", "reaper_done"])
    if reaper is not None and kernel.within(((REAPER_SINCE, NEWEST),)) is False:
        ev = trace.event(reaper)
        out.append(Violation("kernel_features", reaper, f"an OOM reaper event ({ev.kind}) on a kernel without "
                             f"the reaper (it came in 4.6; kernel {kernel.describe()})", (cite(trace, ev),), True))
    seen: set[str] = set()
    for ev in trace.events(kind="flag_set"):
        flag = str(ev.get("flag") or "")
        # a flag the converter inferred is its reading of the version's code, not the kernel's word: a mismatch
        # there is the converter's (tested in native/core/tests/klog_reaper.rs), not a fact about this kernel
        if "flag" in ev.inferred:
            continue
        if flag in seen or flag not in FLAG_VERSIONS or kernel.within(FLAG_VERSIONS[flag]) is not False:
            continue
        seen.add(flag)
        assert ev.seq is not None
        out.append(Violation("kernel_features", ev.seq, f"{flag} set on a kernel that has no such flag (kernel "
                             f"{kernel.describe()})", (cite(trace, ev),), True))
    return out
