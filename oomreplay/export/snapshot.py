"""A state as tables to paste into a review: plain text, Markdown, or JSON for scripts.

Text and Markdown list the tasks that matter to an OOM (invokers, victims, lock holders and waiters, tasks with
flags, in D state or stalled in allocation) and count the rest; JSON holds everything.
"""

from __future__ import annotations

from typing import Any

from .._util.plural import count
from .._util.safetext import markdown_text, visible
from ..analysis import holding_mark, involved_pids
from ..model import Lock, State, Task, attempts_text, reaper_status

Table = tuple[list[str], list[list[str]]]  # header, rows


def _kb(v: int | None) -> str:
    return "" if v is None else f"{v:,}"


def _holding(lk: Lock, pid: int) -> str:
    h = next(h for h in lk.holders if h.pid == pid)
    return lk.name + holding_mark(h.mode, h.inferred)


def task_table(state: State, all_tasks: bool = False) -> Table:
    pids = set(state.tasks.keys()) if all_tasks else involved_pids(state)
    held: dict[int, list[str]] = {}
    waits: dict[int, list[str]] = {}
    for lk in state.locks.values():
        for h in lk.holders:
            held.setdefault(h.pid, []).append(_holding(lk, h.pid))
        for w in lk.waiters:
            waits.setdefault(w.pid, []).append(lk.name)
    rows = []
    for pid in sorted(pids):
        t: Task = state.tasks.get(pid) or Task(pid)
        flags = [f + ("?" if f in t.inferred_flags else "") for f in t.flags]
        rows.append([str(pid), visible(t.comm or ""), t.state or "", " ".join(flags), _kb(t.anon_kb),
                     "" if t.oom_score_adj is None else str(t.oom_score_adj),
                     visible(", ".join(held.get(pid, []))), visible(", ".join(waits.get(pid, [])))])
    return ["pid", "comm", "state", "flags", "anon kB", "adj", "holds", "waits for"], rows


def lock_table(state: State) -> Table:
    rows = []
    for lk in state.locks.values():
        holders = ", ".join(f"{h.pid}{holding_mark(h.mode, h.inferred)}" for h in lk.holders)
        waiters = ", ".join(f"{w.pid}{holding_mark(w.mode, w.inferred)}" for w in lk.waiters)
        rows.append([visible(lk.name), holders, waiters])
    return ["lock", "holders (? = seen in a lock dump)", "waiters"], rows


def zone_table(state: State) -> Table:
    rows = []
    for z in state.zones.values():
        below = z.free_kb is not None and z.min_kb is not None and z.free_kb < z.min_kb
        rows.append([str(z.node), visible(z.zone), _kb(z.free_kb), _kb(z.min_kb), _kb(z.low_kb), _kb(z.high_kb),
                     "below min" if below else ""])
    return ["node", "zone", "free kB", "min kB", "low kB", "high kB", ""], rows


def memcg_table(state: State) -> Table:
    rows = [[visible(m.path), _kb(m.usage_kb), _kb(m.limit_kb), "" if m.failcnt is None else str(m.failcnt)]
            for m in state.memcgs.values()]
    return ["memcg", "usage kB", "limit kB", "failcnt"], rows


def reaper_table(state: State) -> Table:
    rows = []
    for v in state.victims.values():
        mm = state.mms.get(v.mm) if v.mm is not None else None
        skip = "MMF_OOM_SKIP" in mm.flags if mm else False
        rows.append([str(v.pid), visible(v.comm or ""), str(v.killed_seq) if v.killed_seq is not None else "before the log", attempts_text(v),
                     ", ".join(v.attempts[-3:]), reaper_status(v), "yes" if skip else ""])
    return ["victim", "comm", "killed at seq", "attempts", "last outcomes", "reaper", "MMF_OOM_SKIP"], rows


def anomaly_table(state: State) -> Table:
    return ["seq", "anomaly"], [[str(a.seq), visible(a.message)] for a in state.anomalies.values()]


def sections(state: State, all_tasks: bool = False) -> list[tuple[str, Table]]:
    out = [("Tasks", task_table(state, all_tasks)), ("Locks", lock_table(state)), ("Zones", zone_table(state)),
           ("Memory cgroups", memcg_table(state)), ("OOM victims and the reaper", reaper_table(state)),
           ("Anomalies", anomaly_table(state))]
    return [(title, table) for title, table in out if table[1]]


def heading(state: State) -> str:
    at = "" if state.ts_ns is None else f" at {state.ts_ns / 1e9:.6f} s"
    others = len(state.tasks) - len(involved_pids(state))
    return f"State after seq {state.seq}{at}: {count(len(state.tasks), 'task')} ({max(others, 0):,} not involved)"


def to_text(state: State, all_tasks: bool = False) -> str:
    lines = [heading(state)]
    for title, (header, rows) in sections(state, all_tasks):
        widths = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(len(header))]
        lines += ["", title, "  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


def to_markdown(state: State, all_tasks: bool = False) -> str:
    lines = [f"### {heading(state)}"]
    for title, (header, rows) in sections(state, all_tasks):
        lines += ["", f"**{title}**", "", "| " + " | ".join(header) + " |",
                  "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(markdown_text(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def to_json(state: State) -> dict[str, Any]:
    """Every table in full, records as objects (names from the model's records)."""
    return {"seq": state.seq, "ts_ns": state.ts_ns,
            **{name: [_record(r) for r in table.values()] for name, table in state.tables().items()}}


def _record(rec: Any) -> Any:
    if hasattr(rec, "_asdict"):
        return {k: _record(v) for k, v in rec._asdict().items()}
    if isinstance(rec, tuple):
        return [_record(v) for v in rec]
    return rec
