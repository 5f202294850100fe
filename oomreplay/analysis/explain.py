"""The incident's story at one seq: why each OOM happened, why the reaper failed, who waits for whom, and which
invariants break — as plain sentences, each with its evidence.

The sentences are data (the CLI lays them out as text, Markdown or JSON and escapes them); every one carries the
events it rests on and says when they are inferred.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..store import Trace
from .evidence import Evidence, cite
from .invariants import ENDED_BY, RULES, Violation, check_all
from ..model import State
from .kernel import NEWEST, Kernel, kernel_of
from .oom import OomCause, oom_causes
from .reaper import Reaped, ReaperFailure, reaped, unreaped, why_unreaped
from .waitfor import WaitGraph, wait_graph

CONFIDENCE = {
    "high": "lock events name the victim's mm",
    "low": ("the evidence is a lock of that name without an mm, from a lockdep dump (inferred): it may be another "
            "process's mmap lock, and a lockdep dump lists tasks queued for the lock among its holders"),
    "guess": ("the trace has no lock events; these are the victim's blocked threads or children, the only "
              "suspects"),
}
# (none ends with "(inferred)": a finding that is not of high confidence is marked inferred, and the views append
# it, which made "suspects (inferred). (inferred)")


#: The topics of findings, in the order a reader wants them, with their headings.
TOPICS = {"oom": "Why the OOM happened", "reaper": "The OOM reaper", "locks": "Who waits for whom",
          "invariant": "Invariants"}


class Finding(NamedTuple):
    topic: str  # a key of TOPICS
    text: str  # untrusted names inside: print through ``safetext.visible``
    evidence: tuple[Evidence, ...]
    inferred: bool  # rests on at least one deduced fact


class Explanation(NamedTuple):
    seq: int
    ts_ns: int | None
    kernel: Kernel
    ooms: tuple[OomCause, ...]
    failures: tuple[ReaperFailure, ...]
    reaped: tuple[Reaped, ...]
    graph: WaitGraph
    violations: tuple[Violation, ...]
    findings: tuple[Finding, ...]


def explain(trace: Trace, seq: int | None = None, *, kernel: Kernel | None = None,
            violations: list[Violation] | None = None) -> Explanation:
    """Everything known at ``seq`` (the end of the trace by default); invariants over the trace up to it.

    ``kernel`` and ``violations`` (``kernel_of`` and ``check_all`` of this trace) may be passed in: they cover the
    whole trace, so a viewer explaining moment after moment computes them once.
    """
    last = len(trace) - 1
    seq = last if seq is None else min(seq, last)
    kernel = kernel or kernel_of(trace)
    if violations is None:
        violations = check_all(trace, kernel)
    state = trace.state_at(seq)
    ooms = tuple(oom_causes(trace, seq)) if seq >= 0 else ()
    failures = tuple(why_unreaped(trace, v, seq) for v in sorted(unreaped(state), key=lambda v: v.pid))
    done = tuple(reaped(trace, state))
    graph = wait_graph(state)
    upto = tuple(v for v in violations if v.seq <= seq)
    findings = ([f for c in ooms for f in _oom_findings(trace, c)]
                + [f for r in failures for f in _failure_findings(r, state, kernel)]
                + [_reaped_finding(r, state, kernel) for r in done] + _graph_findings(trace, graph)
                + _invariant_findings(kernel, upto))
    return Explanation(seq, state.ts_ns, kernel, ooms, failures, done, graph, upto, tuple(findings))


def _s(ns: int | None) -> str:
    return "?" if ns is None else f"{ns / 1e9:.6f} s"


def _who(pid: int | None, comm: str | None) -> str:
    """A task as the sentences name it; a pid the trace does not know is said so, not printed as "None"."""
    if pid is None:
        return f"{comm} (pid unknown)" if comm else "a task the trace does not name"
    return f"{pid} ({comm})" if comm else str(pid)


def _at(trace: Trace, seq: int | None) -> tuple[Evidence, ...]:
    return () if seq is None or seq < 0 else (cite(trace, trace.event(seq)),)


def _finding(topic: str, text: str, evidence: tuple[Evidence, ...], inferred: bool = False) -> Finding:
    return Finding(topic, text, evidence, inferred or any(e.inferred for e in evidence))


def _oom_findings(trace: Trace, c: OomCause) -> list[Finding]:
    out = []
    if c.invoke is not None:
        what = " ".join(x for x in (f"order-{c.order}" if c.order is not None else "", c.gfp or "") if x)
        where = f" in memcg {c.memcg}" if c.memcg else ""
        constraint = f" ({c.constraint})" if c.constraint else ""
        out.append(_finding("oom", f"OOM #{c.index + 1} at {_s(c.invoke.ts_ns)}: {_who(c.invoker, c.invoker_comm)} "
                            f"invoked the OOM killer for an {what or 'unknown'} allocation{where}{constraint}.",
                            (c.invoke,)))
        if c.allocating:
            out.append(_finding("oom", f"The memory was wanted by {' ← '.join(c.allocating)} (the report's Call "
                                "Trace, innermost first, below the allocator).", (c.invoke._replace(inferred=False),)))
    for z in c.zones_below_min:
        reserve = f", lowmem_reserve {list(z.lowmem_reserve_kb)} kB" if z.lowmem_reserve_kb else ""
        out.append(_finding("oom", f"Zone {z.node}:{z.zone} was below its min watermark: free {z.free_kb} kB < "
                            f"min {z.min_kb} kB{reserve}.", _at(trace, z.since)))
    for m in c.memcgs_at_limit:
        out.append(_finding("oom", f"Memory cgroup {m.path} was at its limit: usage {m.usage_kb} kB of "
                            f"{m.limit_kb} kB (failcnt {m.failcnt}).", _at(trace, m.since)))
    if c.stalls:
        what = "allocation stall or failure came" if len(c.stalls) == 1 else "allocation stalls or failures came"
        seqs = f"seq {c.stalls[0].seq}" if len(c.stalls) == 1 else f"seqs {c.stalls[0].seq}..{c.stalls[-1].seq}"
        out.append(_finding("oom", f"{len(c.stalls):,} {what} before it ({seqs}).", (c.stalls[0], c.stalls[-1])))
    if c.kill is not None:
        out.append(_finding("oom", f"The kernel killed {_who(c.victim, c.victim_comm)} at {_s(c.kill.ts_ns)}.",
                            (c.kill,)))
    if c.end is not None:
        out.append(_finding("oom", _ending_text(c), (c.end,)))
    r = c.ranking
    if r is not None:
        best = ", ".join(str(p) for p in r.best)
        if r.matches:
            among = (f"the highest of the {len(c.candidates):,} candidates" if len(c.candidates) != 1
                     else "that of the only candidate")
            text = f"Its recomputed badness, {r.victim_points} pages, was {among} in the task table ({r.basis})."
        elif r.victim_points is None:
            text = (f"The victim is not in the task table; the highest badness was {best}: the kernel killed another "
                    f"task than the one it scored (a sacrificed child, or a thread of it).")
        else:
            text = (f"The kernel's choice does not match the highest badness: {r.victim} scored {r.victim_points} "
                    f"pages, {best} scored more ({r.basis}).")
        out.append(_finding("oom", text, tuple(cand.evidence for cand in c.candidates)))
    elif c.kill is not None and c.candidates:
        out.append(_finding("oom", "The task table's oom_score_adj values differ and the total pages they scale by "
                            "are unknown, so the victim's rank is not claimed.", ()))
    return out


#: What each ``oom_end`` reason says happened, as a finding's sentence.
_ENDINGS = {
    "no_killable": "no task could be killed ('Out of memory and no killable processes...')",
    "deadlocked": "no task could be killed, and the kernel panicked: 'System is deadlocked on memory'",
    "panic_on_oom": "vm.panic_on_oom=1 made the kernel panic instead of killing ('system-wide')",
    "panic_on_oom_compulsory": "vm.panic_on_oom=2 made the kernel panic instead of killing ('compulsory')",
}


def _ending_text(c: OomCause) -> str:
    """The sentence for an invocation that ended without a kill (an unknown reason is quoted as the trace says)."""
    why = _ENDINGS.get(str(c.reason), f"its reason {c.reason!r} is unknown to oomreplay")
    panic = " The machine panicked; the log after it is not the same boot." if c.outcome == "panic" else ""
    assert c.end is not None
    return f"OOM #{c.index + 1} ended without a kill at {_s(c.end.ts_ns)}: {why}.{panic}"


#: The reaper's constants, unchanged 4.6 -> 6.x (mm/oom_kill.c): tries per round and the sleep between them.
_TRIES, _SLEEP_S = 10, 0.1


def _timer(kernel: Kernel) -> str:
    """OOM_REAPER_DELAY (queue_oom_reaper, 5.18+ and some stable backports): the first try waits 2 s."""
    newer = kernel.within((((5, 18, 0), NEWEST),))
    if newer is False:
        return ""
    return (" The first try came no earlier than 2 s after the kill (OOM_REAPER_DELAY, queue_oom_reaper"
            + (", 5.18+)." if newer else ", if this kernel is 5.18+ or has the backport)."))


def _flag_after(kernel: Kernel, reaped: bool) -> str:
    """What the reaper left behind on this kernel, or every possibility when the version range spans them."""
    rules = [(((4, 6, 0), (4, 7, 0)), "4.6: TIF_MEMDIE cleared" if reaped else "4.6: nothing"),
             (((4, 7, 0), (4, 8, 0)), "4.7: MMF_OOM_REAPED set, TIF_MEMDIE cleared" if reaped else
              "4.7: TIF_MEMDIE cleared"),
             (((4, 8, 0), (4, 9, 0)), "4.8: MMF_OOM_REAPED set, TIF_MEMDIE cleared" if reaped else
              "4.8: MMF_OOM_NOT_REAPABLE set, TIF_MEMDIE cleared"),
             (((4, 9, 0), NEWEST), "4.9+: MMF_OOM_SKIP set")]
    fits = [text for span, text in rules if kernel.within((span,)) is not False]
    if len(fits) == 1:
        return f" Then, as on {fits[0]}."
    return f" What it then set depends on the version, which the log does not pin down: {'; '.join(fits)}."


def _failure_findings(r: ReaperFailure, state: State, kernel: Kernel) -> list[Finding]:
    v = state.victims.get(r.victim)
    gave_up = f" and gave up at seq {r.done.seq}" if r.done else ""
    ev = tuple(r.attempts) + ((r.done,) if r.done else ())
    if v is not None and v.implied:
        # a log's "unable to reap": one line after MAX_OOM_REAP_RETRIES failed tries HZ/10 apart (oom_reap_task)
        tries = (f"{len(v.attempts)} attempts over about {(len(v.attempts)) * _SLEEP_S:.0f} s (inferred: the kernel "
                 f"prints only the last; each try is followed by a {_SLEEP_S * 1000:.0f} ms sleep) failed")
        inferred = True
    else:
        n = len(v.attempts) if v is not None else len(r.attempts)
        tries = f"{n} attempt{'s' if n != 1 else ''} failed"
        inferred = False
    rounds = f" (round {v.rounds}: the OOM killer queued it again, as 4.6-4.8 do)" if v is not None and v.rounds > 1 else ""
    out = [_finding("reaper", f"The OOM reaper could not reap {_who(r.victim, r.comm)}: {tries}{gave_up}{rounds}."
                    + _timer(kernel) + (_flag_after(kernel, False) if r.done else ""), ev, inferred)]
    lock = r.lock or "the victim's mmap lock"
    out.append(_finding("reaper", f"Each attempt needs {lock} of mm {r.mm} for read (a trylock); confidence "
                        f"{r.confidence}: {CONFIDENCE[r.confidence]}.", (), r.confidence != "high"))
    for s in r.suspects:
        doing = ", ".join(x for x in (f"mode {s.mode}" if s.mode else "", f"state {s.state}" if s.state else "",
                                      f"at {s.site}" if s.site else "") if x)
        on = f" {s.lock}" if s.lock else ""
        out.append(_finding("reaper", f"{_who(s.pid, s.comm)}: {s.role}{on}" + (f" ({doing})." if doing else "."),
                            s.evidence, r.confidence != "high" or s.role == "holder or queued"))
    return out


def _reaped_finding(r: Reaped, state: State, kernel: Kernel) -> Finding:
    v = state.victims.get(r.victim)
    if r.after_kill_ns is not None:
        after = f", {r.after_kill_ns / 1e9:.3f} s after the kill"
    else:
        after = ", killed before the log starts (when is unknown)"
    which = ""
    if v is not None and v.unseen:
        # "reaped process" is printed by the successful try; up to nine silent failures may come before it
        which = f" on attempt {len(v.attempts)}–{len(v.attempts) + v.unseen} (earlier failures print nothing)"
    return _finding("reaper", f"The OOM reaper reaped {_who(r.victim, r.comm)} at {_s(r.done.ts_ns)}{after}{which}."
                    + _timer(kernel) + _flag_after(kernel, True), (r.done,), bool(which))


def _graph_findings(trace: Trace, g: WaitGraph) -> list[Finding]:
    out = []
    for e in g.edges:
        ev = _at(trace, e.wait_seq) + _at(trace, e.hold_seq)
        out.append(_finding("locks", f"{e.waiter} waits for {e.lock}, held by {e.holder}.", ev, e.inferred))
    for cyc in g.cycles:
        path = " -> ".join(str(p) for p in cyc + (cyc[0],))
        out.append(_finding("locks", f"Wait-for cycle (deadlock if every edge is real): {path}.", ()))
    return out


def _invariant_findings(kernel: Kernel, violations: tuple[Violation, ...]) -> list[Finding]:
    ending = kernel.ending()
    rule = (ENDED_BY[ending] if ending else "not known closely enough to tell what ends a victim, so the most "
            f"lenient rule is used: {ENDED_BY[None]}")
    rules = _finding("invariant", f"Kernel {kernel.describe()}: {rule}.", (), ending is None)
    if not violations:
        return [rules, _finding("invariant", f"All {len(RULES)} invariants hold: {'; '.join(RULES.values())}.", ())]
    return [rules] + [_finding("invariant", f"Invariant violated at seq {v.seq} ({RULES[v.rule]}): {v.message}"
                     + ("." if v.certain else "; unconfirmed, as this trace records no task exits."), v.evidence,
                     not v.certain) for v in violations]


def to_json(x: Any) -> Any:
    """An explanation (or any part of it) as plain JSON values: records become objects named by their fields."""
    if hasattr(x, "_asdict"):
        return {k: to_json(v) for k, v in x._asdict().items()}
    if isinstance(x, (list, tuple)):
        return [to_json(v) for v in x]
    return x
