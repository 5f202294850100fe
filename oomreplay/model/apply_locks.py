"""What the lock events do: holders and waiters of each lock, and the anomalies of a lock taken while held or
released by a task that did not hold it."""

from __future__ import annotations

from .apply_records import Fields, anomaly, update_task
from .events import LOCK_MODES
from .state import Holder, Lock, State, unchecked_record

def _lock(s: State, name: str) -> Lock:
    lk = s.locks.get(name)
    return lk if lk is not None else Lock(name)


def _store_lock(s: State, lk: Lock, holders: tuple, waiters: tuple, mm: int | None) -> None:
    """Keep the lock with its new holders and waiters, or drop it once nobody holds or waits for it."""
    if holders or waiters:
        s.locks.set(lk.name, unchecked_record(Lock, (lk.name, holders, waiters, lk.mm if mm is None else mm)))
    else:
        s.locks.delete(lk.name)


def _lock_name(s, seq, kind, pid, f) -> str | None:
    name = f.get("lock")
    if not name:
        anomaly(s, seq, kind, f"{kind} by {pid} names no lock")
        return None
    mode = f.get("mode")
    if mode is not None and mode not in LOCK_MODES:
        anomaly(s, seq, kind, f"lock {name}: unknown mode {mode!r}")
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


def on_lock_acquire(s, seq, ts, pid, f, inferred):
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
            anomaly(s, seq, "lock_acquire", f"{pid} took {name} ({mode}) while {others} held it")
        # an acquisition supersedes a holding only inferred from an older dump
        holders = tuple(h for h in holders if not (h.pid == pid and h.inferred))
    holders += (unchecked_record(Holder, (pid, mode, seq, f.get("site"), "lock" in inferred)),)
    waiters = tuple(w for w in lk.waiters if w.pid != pid) if lk.waiters else ()  # its wait is over
    _store_lock(s, lk, holders, waiters, f.get("mm"))


def on_lock_contended(s, seq, ts, pid, f, inferred):
    name = _lock_name(s, seq, "lock_contended", pid, f)
    if name is None:
        return
    lk = _lock(s, name)
    if any(w.pid == pid for w in lk.waiters):
        return
    waiter = Holder(pid, f.get("mode") or "w", seq, f.get("site"), "lock" in inferred)
    _store_lock(s, lk, lk.holders, lk.waiters + (waiter,), f.get("mm"))


def on_lock_release(s, seq, ts, pid, f, inferred):
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
        anomaly(s, seq, "lock_release", f"{pid} released {lk.name}, which it did not hold")


def on_lock_held(s, seq, ts, pid, f, inferred):
    name = _lock_name(s, seq, "lock_held", pid, f)
    if name is None or pid is None:
        return
    update_task(s, seq, pid, comm=f.get("comm"))
    lk = _lock(s, name)
    if any(h.pid == pid for h in lk.holders):
        return  # a later dump showing the same holding again
    holder = Holder(pid, f.get("mode"), seq, f.get("site"), True)
    _store_lock(s, lk, lk.holders + (holder,), lk.waiters, None)
