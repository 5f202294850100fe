"""Why one OOM invocation happened and whether the victim was the kernel's best candidate.

Reads the report as the kernel prints it (kernel-formats.md §1.1): the invoking allocation, then Mem-Info (zones,
memcg), then the task table, then the kill. So zones and memcgs are read from the state at the kill, which holds
the whole report. Badness is recomputed from the task table as ``oom_badness`` does (§1.10): rss + swap entries
+ page tables, in pages, plus ``oom_score_adj * totalpages / 1000``; for a memcg OOM ``totalpages`` is the memcg
limit. When the table has no adj differences the scale does not matter and ranking is exact; when it does and
``totalpages`` is unknown, no ranking is claimed.
"""

from __future__ import annotations

import re

from typing import NamedTuple

from ..model import Event, Memcg, OomInvocation, State, Zone
from ..store import Trace
from .evidence import Evidence, cite

PAGE_KB = 4  # the task table prints pages; every recorded machine in the corpus uses 4 KiB pages


class Candidate(NamedTuple):
    pid: int
    comm: str | None
    points: int  # recomputed badness, in pages
    oom_score_adj: int | None
    evidence: Evidence


class Ranking(NamedTuple):
    victim: int
    victim_points: int | None  # None: the victim is not in the task table (a sacrificed child, a thread)
    best: tuple[int, ...]  # pids with the highest points
    matches: bool  # the kernel killed (the process of) a highest-points candidate
    totalpages: int | None
    basis: str  # how totalpages was found, or why the adj term did not matter


class OomCause(NamedTuple):
    index: int
    invoke: Evidence | None
    invoker: int | None
    invoker_comm: str | None
    gfp: str | None
    order: int | None
    constraint: str | None
    memcg: str | None
    kill: Evidence | None
    victim: int | None
    victim_comm: str | None
    zones_below_min: tuple[Zone, ...]
    memcgs_at_limit: tuple[Memcg, ...]
    stalls: tuple[Evidence, ...]  # allocation stalls and failures since the previous invocation
    candidates: tuple[Candidate, ...]
    ranking: Ranking | None
    allocating: tuple[str, ...] = ()  # the Call Trace's frames below the allocator, innermost first
    end: Evidence | None = None  # the last oom_end of an invocation that ended without a kill (or in a panic)
    outcome: str | None = None  # its outcome and reason (model.events.OOM_END_OUTCOMES / OOM_END_REASONS)
    reason: str | None = None


def oom_causes(trace: Trace, until: int) -> list[OomCause]:
    """Every OOM invocation (or kill without a logged invocation) up to seq ``until``."""
    state = trace.state_at(until)
    out = [_cause(trace, inv, until) for inv in sorted(state.ooms.values(), key=lambda o: o.index)]
    seen = {c.kill.seq for c in out if c.kill}
    for ev in trace.events(0, until + 1, kind="oom_kill"):
        if ev.seq not in seen:  # a kill whose report header the log lost, or a tracepoint-only kill
            out.append(_kill_only(trace, ev))
    return sorted(out, key=lambda c: (c.invoke or c.kill or c.end).seq)  # type: ignore[union-attr]


def _kill_only(trace: Trace, kill: Event) -> OomCause:
    return OomCause(-1, None, None, None, None, None, kill.get("constraint"), kill.get("memcg"), cite(trace, kill),
                    kill.pid, kill.get("comm"), (), (), (), (), None)


