"""``apply(state, event) -> State``: the one definition of what an event does, shared by every layer.

The store's writer and reader run the same handlers in place on a state they own (``apply_fields``); ``apply``
wraps them on a copy so callers get a pure function. Nothing here raises on odd input: a trace of a real
incident is often incomplete (a log that starts mid-incident, a lock released that we never saw taken), so the
oddity is recorded as an ``Anomaly`` in the state, where the views and the invariant checks can show it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .events import (ALLOC_OUTCOMES, KINDS, LOCK_MODES, OOM_END_OUTCOMES, OOM_END_REASONS, REAPER_ATTEMPT_OUTCOMES,
                     REAPER_DONE_OUTCOMES, Event)
from .flags import MAX_OOM_REAP_RETRIES, flag_target
from .state import Anomaly, Holder, Lock, Memcg, MemInfo, Mm, OomInvocation, State, Task, Victim, Zone, zone_key

Fields = Mapping[str, Any]
Handler = Callable[[State, "int | None", int, "int | None", Fields, frozenset], None]

#: A victim keeps the outcomes of at most this many reaper attempts (the kernel makes ten).
_ATTEMPTS_KEPT = 2 * MAX_OOM_REAP_RETRIES


def apply(state: State, event: Event) -> State:
    """The state after ``event``; ``state`` itself is left unchanged."""
    new = state.copy()
    apply_fields(new, event.seq, event.ts_ns, event.kind, event.pid, event.fields, event.inferred)
    return new


def apply_fields(s: State, seq: int | None, ts: int, kind: str, pid: int | None, f: Fields,
                 inferred: frozenset) -> None:
    """Apply one event, given as its parts, to ``s`` in place."""
    s.seq = seq
    s.ts_ns = ts
    handler = _HANDLERS.get(kind)
    if handler is not None:
        handler(s, seq, ts, pid, f, inferred)


def _anomaly(s: State, seq: int | None, kind: str, message: str) -> None:
    s.anomalies.set(len(s.anomalies), Anomaly(seq, kind, message))


def _task(s: State, pid: int) -> Task:
    t = s.tasks.get(pid)
    return t if t is not None else Task(pid)


_INDEX = {rec: {name: i for i, name in enumerate(rec._fields)} for rec in (Task, Zone, Memcg)}


def _updated(rec: Any, seq: int | None, changes: Fields) -> Any:
    """``rec`` with the said (not None) ``changes`` and ``since=seq``.

    Builds the tuple directly rather than through ``_replace``: this is the hottest path of every replay.
    """
    index = _INDEX[type(rec)]
    values = list(rec)
    for name, value in changes.items():
        if value is not None:
            values[index[name]] = value
    values[index["since"]] = seq
    return tuple.__new__(type(rec), values)


def _update_task(s: State, seq: int | None, pid: int | None, **changes: Any) -> None:
    """Create or update a task; ``None`` values mean "not said" and keep what was known."""
    if pid is None:
        return
    t = s.tasks.get(pid)
    s.tasks.set(pid, _updated(t if t is not None else Task(pid), seq, changes))


_TASK_REST = list(Task(0))[1:]  # a new task's fields after its pid
_TASK_SINCE = _INDEX[Task]["since"]


def _task_fields(s: State, seq: int | None, pid: int | None, f: Fields, pairs: tuple) -> None:
    """``_update_task`` with each ``(field name in f, task field index)`` of ``pairs``: the replay's hot path,
    without building keyword arguments."""
    if pid is None:
        return
    tasks = s.tasks
    t = tasks.get(pid)
    values = list(t) if t is not None else [pid, *_TASK_REST]
    get = f.get
    for name, i in pairs:
        value = get(name)
        if value is not None:
            values[i] = value
    values[_TASK_SINCE] = seq
    tasks.set(pid, tuple.__new__(Task, values))


def _pairs(*names: str) -> tuple:
    """``(event field, task field index)`` pairs of fields named the same in both."""
    index = _INDEX[Task]
    return tuple((n, index[n]) for n in names)


_TASK_PAIRS = _pairs("tgid", "comm", "oom_score_adj")
_TASK_STATE_PAIRS = _pairs("state", "site", "comm")
_RSS_PAIRS = _pairs("anon_kb", "file_kb", "shmem_kb")
_ALLOC = _INDEX[Task]["alloc"]


def _on_task(s, seq, ts, pid, f, inferred):
    _task_fields(s, seq, pid, f, _TASK_PAIRS)


def _on_task_state(s, seq, ts, pid, f, inferred):
    _task_fields(s, seq, pid, f, _TASK_STATE_PAIRS)


def _on_task_exit(s, seq, ts, pid, f, inferred):
    _update_task(s, seq, pid, state="X", exited=True, comm=f.get("comm"))
    v = s.victims.get(pid) if pid is not None else None
    if v is not None:
        s.victims.set(pid, v._replace(exited=True))


def _on_fork(s, seq, ts, pid, f, inferred):
    child = f.get("child")
    if child is None:
        _anomaly(s, seq, "fork", f"fork by {pid} names no child")
        return
    parent = s.tasks.get(pid) if pid is not None else None
    comm = f.get("comm") or (parent.comm if parent else None)
    _update_task(s, seq, pid)
    _update_task(s, seq, child, tgid=f.get("child_tgid") or child, comm=comm, state="R", exited=False)


def _lock(s: State, name: str) -> Lock:
    lk = s.locks.get(name)
    return lk if lk is not None else Lock(name)


def _store_lock(s: State, lk: Lock, holders: tuple, waiters: tuple, mm: int | None) -> None:
    """Keep the lock with its new holders and waiters, or drop it once nobody holds or waits for it."""
    if holders or waiters:
        s.locks.set(lk.name, tuple.__new__(Lock, (lk.name, holders, waiters, lk.mm if mm is None else mm)))
    else:
        s.locks.delete(lk.name)


def _lock_name(s, seq, kind, pid, f) -> str | None:
    name = f.get("lock")
    if not name:
        _anomaly(s, seq, kind, f"{kind} by {pid} names no lock")
        return None
    mode = f.get("mode")
    if mode is not None and mode not in LOCK_MODES:
        _anomaly(s, seq, kind, f"lock {name}: unknown mode {mode!r}")
    return name


def _named_lock(s: State, seq: int | None, kind: str, pid: int | None, f: Fields) -> Lock | None:
    """The lock an acquire or release names (a new one if unseen), or None when it names none; the common case
    (a name and a known mode) skips ``_lock_name``'s checks, as the hottest path of every replay."""
    name = f.get("lock")
    mode = f.get("mode")
    if not name or (mode is not None and mode not in LOCK_MODES):  # the anomalies; else _lock_name is name
        name = _lock_name(s, seq, kind, pid, f)
        if name is None:
            return None
    lk = s.locks.get(name)
    return Lock(name) if lk is None else lk


