"""Which rows of each side's panels differ from the other side at the aligned cursors (``replay A --against B``).

Two runs never share a pid, so tasks are matched by their role, as the stories' alignment (``analysis.diff``)
matches them: a victim with the victim of the kill its kill is paired with (else one of the same normalised
name), the current OOM's invoker with the invoker of the paired invocation (else the other side's current one),
a holder of a victim's mm lock with a holder of the same normalised name on the counterpart's. What is compared
is what the panels show and what decides an incident: a victim's reaper outcome and attempts and its mm's
``MMF_OOM_SKIP``, a task's state and flags, who holds the victim's mm lock, a zone below min or a memcg at its
limit on one side only. As in the diff, not knowing is not a difference: a field one side does not record, a zone
or memcg the other does not report, mm locks when one side's sources cannot show them.

Everything here runs in the caller's (worker) thread and costs what a frame costs: the victims, the locks and the
zones at the cursor, never the trace.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from .._util.safetext import visible
from ..analysis import mm_locks
from ..analysis.diff import Diff
from ..analysis.story import normalise
from ..model import Memcg, State, Task, Victim, Zone, reaper_status
from .frame import Frame


def zone_key(z: Zone) -> tuple:
    """What names a zone in ``Marks.memory`` (and in the memory panel's ``differs``)."""
    return ("zone", z.node, z.zone)


def memcg_key(m: Memcg) -> tuple:
    """What names a memcg in ``Marks.memory``: its path, as the panel shows it."""
    return ("memcg", m.path)


@dataclass
class Marks:
    """The rows of one side's panels that differ from the other side, keyed as the panels know them, and what
    differs in words from this side's point of view (names made visible)."""

    tasks: set[int] = field(default_factory=set)  # pids (tasks panel)
    victims: set[int] = field(default_factory=set)  # pids (reaper panel)
    locks: set[str] = field(default_factory=set)  # lock names (locks panel)
    memory: set[tuple] = field(default_factory=set)  # zone_key / memcg_key (memory panel)
    said: list[str] = field(default_factory=list)


class Partners(NamedTuple):
    """Who stands for whom, read once from the alignment: A's pid -> B's for the victims of paired kills (and
    victim marks) and for the invokers of paired invocations."""

    victims: dict[int, int]
    invokers: dict[int, int]

    @classmethod
    def of(cls, diff: Diff) -> Partners:
        victims: dict[int, int] = {}
        invokers: dict[int, int] = {}
        for p in diff.pairs:
            if p.a is None or p.b is None or p.a.pid is None or p.b.pid is None:
                continue
            into = victims if p.a.kind in ("kill", "victim_mark") else invokers if p.a.kind == "invoke" else None
            if into is not None:
                into.setdefault(p.a.pid, p.b.pid)
        return cls(victims, invokers)


class Seen(NamedTuple):
    """One side at its cursor: the frame the panels paint, the state it was built from, and whether this side's
    sources can show mm locks at all."""

    frame: Frame
    state: State
    knows_locks: bool


def contrast(a: Seen, b: Seen, partners: Partners) -> tuple[Marks, Marks]:
    """The marks of A's panels and of B's."""
    marks = (Marks(), Marks())
    _victims(a, b, partners, marks)
    _invokers(a, b, partners, marks)
    _memory(a.frame, b.frame, marks)
    return marks


def _name(t: Task | None, fallback: str | None = None) -> str:
    return visible((t.comm if t is not None else None) or fallback or "?")


def _both(marks: tuple[Marks, Marks], kind: str, keys: tuple[object, object], labels: tuple[str, str],
          values: tuple[str, str]) -> None:
    """Mark ``keys`` (A's, B's) in the ``kind`` set of each side, each saying ``label: value (other: value)``."""
    for side in (0, 1):
        getattr(marks[side], kind).add(keys[side])
        marks[side].said.append(f"{labels[side]}: {values[side]} (other: {values[1 - side]})")


def _only(marks: Marks, pid: int, what: str, victim: bool) -> None:
    marks.tasks.add(pid)
    if victim:
        marks.victims.add(pid)
    marks.said.append(f"{what}: only in this incident")


def _task(ta: Task | None, tb: Task | None) -> tuple[str, str] | None:
    """How two tasks of the same role differ in state or flags, each side's words; None when they agree (a state
    one side does not know is no difference; an inferred flag counts as the flag)."""
    if ta is None or tb is None:
        return None
    mine, theirs = [], []
    if ta.state and tb.state and ta.state != tb.state:
        mine.append(f"state {ta.state}")
        theirs.append(f"state {tb.state}")
    if set(ta.flags) != set(tb.flags):
        mine.append("flags " + (" ".join(ta.flags) or "none"))
        theirs.append("flags " + (" ".join(tb.flags) or "none"))
    return (", ".join(mine), ", ".join(theirs)) if mine else None


def _compare_tasks(a: Seen, b: Seen, pids: tuple[int, int], role: str, marks: tuple[Marks, Marks]) -> None:
    ta, tb = a.state.tasks.get(pids[0]), b.state.tasks.get(pids[1])
    told = _task(ta, tb)
    if told is not None:
        _both(marks, "tasks", pids, (f"{role} {_name(ta)}", f"{role} {_name(tb)}"), told)


def _matched(mine: Iterable[Victim], theirs: Iterable[Victim],
             partner: dict[int, int]) -> tuple[list[tuple[Victim, Victim]], list[Victim], list[Victim]]:
    """Victims paired by their kills' pairing, else by normalised name; and those left on each side."""
    left = {v.pid: v for v in theirs}
    pairs, alone = [], []
    for v in mine:
        w = left.pop(partner[v.pid], None) if v.pid in partner else None
        if w is None and v.pid not in partner:
            w = next((x for x in left.values() if normalise(x.comm) == normalise(v.comm)), None)
            if w is not None:
                del left[w.pid]
        if w is None:
            alone.append(v)
        else:
            pairs.append((v, w))
    return pairs, alone, list(left.values())


def _reaping(v: Victim, frame: Frame) -> str:
    """A victim's reaping as the reaper panel tells it: outcome, attempts, MMF_OOM_SKIP."""
    skip = ", MMF_OOM_SKIP" if v.mm is not None and v.mm in frame.oom_skip else ""
    n = len(v.attempts)  # implied attempts (a log's "unable to reap") are in it, marked by ``implied``
    return f"{reaper_status(v)}, {n} attempt{'s' if n != 1 else ''}{skip}"


def _victims(a: Seen, b: Seen, partners: Partners, marks: tuple[Marks, Marks]) -> None:
    pairs, only_a, only_b = _matched(a.frame.victims, b.frame.victims, partners.victims)
    for side, alone in ((0, only_a), (1, only_b)):
        for v in alone:
            _only(marks[side], v.pid, f"victim {visible(v.comm or '?')}", True)
    for v, w in pairs:
        ra, rb = _reaping(v, a.frame), _reaping(w, b.frame)
        if ra != rb:
            labels = (f"victim {visible(v.comm or '?')}", f"victim {visible(w.comm or '?')}")
            _both(marks, "victims", (v.pid, w.pid), labels, (ra, rb))
        _compare_tasks(a, b, (v.pid, w.pid), "victim", marks)
        if (v.mm in a.frame.oom_skip) != (w.mm in b.frame.oom_skip):  # said with the reaping: the row too
            marks[0].tasks.add(v.pid)
            marks[1].tasks.add(w.pid)
        if a.knows_locks and b.knows_locks:
            _holders(a, b, (v, w), marks)


def _holders(a: Seen, b: Seen, victims: tuple[Victim, Victim], marks: tuple[Marks, Marks]) -> None:
    """The holders of the paired victims' mm locks: the same names on both sides, or the locks marked."""
    held = []
    for seen, v in ((a, victims[0]), (b, victims[1])):
        locks, _ = mm_locks(seen.state, v)
        held.append((locks, {h.pid: normalise(_name(seen.state.tasks.get(h.pid))) for lk in locks
                             for h in lk.holders}))
    (locks_a, by_a), (locks_b, by_b) = held
    names_a, names_b = sorted(by_a.values()), sorted(by_b.values())
    if names_a == names_b:
        for pa, name in by_a.items():  # holders of one name: their states and flags
            pb = next(p for p, n in by_b.items() if n == name)
            _compare_tasks(a, b, (pa, pb), "mm-lock holder", marks)
        return
    who_a = ", ".join(_name(a.state.tasks.get(p)) for p in by_a) or "no holder"
    who_b = ", ".join(_name(b.state.tasks.get(p)) for p in by_b) or "no holder"
    comm = visible(victims[0].comm or "?")
    marks[0].said.append(f"mm lock of {comm} held by {who_a} (other: {who_b})")
    marks[1].said.append(f"mm lock of {visible(victims[1].comm or '?')} held by {who_b} (other: {who_a})")
    for side, locks, mine, theirs, v in ((0, locks_a, by_a, names_b, victims[0]), (1, locks_b, by_b, names_a,
                                                                                  victims[1])):
        marks[side].locks.update(lk.name for lk in locks)
        marks[side].victims.add(v.pid)  # its "needs" line names the holders
        marks[side].tasks.update(p for p, name in mine.items() if name not in theirs)


def _current_invoker(state: State) -> int | None:
    n = len(state.ooms.keys())
    oom = state.ooms.get(n - 1) if n else None
    return oom.invoker if oom is not None else None


def _invokers(a: Seen, b: Seen, partners: Partners, marks: tuple[Marks, Marks]) -> None:
    ia, ib = _current_invoker(a.state), _current_invoker(b.state)
    if ia is None or ib is None:
        for side, pid, seen in ((0, ia, a), (1, ib, b)):
            if pid is not None:
                _only(marks[side], pid, f"OOM invoked by {_name(seen.state.tasks.get(pid))}", False)
        return
    ta, tb = a.state.tasks.get(ia), b.state.tasks.get(ib)
    if partners.invokers.get(ia) == ib or normalise(_name(ta)) == normalise(_name(tb)):
        _compare_tasks(a, b, (ia, ib), "invoker", marks)
    else:
        _both(marks, "tasks", (ia, ib), ("OOM invoked", "OOM invoked"), (f"by {_name(ta)}", f"by {_name(tb)}"))


def _below_min(z: Zone) -> bool:
    return z.free_kb is not None and z.min_kb is not None and z.free_kb < z.min_kb


def _at_limit(m: Memcg) -> bool:
    return bool(m.limit_kb) and (m.usage_kb or 0) >= (m.limit_kb or 0)


def _memory(a: Frame, b: Frame, marks: tuple[Marks, Marks]) -> None:
    """Zones in their reserves and memcgs at their limit on one side only (those both sides report)."""
    zones_b = {(z.node, z.zone): z for z in b.zones}
    for z in a.zones:
        w = zones_b.get((z.node, z.zone))
        if w is not None and _below_min(z) != _below_min(w):
            word = {True: "below min", False: "above min"}
            label = f"zone N{z.node} {visible(z.zone)}"
            _both(marks, "memory", (zone_key(z), zone_key(w)), (label, label),
                  (word[_below_min(z)], word[_below_min(w)]))
    memcgs_b = {normalise(m.path): m for m in b.memcgs}
    for m in a.memcgs:
        w = memcgs_b.get(normalise(m.path))
        if w is not None and _at_limit(m) != _at_limit(w):
            word = {True: "at its limit", False: "under its limit"}
            _both(marks, "memory", (memcg_key(m), memcg_key(w)),
                  (f"memcg {visible(m.path)}", f"memcg {visible(w.path)}"), (word[_at_limit(m)], word[_at_limit(w)]))
