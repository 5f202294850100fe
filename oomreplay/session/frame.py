"""What every panel shows at one cursor position, computed off the UI loop from the public trace API.

A ``Frame`` holds only plain values (strings, ints, records): building it reads and decodes the trace, so it
happens in the loader's thread, and the widgets then paint from it without touching the file. No Textual here,
so the logic is testable and importable on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePath
from typing import NamedTuple

from .._util.safetext import visible
from ..analysis import WaitGraph, holding_mark, mm_locks, other_involved, task_is_involved, wait_graph
from ..model import Event, Lock, Memcg, MemInfo, State, Task, Victim, Zone
from ..store import Trace
from .hindsight import MM_LOCK as HINDSIGHT_MM
from .hindsight import Hindsight, Later
from .lockorder import ordered_locks

#: Lines of log or events shown either side of the cursor's event.
LOG_CONTEXT = 30  # enough for the log full screen (L) at 60 rows, and to scroll a little
#: Wait-for chains listed at most (the longest first would cost a sort of all of them; these are in pid order).
MAX_CHAINS = 8


@dataclass(frozen=True)
class TaskRow:
    """One line of the tasks panel, already formatted (untrusted text made visible)."""

    pid: int
    comm: str
    state: str
    flags: str  # inferred flags end with "?"
    rss_kb: str
    adj: str
    holds: str
    waits: str
    rss_total_kb: int  # for sorting: -1 when unknown
    adj_value: int  # for sorting: below -1000 when unknown


@dataclass(frozen=True)
class TraceInfo:
    """What is known once the trace is open: fixed for the whole session."""

    name: str
    kernel: str
    count: int
    first_ts: int | None
    last_ts: int | None
    buckets: list  # Overview buckets over the whole trace (the timeline resamples them to its width)
    marks: dict[str, list[int]]  # kind -> times (ns) of its events, for the kinds the timeline marks
    recovered: str | None = None


@dataclass
class Frame:
    """The machine after event ``seq`` (``-1``: before the first) as the panels show it."""

    seq: int
    ts_ns: int | None
    event: Event | None
    tasks: list[TaskRow]
    involved: frozenset[int]
    changed: frozenset[int]  # pids whose row the cursor's event changed (differs from the state before it)
    zones: list[Zone]
    meminfo: list[MemInfo]  # the latest Mem-Info summary (at most one: scope "global")
    memcgs: list[Memcg]
    locks: list[Lock]
    victims: list[Victim]
    oom_skip: frozenset[int]  # mm ids flagged MMF_OOM_SKIP
    log_title: str
    log_lines: list[tuple[bool, str]]  # (is the cursor's line, text made visible)
    comms: dict[int, str] = field(default_factory=dict)  # pid -> visible comm, for the lock and reaper panels
    chains: list[str] = field(default_factory=list)  # wait-for chains and cycles, made visible
    #: victim pid -> who holds or waits for the mm lock the reaper needs (made visible; "?" when only a lock of
    #: that name is known, from a lockdep dump)
    blockers: dict[int, str] = field(default_factory=dict)
    #: what the next lockdep dump will say that is not known yet at this moment (``hindsight``)
    later: Later | None = None


def _rss_kb(t: Task) -> int:
    parts = [v for v in (t.anon_kb, t.file_kb, t.shmem_kb) if v is not None]
    return sum(parts) if parts else -1


def _task_row(t: Task, holds: list[str], waits: list[str]) -> TaskRow:
    flags = " ".join(f + ("?" if f in t.inferred_flags else "") for f in t.flags)
    rss = _rss_kb(t)
    return TaskRow(t.pid, visible(t.comm or ""), t.state or "", flags, f"{rss:,}" if rss >= 0 else "",
                   "" if t.oom_score_adj is None else str(t.oom_score_adj),
                   visible(", ".join(holds)), visible(", ".join(waits)), rss,
                   -1001 if t.oom_score_adj is None else t.oom_score_adj)


class RowCache:
    """Formatted rows by pid, reused while a task's record and locks are unchanged: formatting 10,000 rows on
    every step would cost more than the step itself."""

    def __init__(self) -> None:
        self._rows: dict[int, tuple[Task, tuple, tuple, TaskRow]] = {}

    def row(self, t: Task, holds: list[str], waits: list[str]) -> TaskRow:
        key_h, key_w = tuple(holds), tuple(waits)
        hit = self._rows.get(t.pid)
        if hit is not None and (hit[0] is t or hit[0] == t) and hit[1] == key_h and hit[2] == key_w:
            return hit[3]
        row = _task_row(t, holds, waits)
        self._rows[t.pid] = (t, key_h, key_w, row)
        return row


def _lock_columns(state: State) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    held: dict[int, list[str]] = {}
    waits: dict[int, list[str]] = {}
    for lk in state.locks.values():
        for h in lk.holders:
            held.setdefault(h.pid, []).append(lk.name + holding_mark(h.mode, h.inferred))
        for w in lk.waiters:
            waits.setdefault(w.pid, []).append(lk.name)
    return held, waits


def wait_chains(graph: WaitGraph, comms: dict[int, str]) -> list[str]:
    """``5 (a.out) → mmap_lock → 63 (khugepaged) → …`` from each task nobody waits behind, following the first
    holder at each lock; an inferred edge (a lockdep dump) is marked ``?``; then each cycle."""
    def who(pid: int) -> str:
        return f"{pid} ({comms[pid]})" if comms.get(pid) else str(pid)

    blocking = {e.holder for e in graph.edges}
    out = []
    for root in sorted({e.waiter for e in graph.edges} - blocking):
        parts, pid, seen = [who(root)], root, {root}
        while (edges := graph.out_of(pid)) and edges[0].holder not in seen:
            e = edges[0]
            parts += [visible(e.lock) + ("?" if e.inferred else ""), who(e.holder)]
            pid = e.holder
            seen.add(pid)
        out.append(" → ".join(parts))
    out += ["cycle: " + " → ".join(who(p) for p in (*cyc, cyc[0])) for cyc in graph.cycles]
    return out[:MAX_CHAINS]


def reaper_blockers(state: State, victims: list[Victim], comms: dict[int, str],
                    later: Later | None = None) -> dict[int, str]:
    """For each victim not yet reaped: ``mmap_sem: 63 (khugepaged) w, waiting 5`` from the locks the reaper's
    trylock would meet (``analysis.mm_locks``); when the state knows none, what the next lock dump will say of
    the mm lock, marked as such (``hindsight``)."""
    out = {}
    for v in victims:
        if v.outcome == "reaped" or v.exited:
            continue
        locks, confidence = mm_locks(state, v)
        mark = "" if confidence == "high" else "?"
        parts = []
        for lk in locks:
            held = [f"{h.pid}" + (f" ({comms[h.pid]})" if comms.get(h.pid) else "") + f" {h.mode or ''}".rstrip()
                    for h in lk.holders]
            waiting = [str(w.pid) for w in lk.waiters]
            parts.append(f"{visible(lk.name)}{mark}: " + ", ".join(held or ["no holder"])
                         + (f"; waiting {', '.join(waiting)}" if waiting else ""))
        if not parts and later is not None:
            parts = [f"{name}? ({later.label()}): " + ", ".join(
                f"{h.pid}" + (f" ({h.comm})" if h.comm else "") for h in held)
                for name, held in later.locks if HINDSIGHT_MM.search(name)]
        if parts:
            out[v.pid] = "; ".join(parts)
    return out


def _log(trace: Trace, seq: int, event: Event | None) -> tuple[str, list[tuple[bool, str]]]:
    """The source lines around the event's origin, or, when it has none, the events around it."""
    if event is not None and event.src is not None:
        sources = trace.sources
        # the file's name, not its path: the panel's title has little room, and the directory says nothing here
        name = PurePath(sources[event.src.file][0]).name if event.src.file < len(sources) else "?"
        first = max(1, event.src.line - LOG_CONTEXT)
        lines = trace.source_lines(first, event.src.line + LOG_CONTEXT, event.src.file)
        return (f"{visible(name)}:{event.src.line}",
                [(first + i == event.src.line, visible(text)) for i, text in enumerate(lines)])
    start = max(0, seq - LOG_CONTEXT)
    evs = trace.events(start, min(len(trace), seq + LOG_CONTEXT + 1))
    return "events (no source line)", [(ev.seq == seq, describe(ev)) for ev in evs]