def _on_lock_acquire(s, seq, ts, pid, f, inferred):
    lk = _named_lock(s, seq, "lock_acquire", pid, f)
    if lk is None:
        return
    name = lk.name
    mode = f.get("mode") or "w"
    holders = lk.holders
    if holders:
        seen = [h for h in holders if not h.inferred and h.pid != pid]
        if seen and (mode == "w" or any(h.mode == "w" for h in seen)):
            others = ", ".join(str(h.pid) for h in seen)
            _anomaly(s, seq, "lock_acquire", f"{pid} took {name} ({mode}) while {others} held it")
        # an acquisition supersedes a holding only inferred from an older dump
        holders = tuple(h for h in holders if not (h.pid == pid and h.inferred))
    holders += (tuple.__new__(Holder, (pid, mode, seq, f.get("site"), "lock" in inferred)),)
    waiters = tuple(w for w in lk.waiters if w.pid != pid) if lk.waiters else ()  # its wait is over
    _store_lock(s, lk, holders, waiters, f.get("mm"))


def _on_lock_contended(s, seq, ts, pid, f, inferred):
    name = _lock_name(s, seq, "lock_contended", pid, f)
    if name is None:
        return
    lk = _lock(s, name)
    if any(w.pid == pid for w in lk.waiters):
        return
    waiter = Holder(pid, f.get("mode") or "w", seq, f.get("site"), "lock" in inferred)
    _store_lock(s, lk, lk.holders, lk.waiters + (waiter,), f.get("mm"))


