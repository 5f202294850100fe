"""What differs between two incidents, by meaning: their stories aligned, the pairs that differ, the steps only
one has, and how each ended.

Alignment is in two steps. First the longest common subsequence of the stories' signatures (kind, role, every
major field: ``difflib.SequenceMatcher``, which is fast on long stories) pairs the steps that are the same; then
inside each stretch between them a Needleman–Wunsch alignment pairs steps of the same kind whose fields differ
(another victim, another outcome) and leaves the rest as gaps, so an extra kill in B is one insertion rather than
every later kill being "different". Two steps that only swapped places (a victim's exit and a thread's victim
mark, racing) are paired afterwards as *moved*, which is not a difference unless ``--all`` is asked for.

Not every difference counts: a field one side does not record (``None``), amounts that always vary between runs
(``StoryEvent.minor``), and steps of a kind the other side's source cannot show at all (a log has no allocation
stalls or reaper wake-ups) are *minor*: listed with ``all_``, never a reason for "different".
"""

from __future__ import annotations

from bisect import bisect_right
from difflib import SequenceMatcher
from typing import Any, NamedTuple

from ..store import Trace
from .kernel import kernel_of
from .outcome import Outcome, outcomes, summary
from .story import SOURCE_KINDS, StoryEvent, story

#: Story kinds that stand for a run of events placed before the next invocation
RUNS = frozenset({"stalls", "alloc_fails"})

#: Gap cost of the alignment; a pair of the same kind scores 1 to 3, so it beats two gaps.
GAP = -1.0
#: Stretches larger than this (cells) are left unpaired rather than aligned in quadratic time.
MAX_CELLS = 250_000
#: Meta entries that say how a trace was made, not what ran.
PROVENANCE = frozenset({"converter", "clock_offsets", "clock", "recovered", "source", "sources"})


class FieldDiff(NamedTuple):
    """A field that differs; ``major`` when both sides know it and it is not an amount that always varies."""

    field: str
    a: Any
    b: Any
    major: bool


class Pair(NamedTuple):
    """One step of the alignment: both sides, or one (``a`` or ``b`` None). ``a_at``/``b_at`` are where each side
    stands for it (the step's seq, or for a gap the seq of the last step before it), ``note`` is ``moved`` or
    ``unrecorded`` (the other side's source cannot show this kind of step)."""

    a: StoryEvent | None
    b: StoryEvent | None
    diffs: tuple[FieldDiff, ...]
    a_at: int
    b_at: int
    note: str | None = None

    @property
    def major(self) -> bool:
        """A difference that makes the incidents different."""
        if self.a is None or self.b is None:
            return self.note != "unrecorded"
        return any(d.major for d in self.diffs)

    def differs(self, all_: bool = False) -> bool:
        """Reported: a major difference, or with ``all_`` any difference at all."""
        return self.major or (all_ and (bool(self.diffs) or self.a is None or self.b is None or self.note is not None))

    def swapped(self) -> Pair:
        return Pair(self.b, self.a, tuple(FieldDiff(d.field, d.b, d.a, d.major) for d in self.diffs),
                    self.b_at, self.a_at, self.note)


class Side(NamedTuple):
    """One incident: its name, kernel, story, victims' outcomes and how long the OOM lasted."""

    name: str
    kernel: str
    meta: tuple[tuple[str, str], ...]
    story: tuple[StoryEvent, ...]
    outcomes: tuple[Outcome, ...]
    summary: str
    first_ns: int | None  # the first invocation (or kill)
    last_ns: int | None  # the last outcome (reaper done, MMF_OOM_SKIP, victim exit, OOM end)

    @property
    def span_ns(self) -> int | None:
        return None if self.first_ns is None or self.last_ns is None else self.last_ns - self.first_ns


class Diff(NamedTuple):
    """The comparison of ``a`` and ``b``: aligned ``pairs`` in story order, differences of kernel and config."""

    a: Side
    b: Side
    pairs: tuple[Pair, ...]
    kernel: tuple[FieldDiff, ...]

    def differences(self, all_: bool = False) -> list[Pair]:
        return [p for p in self.pairs if p.differs(all_)]

    @property
    def outcomes_same(self) -> bool:
        return [o.key for o in self.a.outcomes] == [o.key for o in self.b.outcomes]

    def kernel_differences(self, all_: bool = False) -> list[FieldDiff]:
        return [d for d in self.kernel if d.major or all_]

    def same(self, all_: bool = False) -> bool:
        return not self.differences(all_) and not self.kernel_differences(all_) and self.outcomes_same

    @property
    def verdict(self) -> str:
        """One or two sentences: how each side ended (untrusted comms inside: escape for the output)."""
        if self.outcomes_same:
            n = len(self.differences())
            # the same ending told by both: in the words of the side that says more (numbered attempts, blockers)
            told = max(self.a.summary, self.b.summary, key=len)
            if n == 0 and not self.kernel_differences():
                return f"A and B tell the same story: {told}."
            what = f"{n} step{'s' if n != 1 else ''} of their stories" if n else "their kernels"
            return f"Both end the same way ({told}), but {what} differ."
        return f"A: {self.a.summary}; B: {self.b.summary}."

    def swapped(self) -> Diff:
        """B against A: the same alignment seen from the other side."""
        return Diff(self.b, self.a, tuple(p.swapped() for p in self.pairs),
                    tuple(FieldDiff(d.field, d.b, d.a, d.major) for d in self.kernel))