def describe(ev: Event) -> str:
    """One event as a line of text, inferred fields marked with "?"."""
    fields = " ".join(f"{k}={visible(v)}{'?' if k in ev.inferred else ''}" for k, v in ev.fields.items())
    pid = "" if ev.pid is None else f" {ev.pid}"
    return f"#{ev.seq} {ev.ts_ns / 1e9:.6f} {ev.kind}{pid} {fields}".rstrip()


class _Built(NamedTuple):
    """What the next frame is patched from: the last frame, its state, and what was derived on the way."""

    state: State
    frame: Frame
    held: dict[int, list[str]]
    waits: dict[int, list[str]]
    index: dict[int, int]  # the row of each pid in ``frame.tasks``
    flagged: frozenset[int]  # pids involved by their own record
    others: set[int]  # victims and OOM invokers


class FrameBuilder:
    """Builds the frames of one trace in the loader thread, each from the one before when it can.

    A step changes a task or two, so the tasks list, the task-flag part of "involved" and the changed set are
    patched from the previous frame (``State.changed_keys``: by page identity, so a step compares a page
    or two, not 10,000 records; None when the states share no pages, and then the frame is rebuilt); a seek to another keyframe, or a task that appears or
    goes, rebuilds them from the whole state."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.rows = RowCache()
        self._last: _Built | None = None
        #: the trace's lock dumps, found once (the builder is made in the loader's thread, before any frame)
        self.hindsight = Hindsight(trace)

    @property
    def state(self) -> State | None:
        """The state the last frame was built from (``replay --against`` compares the two sides' by role)."""
        return self._last.state if self._last is not None else None

    def build(self, seq: int) -> Frame:
        """Read the state after ``seq`` and everything the panels need from it.

        ``changed`` is what the cursor's event did, whichever way the cursor came: unless the last frame is the
        one just before, that one is built first (a step back or a jump costs one more, patched, frame), so after
        a jump to a kill the rows marked are those the kill changed, not every row that differs from where the
        cursor was."""
        if seq >= 0 and (self._last is None or self._last.frame.seq != seq - 1):
            self._frame(seq - 1)
        return self._frame(seq)

    def _frame(self, seq: int) -> Frame:
        trace = self.trace
        state = trace.state_at(seq)
        event = trace.event(seq) if seq >= 0 else None
        same = self._unchanged(state)
        last = self._last
        held, waits = (last.held, last.waits) if last is not None and "locks" in same else _lock_columns(state)
        patched = self._patched(state, held, waits)
        if patched is None:
            tasks = [self.rows.row(t, held.get(t.pid, []), waits.get(t.pid, [])) for t in state.tasks.values()]
            index = {r.pid: i for i, r in enumerate(tasks)}
            flagged = frozenset(t.pid for t in state.tasks.values() if task_is_involved(t))
            changed = self._changed_rows(tasks)
        else:
            tasks, index, flagged, changed = patched
        # what a step did not touch is the last frame's: these tables grow with the incident (every OOM, every
        # victim, every mm), and listing them again at each step would cost in proportion to the trace
        before = last.frame if last is not None else None
        victims = before.victims if before is not None and "victims" in same else state.victims.values()
        locks = (before.locks if before is not None and {"locks", "victims"} <= same
                 else ordered_locks(state.locks.values(), victims))
        zones = before.zones if before is not None and "zones" in same else state.zones.values()
        memcgs = before.memcgs if before is not None and "memcgs" in same else state.memcgs.values()
        meminfo = before.meminfo if before is not None and "meminfo" in same else state.meminfo.values()
        others = last.others if last is not None and {"victims", "ooms"} <= same else other_involved(state)
        oom_skip = before.oom_skip if before is not None and "mms" in same else frozenset(
            mm.id for mm in state.mms.values() if "MMF_OOM_SKIP" in mm.flags)
        involved = flagged | others | held.keys() | waits.keys()
        wanted = {v.pid for v in victims} | held.keys() | waits.keys()
        comms = {pid: visible(t.comm or "") for pid in wanted if (t := state.tasks.get(pid)) is not None}
        log_title, log_lines = _log(trace, seq, event)
        later = self.hindsight.later(seq, state)
        frame = Frame(seq=seq, ts_ns=state.ts_ns, event=event, tasks=tasks, involved=frozenset(involved),
                      changed=changed, zones=zones, meminfo=meminfo, memcgs=memcgs, locks=locks,
                      victims=victims, oom_skip=oom_skip, log_title=log_title, log_lines=log_lines, comms=comms,
                      chains=wait_chains(wait_graph(state), comms),
                      blockers=reaper_blockers(state, victims, comms, later), later=later)
        self._last = _Built(state, frame, held, waits, index, flagged, others)
        return frame

    def _unchanged(self, state: State) -> set[str]:
        """The tables in which the step from the last frame's state changed no record."""
        if self._last is None:
            return set()
        old = self._last.state
        return {name for name in ("victims", "locks", "zones", "meminfo", "memcgs", "ooms", "mms")
                if old.changed_keys(state, name) == set()}

    def _changed_rows(self, tasks: list[TaskRow]) -> frozenset[int]:
        if self._last is None:
            return frozenset()
        before = {r.pid: r for r in self._last.frame.tasks}
        return frozenset(r.pid for r in tasks if before.get(r.pid) != r)

    def _patched(self, state: State, held: dict, waits: dict) -> tuple | None:
        """``(tasks, index, flagged, changed)`` patched from the previous frame, or None to rebuild."""
        if self._last is None:
            return None
        last = self._last
        index = last.index
        keys = last.state.changed_keys(state, "tasks")
        if keys is None or any((k in index) != (k in state.tasks) for k in keys):
            return None  # another keyframe's pages, or a task came or went: the order changes
        touched = set(keys)
        touched.update(p for p in held.keys() | last.held.keys() if held.get(p) != last.held.get(p))
        touched.update(p for p in waits.keys() | last.waits.keys() if waits.get(p) != last.waits.get(p))
        tasks = list(last.frame.tasks)
        changed = set()
        flags = set(last.flagged)
        for pid in touched:
            t = state.tasks.get(pid)
            if t is None:
                continue
            row = self.rows.row(t, held.get(pid, []), waits.get(pid, []))
            if row != tasks[index[pid]]:
                tasks[index[pid]] = row
                changed.add(pid)
            if task_is_involved(t):
                flags.add(pid)
            else:
                flags.discard(pid)
        return tasks, index, frozenset(flags), frozenset(changed)


#: Kinds the timeline marks, and how many events of a kind are read for their exact times (more are placed by
#: the overview: reading thousands of events scattered over a large trace would delay the first frame).
MARKED = ("oom_kill", "reaper_attempt", "oom_invoke", "stall")
MARKS_READ = 256


def trace_info(trace: Trace, buckets: int = 512) -> TraceInfo:
    """Fixed facts and the timeline's data, read from the overview and the index only, so opening costs the same
    whatever the trace's size."""
    overview = trace.overview(buckets=buckets) if len(trace) else []
    return TraceInfo(name=visible(trace.path.name), kernel=visible(trace.meta.get("kernel") or "unknown"),
                     count=len(trace), first_ts=trace.first_ts, last_ts=trace.last_ts, buckets=overview,
                     marks=_marks(trace, overview), recovered=visible(trace.recovered) if trace.recovered else None)


def _marks(trace: Trace, overview: list) -> dict[str, list[int]]:
    """The times to mark, per kind: each event's own time when there are few (read through the change lists),
    else the middle of each overview bucket holding some. Stalls need each alloc's outcome, so they are marked
    only when allocations are few enough to read."""
    totals = {kind: sum(b.counts.get(kind, 0) for b in overview) for kind in (*MARKED, "alloc")}
    marks: dict[str, list[int]] = {}
    for kind in MARKED:
        if kind == "stall":
            continue
        if totals[kind] <= MARKS_READ:
            marks[kind] = [ev.ts_ns for ev in trace.events(kind=kind)]
        else:
            marks[kind] = [(b.t0_ns + b.t1_ns) // 2 for b in overview if b.counts.get(kind)]
    marks["stall"] = ([ev.ts_ns for ev in trace.events(kind="alloc") if ev.get("outcome") in ("stall", "fail")]
                      if totals["alloc"] <= MARKS_READ else [])
    return marks
