"""A trace as Chrome's Trace Event Format (JSON), which Perfetto and chrome://tracing open.

Layout: each task is a thread (tid = pid) of its process (pid = tgid, when known at the end of the trace). Its
states are ``X`` slices, one after the other, so they nest trivially. Lock holds and waits are async ``b``/``e``
slices (one id per holding): holds of a shared rwsem overlap and releases need not be LIFO, which ``B``/``E`` on
one thread could not show without lying. A wait starts a flow (``s`` on the waiter, ``f`` on each holder).
Kills, reaper steps, flags and marks are instants; zone free memory and memcg usage are counters of a
"memory" process whose pid (``MEMORY_PID``) is above the kernel's pid limit, so it collides with no task.

The lock table is followed with the model's own ``apply_fields``, so holds start and end exactly where the
state says they do. Timestamps are microseconds since boot (the trace's clock); the list is sorted by time.
"""

from __future__ import annotations

import json
from typing import IO, Any

from ..model import State, apply_fields
from ..store import Trace

#: PID_MAX_LIMIT is 2^22: no task of the traced machine can have this pid.
MEMORY_PID = (1 << 22) + 1

_INSTANT_KINDS = ("oom_invoke", "oom_kill", "oom_end", "oom_victim", "reaper_wake", "reaper_attempt", "reaper_done",
                  "flag_set", "flag_clear", "mark", "note", "task_exit", "fork")


def _us(ns: int) -> float:
    return ns / 1000


class _Builder:
    """Walks the events once, keeping the state the model computes, and collects trace events."""

    def __init__(self) -> None:
        self.out: list[dict[str, Any]] = []
        self.state = State()
        self.open_state: dict[int, tuple[int, str, dict]] = {}  # pid -> (start ns, name, args)
        self.open_async: dict[tuple[str, str, int, int | None], int] = {}  # (cat, lock, pid, since) -> start ns
        self.flows = 0

    def _async(self, ph: str, cat: str, lock: str, pid: int, since: int | None, ts: int, args: dict) -> None:
        self.out.append({"ph": ph, "cat": cat, "name": lock, "id": f"{cat}:{lock}:{pid}:{since}", "pid": pid,
                         "tid": pid, "ts": _us(ts), "args": args})

    def _close_state(self, pid: int, ts: int) -> None:
        opened = self.open_state.pop(pid, None)
        if opened is not None:
            start, name, args = opened
            self.out.append({"ph": "X", "cat": "state", "name": name, "pid": pid, "tid": pid, "ts": _us(start),
                             "dur": _us(ts - start), "args": args})

    def _locks(self, name: str) -> dict[tuple[str, int, int | None], bool]:
        lk = self.state.locks.get(name)
        if lk is None:
            return {}
        out = {("lock", h.pid, h.since): h.inferred for h in lk.holders}
        out.update({("lock_wait", w.pid, w.since): w.inferred for w in lk.waiters})
        return out

    def event(self, seq: int, ts: int, kind: str, pid: int | None, fields: dict, inferred: frozenset) -> None:
        lock = fields.get("lock") if kind.startswith("lock_") else None
        before = self._locks(lock) if lock else {}
        apply_fields(self.state, seq, ts, kind, pid, fields, inferred)
        if lock:
            after = self._locks(lock)
            for (cat, p, since) in before.keys() - after.keys():
                self.open_async.pop((cat, lock, p, since), None)
                self._async("e", cat, lock, p, since, ts, {})
            for (cat, p, since), guessed in after.items() - before.items():
                self.open_async[(cat, lock, p, since)] = ts
                self._async("b", cat, lock, p, since, ts, {"seq": seq, "inferred": guessed})
            if kind == "lock_contended" and pid is not None:
                for (cat, holder, _since) in before:
                    if cat == "lock" and holder != pid:
                        self.flows += 1
                        base = {"cat": "wait", "name": f"waits for {lock}", "id": self.flows, "ts": _us(ts)}
                        self.out.append({**base, "ph": "s", "pid": pid, "tid": pid})
                        self.out.append({**base, "ph": "f", "bp": "e", "pid": holder, "tid": holder})
        if kind == "task_state" and pid is not None:
            name = fields.get("state") or "?"
            self._close_state(pid, ts)
            self.open_state[pid] = (ts, name, {"seq": seq, "site": fields.get("site")})
        elif kind == "task_exit" and pid is not None:
            self._close_state(pid, ts)
        if kind == "zone":
            z = self.state.zones.get((fields.get("node") or 0, fields.get("zone") or "?"))
            if z is not None:
                args = {k: getattr(z, k) for k in ("free_kb", "min_kb", "low_kb", "high_kb")
                        if getattr(z, k) is not None}
                self._counter(f"zone {z.node}:{z.zone} kB", ts, args)
        elif kind == "memcg":
            m = self.state.memcgs.get(fields.get("path") or "/")
            if m is not None:
                args = {k: getattr(m, k) for k in ("usage_kb", "limit_kb") if getattr(m, k) is not None}
                self._counter(f"memcg {m.path} kB", ts, args)
        if kind in _INSTANT_KINDS:
            where = {"pid": pid, "tid": pid, "s": "t"} if pid is not None else {"pid": MEMORY_PID, "tid": 0, "s": "p"}
            self.out.append({"ph": "i", "cat": kind, "name": _instant_name(kind, fields), "ts": _us(ts),
                             "args": {"seq": seq, **fields, "inferred": sorted(inferred)}, **where})

    def _counter(self, name: str, ts: int, args: dict) -> None:
        if args:
            self.out.append({"ph": "C", "name": name, "pid": MEMORY_PID, "tid": 0, "ts": _us(ts), "args": args})

    def finish(self, end: int) -> None:
        for pid in list(self.open_state):
            self._close_state(pid, end)
        for (cat, lock, pid, since) in list(self.open_async):
            self._async("e", cat, lock, pid, since, end, {})
        self.open_async.clear()


