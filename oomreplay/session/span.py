"""Two markers, A and B, and what happened between them: the time, the events, and the state changes (a kill, the
reaper's outcome, a flag, a lock changing hands), as KernelShark's and Perfetto's markers answer "how long from
here to there, and what happened".

Computed in the loader's thread. The changes are read through the store's per-kind change lists (only the kinds
that change state, never the log lines between), a bounded number of them listed, and the scan gives up as soon
as a newer request waits (``cancelled``), like ``/`` search; the before/after comparison reads two states.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import NamedTuple

from .._util.safetext import visible
from ..model import State
from ..store import Trace
from .frame import describe
from .search import CHUNK, Interrupted

#: The kinds whose events change what the panels show (the log lines and samples between are only counted).
CHANGES = ["oom_invoke", "oom_kill", "oom_victim", "oom_end", "reaper_wake", "reaper_attempt", "reaper_done",
           "flag_set", "flag_clear", "task_state", "task_exit", "fork", "lock_acquire", "lock_contended",
           "lock_release", "lock_held", "mark", "note"]
#: Changes listed at most (the counts cover them all).
MAX_LISTED = 200


class Change(NamedTuple):
    seq: int
    ts_ns: int
    text: str  # ``describe``d, made visible


class Span(NamedTuple):
    """From A to B (``a`` <= ``b``, whichever was set first)."""

    a: int
    b: int
    a_ts: int
    b_ts: int
    events: int  # events after A up to and including B
    by_kind: tuple[tuple[str, int], ...]  # counts of the state-changing kinds, most first
    changes: tuple[Change, ...]  # the first MAX_LISTED of them, in order
    outcomes: tuple[str, ...]  # what differs between the state at A and at B, in words

    @property
    def duration_ns(self) -> int:
        return self.b_ts - self.a_ts


def span(trace: Trace, a: int, b: int, cancelled: Callable[[], bool]) -> Span:
    """What happened after event ``a`` up to event ``b``; raises ``Interrupted`` when ``cancelled()`` turns true."""
    a, b = min(a, b), max(a, b)
    counts: Counter[str] = Counter()
    listed: list[Change] = []
    for i, ev in enumerate(trace.events(a + 1, b + 1, kind=CHANGES)):
        assert ev.seq is not None
        counts[ev.kind] += 1
        if len(listed) < MAX_LISTED:
            listed.append(Change(ev.seq, ev.ts_ns, describe(ev)))
        if i % CHUNK == CHUNK - 1 and cancelled():
            raise Interrupted
    first, last = trace.event(a), trace.event(b)
    return Span(a, b, first.ts_ns, last.ts_ns, b - a, tuple(counts.most_common()), tuple(listed),
                tuple(outcomes(trace.state_at(a), trace.state_at(b))))


def outcomes(before: State, after: State) -> list[str]:
    """The victims, their reaper outcomes, the mm flags and the lock holders that differ from A to B."""
    out = []
    for pid, v in after.victims.items():
        old = before.victims.get(pid)
        now = v.outcome or ("pending" if v.attempts else "killed")
        was = "not a victim" if old is None else old.outcome or ("pending" if old.attempts else "killed")
        tries = f", {len(v.attempts)} reaper attempts" if old is None or old.attempts != v.attempts else ""
        if was != now or tries:
            out.append(f"victim {pid} ({visible(v.comm or '')}): {was} → {now}{tries}")
    for key, mm in after.mms.items():
        old_flags = set(before.mms[key].flags) if key in before.mms else set()
        added, removed = set(mm.flags) - old_flags, old_flags - set(mm.flags)
        if added or removed:
            signs = [f"+{f}" for f in sorted(added)] + [f"-{f}" for f in sorted(removed)]
            out.append(f"mm {mm.id}: " + " ".join(signs))
    for name in sorted(set(before.locks.keys()) | set(after.locks.keys())):
        was = {h.pid for h in before.locks[name].holders} if name in before.locks else set()
        now = {h.pid for h in after.locks[name].holders} if name in after.locks else set()
        if was != now:
            out.append(f"{visible(name)}: held by {_pids(was)} → {_pids(now)}")
    return out


def _pids(pids: set[int]) -> str:
    return ", ".join(map(str, sorted(pids))) or "nobody"