def _on_lock_release(s, seq, ts, pid, f, inferred):
    """Releases the latest holding by ``pid``; from a task that only waited, it ends the wait (a failed try)."""
    lk = _named_lock(s, seq, "lock_release", pid, f)
    if lk is None:
        return
    holders = lk.holders
    for i in range(len(holders) - 1, -1, -1):
        if holders[i].pid == pid:
            _store_lock(s, lk, holders[:i] + holders[i + 1:], lk.waiters, None)
            return
    if any(w.pid == pid for w in lk.waiters):
        _store_lock(s, lk, holders, tuple(w for w in lk.waiters if w.pid != pid), None)
    else:
        _anomaly(s, seq, "lock_release", f"{pid} released {lk.name}, which it did not hold")


def _on_lock_held(s, seq, ts, pid, f, inferred):
    name = _lock_name(s, seq, "lock_held", pid, f)
    if name is None or pid is None:
        return
    _update_task(s, seq, pid, comm=f.get("comm"))
    lk = _lock(s, name)
    if any(h.pid == pid for h in lk.holders):
        return  # a later dump showing the same holding again
    holder = Holder(pid, f.get("mode"), seq, f.get("site"), True)
    _store_lock(s, lk, lk.holders + (holder,), lk.waiters, None)


def _with_flag(flags: tuple, inferred_flags: tuple, flag: str, on: bool, guessed: bool) -> tuple[tuple, tuple]:
    fl = set(flags)
    inf = set(inferred_flags)
    if on:
        fl.add(flag)
        if guessed:
            inf.add(flag)
        else:
            inf.discard(flag)
    else:
        fl.discard(flag)
        inf.discard(flag)
    return tuple(sorted(fl)), tuple(sorted(inf))


def _mm_id(s: State, pid: int | None, f: Fields) -> int | None:
    if f.get("mm") is not None:
        return f["mm"]
    if pid is None:
        return None
    t = s.tasks.get(pid)
    return t.tgid if t is not None and t.tgid is not None else pid


def _on_flag(s, seq, ts, pid, f, inferred, on: bool):
    kind = "flag_set" if on else "flag_clear"
    flag = f.get("flag")
    if not flag:
        _anomaly(s, seq, kind, f"{kind} on {pid} names no flag")
        return
    guessed = "flag" in inferred
    if flag_target(flag, f.get("target")) == "mm":
        mm_id = _mm_id(s, pid, f)
        if mm_id is None:
            _anomaly(s, seq, kind, f"{flag} on an unknown mm")
            return
        rec = s.mms.get(mm_id) or Mm(mm_id)
        if not on and flag not in rec.flags:
            _anomaly(s, seq, kind, f"{flag} cleared on mm {mm_id}, where it was not set")
        flags, inf = _with_flag(rec.flags, rec.inferred_flags, flag, on, guessed)
        s.mms.set(mm_id, rec._replace(flags=flags, inferred_flags=inf))
        return
    if pid is None:
        _anomaly(s, seq, kind, f"{flag} on no task")
        return
    t = _task(s, pid)
    if not on and flag not in t.flags:
        _anomaly(s, seq, kind, f"{flag} cleared on {pid}, where it was not set")
    flags, inf = _with_flag(t.flags, t.inferred_flags, flag, on, guessed)
    s.tasks.set(pid, t._replace(flags=flags, inferred_flags=inf, since=seq))


def _on_flag_set(s, seq, ts, pid, f, inferred):
    _on_flag(s, seq, ts, pid, f, inferred, True)


def _on_flag_clear(s, seq, ts, pid, f, inferred):
    _on_flag(s, seq, ts, pid, f, inferred, False)


def _on_alloc(s, seq, ts, pid, f, inferred):
    outcome = f.get("outcome")
    if outcome is not None and outcome not in ALLOC_OUTCOMES:
        _anomaly(s, seq, "alloc", f"allocation by {pid}: unknown outcome {outcome!r}")
    if pid is None:
        return
    tasks = s.tasks
    t = tasks.get(pid)
    values = list(t) if t is not None else [pid, *_TASK_REST]
    values[_ALLOC] = (f.get("order"), f.get("gfp"), outcome, f.get("duration_ns"))
    values[_TASK_SINCE] = seq
    tasks.set(pid, tuple.__new__(Task, values))