def _score(a: StoryEvent, b: StoryEvent) -> float | None:
    """How well two steps pair: None if they cannot (another kind or role), else 1 plus 2 × the share of major
    fields they agree on."""
    if a.kind != b.kind or a.role != b.role:
        return None
    fa, fb = dict(a.fields), dict(b.fields)
    names = set(fa) | set(fb)
    agree = sum(fa.get(n) == fb.get(n) for n in names)
    return 1.0 + 2.0 * agree / max(len(names), 1)


def _needleman_wunsch(xs: list[StoryEvent], ys: list[StoryEvent]) -> list[tuple[int | None, int | None]]:
    """Global alignment of two short stretches: index pairs, None for a gap."""
    n, m = len(xs), len(ys)
    if n * m > MAX_CELLS or not n or not m:
        return [(i, None) for i in range(n)] + [(None, j) for j in range(m)]
    score = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        score[i][0] = i * GAP
    for j in range(1, m + 1):
        score[0][j] = j * GAP
    for i in range(1, n + 1):
        row, up = score[i], score[i - 1]
        for j in range(1, m + 1):
            s = _score(xs[i - 1], ys[j - 1])
            best = max(up[j] + GAP, row[j - 1] + GAP)
            if s is not None:
                best = max(best, up[j - 1] + s)
            row[j] = best
    out: list[tuple[int | None, int | None]] = []
    i, j = n, m
    while i or j:
        s = _score(xs[i - 1], ys[j - 1]) if i and j else None
        if s is not None and score[i][j] == score[i - 1][j - 1] + s:
            out.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif i and score[i][j] == score[i - 1][j] + GAP:
            out.append((i - 1, None))
            i -= 1
        else:
            out.append((None, j - 1))
            j -= 1
    return out[::-1]


