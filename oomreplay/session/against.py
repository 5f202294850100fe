"""Replaying one incident against another (``replay A --against B``), with no Textual in it: both traces open,
their comparison, the two cursors tied by the alignment, and what each side shows at its cursor: the replay's
frame (the same ``FrameBuilder`` the single replay uses), the story around the cursor, and the rows that differ
from the other side (``contrast``).

A's cursor leads: B's goes to the paired story step when A is on one, else to the same offset in time from the
last paired step (never past B's next one). Every read happens in the caller's thread; the app calls in from its
worker thread, so the UI never waits on the files. What depends only on the comparison (the stories in order,
the steps that differ, who stands for whom) is computed once per side; a step builds two frames (each patched
from the one before) and compares what they hold.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

from .._util.safetext import visible
from ..analysis.diff import Diff, Pair, anchors, compare, counterpart, unrecorded
from ..analysis.story import StoryEvent
from ..store import Trace, open_trace
from .contrast import Marks, Partners, Seen, contrast
from .frame import Frame, FrameBuilder, TraceInfo, trace_info

#: Story steps listed around the cursor's step.
STEPS_SHOWN = 5


class StepLine(NamedTuple):
    """One story step as a side lists it: ``here`` the cursor's step, ``differs`` a reported difference."""

    seq: int
    title: str
    name: str | None  # untrusted text
    here: bool
    differs: bool


class View(NamedTuple):
    """What one side shows at its cursor: the replay's panels (``frame``, ``info``: its name is the side's letter
    and name), the story strip, what differs at the cursor's step in words, and the panel rows that differ."""

    info: TraceInfo
    frame: Frame
    steps: tuple[StepLine, ...]
    difference: str | None
    marks: Marks


class _Told(NamedTuple):
    """One side's story in seq order, and its steps that differ, by (seq, kind)."""

    ordered: list[StoryEvent]
    seqs: list[int]
    differing: dict[tuple[int, str], Pair]


class Against:
    """Two traces and their comparison; ``a_seq`` is the cursor, ``b_seq`` follows it. After ``swap`` the sides'
    order is reversed (index 0 leads) and each keeps its letter."""

    def __init__(self, a_path: Path, b_path: Path, a_name: str | None = None, b_name: str | None = None) -> None:
        self.traces: list[Trace] = [open_trace(a_path), open_trace(b_path)]
        self.diff: Diff = compare(self.traces[0], self.traces[1], a_name or str(a_path), b_name or str(b_path))
        self.infos = [replace(trace_info(t), name=f"{letter}: {visible(name)}")
                      for t, letter, name in zip(self.traces, "AB", (self.diff.a.name, self.diff.b.name))]
        self.frames = [FrameBuilder(t) for t in self.traces]
        #: whether each side's sources can show mm locks at all (else its holders are unknown, not different)
        self.knows_locks = [not unrecorded(t, "mm_lock") for t in self.traces]
        self._retie()
        #: whether B leads (after ``swap``)
        self.swapped = False
        self.a_seq = 0
        self.b_seq = self.follow(0)

    def _retie(self) -> None:
        self.ties = anchors(self.diff)
        self.reported: list[Pair] = sorted(self.diff.differences(), key=_at)
        self.partners = Partners.of(self.diff)
        self.told = [self._told(side) for side in (0, 1)]

    def _told(self, side: int) -> _Told:
        ordered = sorted(self.diff.a.story if side == 0 else self.diff.b.story, key=lambda e: e.seq)
        mine = ((p.a if side == 0 else p.b, p) for p in self.reported)
        return _Told(ordered, [e.seq for e in ordered], {(e.seq, e.kind): p for e, p in mine if e is not None})

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

    def move_to_time(self, ts_ns: int) -> None:
        """A's cursor to its last event at or before ``ts_ns`` (its first, if none), B's to the aligned point."""
        found = self.traces[0].seq_at(ts_ns)
        self.move(0 if found is None else found)

    def find(self, kind: str, forward: bool) -> bool:
        """A's cursor to its next (previous) event of ``kind``; False when there is none."""
        t = self.traces[0]
        seq = t.next(self.a_seq, kind=kind) if forward else t.prev(self.a_seq, kind=kind)
        if seq is None:
            return False
        self.move(seq)
        return True

    def next_difference(self, forward: bool = True) -> Pair | None:
        """Both cursors to the next (previous) reported difference: each side on its step, or where the missing
        step would be. Differences are ordered by where A and then B stand for them, so the steps only B has,
        which all stand at one point of A, are visited one after the other."""
        here = (self.a_seq, self.b_seq)
        ahead = [p for p in self.reported if (_at(p) > here if forward else _at(p) < here)]
        if not ahead:
            return None
        p = ahead[0] if forward else ahead[-1]
        self.a_seq, self.b_seq = _at(p)
        return p

    def swap(self) -> None:
        """B leads from now on, at the point it was at."""
        for sides in (self.traces, self.infos, self.frames, self.knows_locks):
            sides.reverse()
        self.diff = self.diff.swapped()
        self.swapped = not self.swapped
        self._retie()
        self.a_seq, self.b_seq = self.b_seq, self.a_seq

    def views(self) -> tuple[View, View]:
        """Both sides at their cursors: their frames, stories, and what differs between them."""
        frames, seen = [], []
        for side, seq in ((0, self.a_seq), (1, self.b_seq)):
            builder = self.frames[side]
            frame = builder.build(seq if len(self.traces[side]) else -1)
            assert builder.state is not None
            frames.append(frame)
            seen.append(Seen(frame, builder.state, self.knows_locks[side]))
        marks = contrast(seen[0], seen[1], self.partners)
        return self._view(0, frames[0], marks[0]), self._view(1, frames[1], marks[1])

    def _view(self, side: int, frame: Frame, marks: Marks) -> View:
        told = self.told[side]
        at = bisect_right(told.seqs, frame.seq) - 1  # the cursor's step: the last one at or before it
        lo = max(0, min(at - STEPS_SHOWN // 2, len(told.ordered) - STEPS_SHOWN))
        steps = tuple(StepLine(e.seq, e.title, e.name if e.name is not None else _value(e.value("tasks")), k == at,
                               (e.seq, e.kind) in told.differing)
                      for k, e in enumerate(told.ordered[lo:lo + STEPS_SHOWN], lo))
        here = told.ordered[at] if at >= 0 and frame.seq <= told.ordered[at].last_seq else None
        difference = _said(told.differing.get((here.seq, here.kind)), side) if here is not None else None
        return View(self.infos[side], frame, steps, difference, marks)


def _at(p: Pair) -> tuple[int, int]:
    """Where the cursors stand for a difference (a step before either side's first stands at its first event)."""
    return max(p.a_at, 0), max(p.b_at, 0)


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