def _cause(trace: Trace, inv: OomInvocation, until: int) -> OomCause:
    start = inv.seq if inv.seq is not None else 0
    nxt = trace.next(start, kind="oom_invoke")
    stop = min(until + 1, nxt if nxt is not None else until + 1)
    kill_seq = trace.next(start, kind="oom_kill")
    kill = trace.event(kill_seq) if kill_seq is not None and kill_seq < stop else None
    report_end = kill.seq if kill is not None else stop - 1
    state = trace.state_at(report_end)
    memcg = inv.memcg or (kill.get("memcg") if kill else None)
    zones = tuple(z for z in state.zones.values()
                  if z.free_kb is not None and z.min_kb is not None and z.free_kb < z.min_kb)
    memcgs = tuple(m for m in state.memcgs.values()
                   if m.limit_kb is not None and m.usage_kb is not None and m.usage_kb >= m.limit_kb
                   and m.since is not None and m.since >= start)
    prev = trace.prev(start, kind="oom_invoke")
    stalls = tuple(cite(trace, ev) for ev in trace.events(0 if prev is None else prev + 1, start, kind="alloc")
                   if ev.get("outcome") in ("stall", "fail"))
    cand_events = list(trace.events(start, report_end + 1, kind="oom_candidate"))
    memcg_rec = state.memcgs.get(memcg) if memcg else None
    totalpages = (memcg_rec.limit_kb // PAGE_KB if memcg_rec and memcg_rec.limit_kb else None)
    basis = f"memcg {memcg} limit" if totalpages else "unknown"
    candidates = tuple(_candidate(trace, ev, totalpages) for ev in cand_events)
    adjs = {ev.get("oom_score_adj") or 0 for ev in cand_events}
    if totalpages is None and len(adjs) <= 1:
        basis = "all candidates have the same oom_score_adj, so the scale does not change the ranking"
    ranking = None
    if kill is not None and candidates and (totalpages is not None or len(adjs) <= 1):
        ranking = _rank(trace, kill, candidates, totalpages, basis)
    constraint = inv.constraint or (kill.get("constraint") if kill else None)
    invoke_event = trace.event(inv.seq) if inv.seq is not None else None
    if invoke_event is not None and invoke_event.kind != "oom_invoke":
        invoke_event = None  # an invocation only its ending shows: the log lost the header
    invoke = cite(trace, invoke_event) if invoke_event is not None else None
    end_seq = trace.prev(stop, kind="oom_end") if inv.outcome is not None else None
    end = cite(trace, trace.event(end_seq)) if end_seq is not None and end_seq >= start else None
    return OomCause(inv.index, invoke, inv.invoker, _comm(state, inv.invoker), inv.gfp, inv.order, constraint,
                    memcg, cite(trace, kill) if kill else None, kill.pid if kill else None,
                    kill.get("comm") if kill else None, zones, memcgs, stalls, candidates, ranking,
                    allocating_frames(invoke_event.get("stack", ()) if invoke_event is not None else ()), end,
                    inv.outcome, inv.reason)


#: Frames of the report's own path (printing, choosing, killing) and of the page allocator or memcg charge
#: that called it: what is below them is the code that wanted the memory.
#: Frames that allocate or charge memory: a failed allocation calls the OOM killer from below them.
_ALLOCATOR = re.compile(r"alloc_pages|__alloc|folio_alloc|alloc_folio|get_free_page|get_zeroed_page|charge|"
                        r"kmem_cache_alloc|kmalloc|slab_alloc|post_alloc_hook")
#: OOMs no allocation asked for: SysRq-f (``moom_callback``, order 0 before 4.x) and a memcg OOM finished at the end
#: of the page fault (``pagefault_out_of_memory``); what called them did not want memory.
_NO_ALLOCATION = re.compile(r"moom_callback|sysrq|pagefault_out_of_memory")
#: Frames shown of the allocating path.
ALLOCATING_SHOWN = 5


def allocating_frames(stack: tuple[str, ...]) -> tuple[str, ...]:
    """The first frames below the allocator in a Call Trace (innermost first): what wanted the memory. None when
    no allocation is on the stack, so frames of an OOM nobody allocated for are never presented as its cause."""
    if any(_NO_ALLOCATION.search(fn) for fn in stack):
        return ()
    last = max((i for i, fn in enumerate(stack) if _ALLOCATOR.search(fn)), default=None)
    return () if last is None else tuple(stack[last + 1:last + 1 + ALLOCATING_SHOWN])


def _comm(state: State, pid: int | None) -> str | None:
    t = state.tasks.get(pid) if pid is not None else None
    return t.comm if t else None


def badness(rss_pages: int, swapents: int, pgtables_bytes: int, adj: int, totalpages: int | None) -> int:
    """``oom_badness`` in pages; the adj term is left out when ``totalpages`` is unknown (callers check adj)."""
    points = rss_pages + swapents + pgtables_bytes // (PAGE_KB * 1024)
    if totalpages is not None:
        points += adj * totalpages // 1000
    return points


def _candidate(trace: Trace, ev: Event, totalpages: int | None) -> Candidate:
    adj = ev.get("oom_score_adj")
    points = badness(ev.get("rss_pages") or 0, ev.get("swapents") or 0, ev.get("pgtables_bytes") or 0, adj or 0,
                     totalpages)
    return Candidate(ev.pid or 0, ev.get("comm"), points, adj, cite(trace, ev))


def _rank(trace: Trace, kill: Event, candidates: tuple[Candidate, ...], totalpages: int | None,
          basis: str) -> Ranking:
    top = max(c.points for c in candidates)
    best = tuple(sorted(c.pid for c in candidates if c.points == top))
    mine = [c for c in candidates if c.pid == kill.pid]
    return Ranking(kill.pid or 0, mine[0].points if mine else None, best, bool(mine) and mine[0].points == top,
                   totalpages, basis)