def align(xs: list[StoryEvent], ys: list[StoryEvent]) -> list[tuple[int | None, int | None, bool]]:
    """The alignment of two stories as index pairs (None: a gap) in story order, each saying whether it is a step
    that moved (paired out of order)."""
    out: list[tuple[int | None, int | None]] = []
    matcher = SequenceMatcher(None, [e.signature for e in xs], [e.signature for e in ys], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.extend(zip(range(i1, i2), range(j1, j2)))
        else:
            out.extend((None if i is None else i + i1, None if j is None else j + j1)
                       for i, j in _needleman_wunsch(xs[i1:i2], ys[j1:j2]))
    return _moved(xs, ys, out)


def _moved(xs: list[StoryEvent], ys: list[StoryEvent],
           pairs: list[tuple[int | None, int | None]]) -> list[tuple[int | None, int | None, bool]]:
    """Gaps on both sides with the same signature are one step that swapped places: paired at A's position."""
    waiting: dict[tuple, list[int]] = {}
    for k, (i, j) in enumerate(pairs):
        if i is None and j is not None:
            waiting.setdefault(ys[j].signature, []).append(k)
    dropped: set[int] = set()
    out = [(i, j, False) for i, j in pairs]
    for k, (i, j) in enumerate(pairs):
        if j is None and i is not None and waiting.get(xs[i].signature):
            other = waiting[xs[i].signature].pop(0)
            out[k] = (i, pairs[other][1], True)
            dropped.add(other)
    return [p for k, p in enumerate(out) if k not in dropped]


def field_diffs(a: StoryEvent, b: StoryEvent) -> tuple[FieldDiff, ...]:
    """Every field in which two paired steps differ, major fields first."""
    out = []
    for major_side, (fa, fb) in ((True, (dict(a.fields), dict(b.fields))), (False, (dict(a.minor), dict(b.minor)))):
        for name in dict.fromkeys([*fa, *fb]):
            va, vb = fa.get(name), fb.get(name)
            if va != vb:
                out.append(FieldDiff(name, va, vb, major_side and va is not None and vb is not None
                                     and not _unspecified_failure(name, va, vb)))
    return tuple(out)


def _unspecified_failure(name: str, va: object, vb: object) -> bool:
    """Reaper attempts that failed, said by one side without the cause (``failed``: a log from 4.19 on, where a
    refused MMU notifier fails a pass as a held mm lock does) and by the other with one: no contradiction."""
    if name != "outcomes" or not isinstance(va, tuple) or not isinstance(vb, tuple):
        return False
    vague = {"failed"}
    return (set(va) <= vague and bool(vb) and "reaped" not in vb) or \
        (set(vb) <= vague and bool(va) and "reaped" not in va)


#: Story kinds a kernel log alone rarely or never shows (tracepoints do): a victim's exit, the reaper waking, short
#: stalls, the marks of a dying victim's threads, mm lock traffic outside a lockdep dump.
LOG_BLIND = frozenset({"victim_exit", "reaper_wake", "stalls", "victim_mark", "mm_lock"})
#: ... and what tracepoints alone do not show: the OOM report's header and the end of an OOM without a kill.
TRACE_BLIND = frozenset({"invoke", "oom_end"})


def unrecorded(trace: Trace, kind: str) -> bool:
    """True when ``trace`` has no step of ``kind`` because its sources cannot show one, not because none happened:
    its clocks (the converter's ``meta["clock"]``) say it came from a kernel log alone or from tracepoints alone,
    and it holds no event of that kind at all."""
    clocks = {c.strip() for c in str(trace.meta.get("clock") or "").split(",")} - {""}
    if not clocks:  # not made by the converter: nothing says what it could see
        return False
    blind = LOG_BLIND if "trace" not in clocks and "scenario" not in clocks else (
        TRACE_BLIND if "printk" not in clocks and "scenario" not in clocks else frozenset())
    return kind in blind and trace.next(-1, kind=list(SOURCE_KINDS.get(kind, (kind,)))) is None


def _side(trace: Trace, name: str) -> Side:
    told = story(trace)
    found = outcomes(trace, told)
    firsts = [e.ts_ns for e in told if e.kind == "invoke"] or [e.ts_ns for e in told if e.kind == "kill"]
    lasts = [e.ts_ns for e in told if e.kind in ("reaper_done", "oom_skip", "victim_exit", "oom_end")]
    lasts = lasts or [e.ts_ns for e in told if e.kind == "kill"]
    kernel = str(trace.meta.get("kernel") or kernel_of(trace).describe())
    meta = tuple(sorted((str(k), str(v)) for k, v in trace.meta.items() if k not in PROVENANCE and k != "kernel"))
    return Side(name, kernel, meta, tuple(told), tuple(found), summary(found, told),
                min(firsts) if firsts else None, max(lasts) if lasts else None)


def compare(a: Trace, b: Trace, a_name: str | None = None, b_name: str | None = None) -> Diff:
    """Align the stories of two traces and say what differs (see the module's docstring for what counts)."""
    sa, sb = _side(a, a_name or a.name), _side(b, b_name or b.name)
    pairs: list[Pair] = []
    at_a = at_b = -1
    for i, j, moved in align(list(sa.story), list(sb.story)):
        ea = sa.story[i] if i is not None else None
        eb = sb.story[j] if j is not None else None
        at_a = ea.seq if ea is not None else at_a
        at_b = eb.seq if eb is not None else at_b
        if ea is not None and eb is not None:
            diffs = field_diffs(ea, eb)
            pairs.append(Pair(ea, eb, diffs, ea.seq, eb.seq, "moved" if moved else None))
        else:
            one = ea or eb
            assert one is not None
            blind = unrecorded(b if eb is None else a, one.kind)
            pairs.append(Pair(ea, eb, (), at_a, at_b, "unrecorded" if blind else None))
    kernel = []
    if sa.kernel != sb.kernel:  # a side that only bounds its version (no name in its meta) is not a difference
        kernel.append(FieldDiff("kernel", sa.kernel, sb.kernel, bool(a.meta.get("kernel") and b.meta.get("kernel"))))
    ma, mb = dict(sa.meta), dict(sb.meta)
    kernel += [FieldDiff(k, ma.get(k), mb.get(k), True) for k in dict.fromkeys([*ma, *mb]) if ma.get(k) != mb.get(k)]
    return Diff(sa, sb, tuple(pairs), tuple(kernel))


class Anchor(NamedTuple):
    a_seq: int
    a_ts: int
    b_seq: int
    b_ts: int


def anchors(diff: Diff) -> list[Anchor]:
    """The paired steps, in A's order, whose seqs increase on both sides: where the two cursors are tied."""
    out: list[Anchor] = []
    # runs of stalls sit where the story puts them, not at their first seq, and moved steps go back in order:
    # neither ties the cursors
    tied = (p for p in diff.pairs if p.a is not None and p.b is not None and p.note != "moved"
            and p.a.kind not in RUNS)
    for p in sorted(tied, key=lambda p: p.a.seq):
        assert p.a is not None and p.b is not None
        if not out or (p.a.seq > out[-1].a_seq and p.b.seq > out[-1].b_seq):
            out.append(Anchor(p.a.seq, p.a.ts_ns, p.b.seq, p.b.ts_ns))
    return out


def counterpart(ties: list[Anchor], a_seq: int, a_ts: int) -> tuple[int | None, int | None]:
    """Where B's cursor goes for A's at (``a_seq``, ``a_ts``): B's seq when A is on a paired step, else the time
    (B's clock) at the same offset from the last paired step, kept before B's next one. (None, None) without any
    pair."""
    if not ties:
        return None, None
    k = bisect_right([t.a_seq for t in ties], a_seq) - 1
    if k >= 0 and ties[k].a_seq == a_seq:
        return ties[k].b_seq, None
    tie = ties[max(k, 0)]
    target = tie.b_ts + (a_ts - tie.a_ts)
    if k + 1 < len(ties):
        target = min(target, ties[k + 1].b_ts - 1)
    return None, target