def _on_zone(s, seq, ts, pid, f, inferred):
    key = zone_key(f)
    old = s.zones.get(key) or Zone(*key)
    reserve = f.get("lowmem_reserve_kb")
    new = _updated(old, seq, {"free_kb": f.get("free_kb"), "min_kb": f.get("min_kb"), "low_kb": f.get("low_kb"),
                              "high_kb": f.get("high_kb"), "managed_kb": f.get("managed_kb"),
                              "lowmem_reserve_kb": None if reserve is None else tuple(reserve)})
    if new.free_kb is not None and new.free_kb < 0:
        _anomaly(s, seq, "zone", f"zone {key[0]}:{key[1]} free memory below zero ({new.free_kb} kB)")
    s.zones.set(key, new)


def _on_memcg(s, seq, ts, pid, f, inferred):
    path = f.get("path") or "/"
    old = s.memcgs.get(path) or Memcg(path)
    s.memcgs.set(path, _updated(old, seq, {"usage_kb": f.get("usage_kb"), "limit_kb": f.get("limit_kb"),
                                           "failcnt": f.get("failcnt")}))


_MEMINFO_COUNTERS = KINDS["meminfo"]


def _on_meminfo(s, seq, ts, pid, f, inferred):
    """A new summary replaces the last one whole: a counter this one lacks is unknown now, not unchanged."""
    counters = tuple((name, f[name]) for name in _MEMINFO_COUNTERS if f.get(name) is not None)
    s.meminfo.set("global", MemInfo("global", counters, seq))


def _on_rss(s, seq, ts, pid, f, inferred):
    _task_fields(s, seq, pid, f, _RSS_PAIRS)


def _on_oom_invoke(s, seq, ts, pid, f, inferred):
    index = len(s.ooms)
    s.ooms.set(index, OomInvocation(index, seq, ts, pid, f.get("gfp"), f.get("order"), f.get("constraint"),
                                    f.get("memcg")))
    _update_task(s, seq, pid, comm=f.get("comm"), oom_score_adj=f.get("oom_score_adj"))


def _on_oom_candidate(s, seq, ts, pid, f, inferred):
    _update_task(s, seq, pid, tgid=f.get("tgid"), comm=f.get("comm"), oom_score_adj=f.get("oom_score_adj"))
    last = s.last_oom()
    if last is not None:
        s.ooms.set(last.index, last._replace(candidates=last.candidates + 1))


def _on_oom_end(s, seq, ts, pid, f, inferred):
    """Ends the current invocation without a kill. A log that starts after the report's header (a panic is often
    all a kdump console kept) gets the invocation it implies, so the ending is not lost, and an anomaly saying so."""
    outcome, reason = f.get("outcome"), f.get("reason")
    if outcome not in OOM_END_OUTCOMES:
        _anomaly(s, seq, "oom_end", f"OOM ended by {pid}: unknown outcome {outcome!r}")
    if reason is not None and reason not in OOM_END_REASONS:
        _anomaly(s, seq, "oom_end", f"OOM ended by {pid}: unknown reason {reason!r}")
    last = s.last_oom()
    if last is None or last.victims:  # none, or the last one ended with its kill: this ending's is not in the log
        _anomaly(s, seq, "oom_end", f"OOM ended ({outcome}) with no invocation seen before it")
        last = OomInvocation(len(s.ooms), seq, ts, pid)
    s.ooms.set(last.index, last._replace(invoker=last.invoker if last.invoker is not None else pid,
                                         outcome=outcome, reason=reason))
    _update_task(s, seq, pid, comm=f.get("comm"))


def _victim(s: State, seq: int | None, ts: int, pid: int, comm: str | None) -> Victim:
    v = s.victims.get(pid)
    if v is None:
        t = s.tasks.get(pid)
        mm = t.tgid if t is not None and t.tgid is not None else pid
        v = Victim(pid, comm or (t.comm if t else None), seq, ts, mm)
    return v


