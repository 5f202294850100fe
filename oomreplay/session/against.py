"""Replaying one incident against another (``replay A --against B``), with no Textual in it: both traces open,
their comparison, the two cursors tied by the alignment, and what each side's pane shows at its cursor.

A's cursor leads: B's goes to the paired story step when A is on one, else to the same offset in time from the
last paired step (never past B's next one). Every read happens in the caller's thread; the app calls in from its
worker thread, so the UI never waits on the files.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from ..analysis.diff import Diff, Pair, anchors, compare, counterpart
from ..model import reaper_status
from ..store import Trace, open_trace

#: Story steps listed around the cursor's step in a pane.
STEPS_SHOWN = 9


class StepLine(NamedTuple):
    """One story step as a pane lists it: ``here`` the cursor's step, ``differs`` a reported difference."""

    seq: int
    title: str
    name: str | None  # untrusted text
    here: bool
    differs: bool


class Pane(NamedTuple):
    """What one side shows at its cursor (names untrusted: the view renders them as plain text)."""

    label: str
    name: str
    seq: int
    total: int
    ts_ns: int | None
    kind: str | None  # the cursor event's kind
    steps: tuple[StepLine, ...]
    victims: tuple[tuple[int, str | None, str, int], ...]  # pid, comm, reaper status, attempts
    difference: str | None  # what differs at the cursor's step, in words


class Against:
    """Two traces and their comparison; ``a_seq`` is the cursor, ``b_seq`` follows it."""

    def __init__(self, a_path: Path, b_path: Path, a_name: str | None = None, b_name: str | None = None) -> None:
        self.traces: list[Trace] = [open_trace(a_path), open_trace(b_path)]
        self.diff: Diff = compare(self.traces[0], self.traces[1], a_name or str(a_path), b_name or str(b_path))
        self._retie()
        #: whether B leads (after ``swap``): the panes keep their letters
        self.swapped = False
        self.a_seq = 0
        self.b_seq = self.follow(0)

    def _retie(self) -> None:
        self.ties = anchors(self.diff)
        self.reported: list[Pair] = sorted(self.diff.differences(), key=lambda p: (p.a_at, p.b_at))

    def close(self) -> None:
        for t in self.traces:
            t.close()

    def follow(self, a_seq: int) -> int:
        """B's seq for A's cursor at ``a_seq``."""
        a, b = self.traces
        if not len(a) or not len(b):
            return 0
        seq, ts = counterpart(self.ties, a_seq, a.event(a_seq).ts_ns)
        if seq is None:
            found = b.seq_at(ts) if ts is not None else None
            seq = 0 if found is None else found
        return max(0, min(seq, len(b) - 1))

    def move(self, a_seq: int) -> None:
        """A's cursor to ``a_seq`` (clamped), B's to the aligned point."""
        self.a_seq = max(0, min(a_seq, len(self.traces[0]) - 1))
        self.b_seq = self.follow(self.a_seq)

    def find(self, kind: str, forward: bool) -> bool:
        """A's cursor to its next (previous) event of ``kind``; False when there is none."""
        t = self.traces[0]
        seq = t.next(self.a_seq, kind=kind) if forward else t.prev(self.a_seq, kind=kind)
        if seq is None:
            return False
        self.move(seq)
        return True

    def next_difference(self, forward: bool = True) -> Pair | None:
        """Both cursors to the next (previous) reported difference after A's cursor: each side on its step, or
        where the missing step would be."""
        ahead = [p for p in self.reported if (p.a_at > self.a_seq if forward else p.a_at < self.a_seq)]
        if not ahead:
            return None
        p = ahead[0] if forward else ahead[-1]
        self.a_seq = max(p.a_at, 0)
        self.b_seq = max(p.b_at, 0)
        return p

    def swap(self) -> None:
        """B leads from now on, at the point it was at."""
        self.traces.reverse()
        self.diff = self.diff.swapped()
        self.swapped = not self.swapped
        self._retie()
        self.a_seq, self.b_seq = self.b_seq, self.a_seq

    def panes(self) -> tuple[Pane, Pane]:
        return (self._pane(0, self.a_seq), self._pane(1, self.b_seq))

    def _pane(self, side: int, seq: int) -> Pane:
        t = self.traces[side]
        label = "AB"[side ^ self.swapped]
        name = self.diff.a.name if side == 0 else self.diff.b.name
        told = self.diff.a.story if side == 0 else self.diff.b.story
        if not len(t):
            return Pane(label, name, 0, 0, None, None, (), (), None)
        ev = t.event(seq)
        mine = [(p.a if side == 0 else p.b, p) for p in self.reported]
        differing = {(e.seq, e.kind): p for e, p in mine if e is not None}
        ordered = sorted(told, key=lambda e: e.seq)
        at = max((k for k, e in enumerate(ordered) if e.seq <= seq), default=-1)
        lo = max(0, min(at - STEPS_SHOWN // 2, len(ordered) - STEPS_SHOWN))
        steps = tuple(StepLine(e.seq, e.title, e.name if e.name is not None else _value(e.value("tasks")), k == at,
                               (e.seq, e.kind) in differing)
                      for k, e in enumerate(ordered[lo:lo + STEPS_SHOWN], lo))
        here = ordered[at] if at >= 0 and ordered[at].seq <= seq <= ordered[at].last_seq else None
        state = t.state_at(seq)
        victims = tuple((v.pid, v.comm, reaper_status(v), len(v.attempts))
                        for v in sorted(state.victims.values(), key=lambda v: v.killed_seq or -1))
        return Pane(label, name, seq, len(t), ev.ts_ns, ev.kind, steps, victims,
                    _said(differing.get((here.seq, here.kind)), side) if here is not None else None)


def _said(p: Pair | None, side: int) -> str | None:
    """The difference at a step, from its side's point of view."""
    if p is None:
        return None
    if p.a is None or p.b is None:
        return "only in this incident"
    return "; ".join(f"{d.field}: {_value(d.a if side == 0 else d.b)} (other: {_value(d.b if side == 0 else d.a)})"
                     for d in p.diffs if d.major)


def _value(v: object) -> str:
    if v is None:
        return "-"
    return ", ".join(map(str, v)) if isinstance(v, tuple) else str(v)