def _instant_name(kind: str, fields: dict) -> str:
    detail = fields.get("flag") or fields.get("outcome") or fields.get("title") or ""
    return f"{kind} {detail}".strip()


def chrome_trace(trace: Trace) -> dict[str, Any]:
    """The whole trace as a Trace Event Format object (``{"traceEvents": [...], ...}``)."""
    b = _Builder()
    for ev in trace.events():
        assert ev.seq is not None
        b.event(ev.seq, ev.ts_ns, ev.kind, ev.pid, ev.fields, ev.inferred)
    b.finish(trace.last_ts or 0)
    tgid = {t.pid: (t.tgid if t.tgid is not None else t.pid) for t in b.state.tasks.values()}
    for e in b.out:
        if e["pid"] != MEMORY_PID:
            e["pid"] = tgid.get(e["tid"], e["tid"])
    events = sorted(b.out, key=lambda e: e["ts"])
    meta: list[dict[str, Any]] = [{"ph": "M", "name": "process_name", "pid": MEMORY_PID, "tid": 0,
                                   "args": {"name": "memory"}}]
    for t in sorted(b.state.tasks.values(), key=lambda t: t.pid):
        meta.append({"ph": "M", "name": "thread_name", "pid": tgid[t.pid], "tid": t.pid,
                     "args": {"name": f"{t.comm or '?'}/{t.pid}"}})
        if tgid[t.pid] == t.pid:
            meta.append({"ph": "M", "name": "process_name", "pid": t.pid, "tid": t.pid,
                         "args": {"name": f"{t.comm or '?'} ({t.pid})"}})
    return {"traceEvents": meta + events, "displayTimeUnit": "ms",
            "otherData": {"source": "oomreplay", "kernel": trace.meta.get("kernel")}}


def write_chrome(trace: Trace, out: IO[str]) -> None:
    """Write ``chrome_trace(trace)`` as JSON to ``out``."""
    json.dump(chrome_trace(trace), out, default=list)