def _on_oom_kill(s, seq, ts, pid, f, inferred):
    if pid is None:
        _anomaly(s, seq, "oom_kill", "kill names no victim")
        return
    old = s.victims.get(pid)
    if old is not None and old.outcome is None and not old.exited:
        _anomaly(s, seq, "oom_kill", f"{pid} killed again while still a pending victim")
    _update_task(s, seq, pid, comm=f.get("comm"), oom_score_adj=f.get("oom_score_adj"),
                 anon_kb=f.get("anon_rss_kb"), file_kb=f.get("file_rss_kb"), shmem_kb=f.get("shmem_rss_kb"))
    t = s.tasks[pid]
    s.victims.set(pid, Victim(pid, t.comm, seq, ts, t.tgid if t.tgid is not None else pid, f.get("points")))
    last = s.last_oom()
    if last is not None:  # the kill completes the invocation it answers
        s.ooms.set(last.index, last._replace(
            victims=last.victims if pid in last.victims else last.victims + (pid,),
            constraint=last.constraint or f.get("constraint"), memcg=last.memcg or f.get("memcg")))


def _on_oom_victim(s, seq, ts, pid, f, inferred):
    if pid is not None and pid not in s.victims:
        s.victims.set(pid, _victim(s, seq, ts, pid, f.get("comm")))


def _on_reaper_wake(s, seq, ts, pid, f, inferred):
    if pid is not None:
        s.victims.set(pid, _victim(s, seq, ts, pid, f.get("comm"))._replace(woken_seq=seq))


def _on_reaper_attempt(s, seq, ts, pid, f, inferred):
    if pid is None:
        return
    v = _victim(s, seq, ts, pid, f.get("comm"))
    outcome = f.get("outcome")
    if outcome not in REAPER_ATTEMPT_OUTCOMES:
        _anomaly(s, seq, "reaper_attempt", f"reaper attempt on {pid}: unknown outcome {outcome!r}")
    n = f.get("n")
    made = len(v.attempts) + 1
    if n is not None and n != made:
        _anomaly(s, seq, "reaper_attempt", f"reaper attempt {n} on {pid} follows {made - 1} attempts")
    if made > MAX_OOM_REAP_RETRIES:
        _anomaly(s, seq, "reaper_attempt", f"reaper attempt {made} on {pid}: the kernel stops at "
                                           f"{MAX_OOM_REAP_RETRIES}")
    attempts = (v.attempts + (outcome,))[-_ATTEMPTS_KEPT:]
    s.victims.set(pid, v._replace(attempts=attempts))


def _on_reaper_done(s, seq, ts, pid, f, inferred):
    if pid is None:
        return
    outcome = f.get("outcome")
    if outcome not in REAPER_DONE_OUTCOMES:
        _anomaly(s, seq, "reaper_done", f"reaper done with {pid}: unknown outcome {outcome!r}")
    v = _victim(s, seq, ts, pid, f.get("comm"))
    s.victims.set(pid, v._replace(outcome=outcome, done_seq=seq))
    if outcome == "reaped":
        _update_task(s, seq, pid, anon_kb=f.get("anon_rss_kb"), file_kb=f.get("file_rss_kb"),
                     shmem_kb=f.get("shmem_rss_kb"))


_HANDLERS: dict[str, Handler] = {
    "task": _on_task,
    "task_state": _on_task_state,
    "task_exit": _on_task_exit,
    "fork": _on_fork,
    "lock_acquire": _on_lock_acquire,
    "lock_contended": _on_lock_contended,
    "lock_release": _on_lock_release,
    "lock_held": _on_lock_held,
    "flag_set": _on_flag_set,
    "flag_clear": _on_flag_clear,
    "alloc": _on_alloc,
    "zone": _on_zone,
    "memcg": _on_memcg,
    "meminfo": _on_meminfo,
    "rss": _on_rss,
    "oom_invoke": _on_oom_invoke,
    "oom_candidate": _on_oom_candidate,
    "oom_kill": _on_oom_kill,
    "oom_victim": _on_oom_victim,
    "oom_end": _on_oom_end,
    "reaper_wake": _on_reaper_wake,
    "reaper_attempt": _on_reaper_attempt,
    "reaper_done": _on_reaper_done,
}


def handlers_for(kinds: Any) -> list[Handler | None]:
    """The handler of each kind name, in order, for a caller applying many events in place: calling
    ``handler(s, seq, ts, pid, fields, inferred)`` and setting ``s.seq`` and ``s.ts_ns`` (no handler reads them,
    so once after many events will do) is exactly ``apply_fields`` without its lookup per event."""
    return [_HANDLERS.get(kind) for kind in kinds]
