"""The store's promises, checked against the definition: a trace answers exactly what folding ``apply`` over its
events answers, and its indexes agree with a linear scan."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oomreplay import Event, State, TraceWriter, apply, open_trace
from oomreplay.store import verify

from ..strategies import events

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])


#: Tiny blocks, keyframes and change-list chunks, so a few hundred events cross every boundary many times, and
#: the compression dictionaries early on, so most blocks use them.
SMALL = {"block_events": 7, "scene_cut_min_gap": 3, "full_map_every": 4, "pages_per_block": 3,
         "state_dictionary_at": 2, "dictionary_at": 3, "chunk": 5}


@pytest.fixture
def small_blocks() -> dict[str, int]:
    return SMALL


def write(path: Path, evs: list[Event], **kw) -> Path:
    with TraceWriter(path, meta={"kernel": "test"}, **kw) as w:
        src = w.add_source("log")
        w.add_source_lines(src, [f"line {i}" for i in range(1, 51)])
        for e in evs:
            w.append(e)
    return path


def folded(evs: list[Event]) -> list[State]:
    """The naive definition: state after seq i = apply over events 0..i."""
    states, s = [], State()
    for seq, e in enumerate(evs):
        e.seq = seq
        s = apply(s, e)
        states.append(s)
    return states


@SETTINGS
@given(evs=events(), data=st.data())
def test_state_at_equals_naive_fold(tmp_path: Path, small_blocks: dict[str, int], evs: list[Event], data: st.DataObject):
    t = open_trace(write(tmp_path / "p.oomtrace", evs, tuning=small_blocks))
    expected = folded(evs)
    assert len(t) == len(evs)
    assert t.state_at(-1) == State()
    seqs = data.draw(st.lists(st.integers(0, max(len(evs) - 1, 0)), max_size=25)) if evs else []
    for seq in seqs:  # random order: exercises the keyframe path and the "continue from the last state" path
        assert t.state_at(seq) == expected[seq], seq
    assert list(t.events()) == evs


@SETTINGS
@given(evs=events(min_size=1), data=st.data())
def test_next_prev_seq_at_agree_with_a_scan(tmp_path: Path, small_blocks: dict[str, int], evs: list[Event],
                                              data: st.DataObject):
    t = open_trace(write(tmp_path / "q.oomtrace", evs, tuning=small_blocks))
    n = len(evs)
    kind = data.draw(st.one_of(st.none(), st.sampled_from(sorted({e.kind for e in evs}))))
    pid = data.draw(st.one_of(st.none(), st.sampled_from(sorted({e.pid for e in evs if e.pid is not None} or {1}))))

    def match(e: Event) -> bool:
        return (kind is None or e.kind == kind) and (pid is None or e.pid == pid)

    for edge in data.draw(st.lists(st.integers(-2, n + 1), min_size=1, max_size=10)):
        after = [i for i in range(max(edge + 1, 0), n) if match(evs[i])]
        before = [i for i in range(min(edge, n) - 1, -1, -1) if match(evs[i])]
        assert t.next(edge, kind=kind, pid=pid) == (after[0] if after else None)
        assert t.prev(edge, kind=kind, pid=pid) == (before[0] if before else None)
    ts = data.draw(st.integers(evs[0].ts_ns - 5, evs[-1].ts_ns + 5))
    at_or_before = [i for i, e in enumerate(evs) if e.ts_ns <= ts]
    assert t.seq_at(ts) == (at_or_before[-1] if at_or_before else None)
    assert [e.seq for e in t.events(kind=kind, pid=pid)] == [i for i, e in enumerate(evs) if match(e)]


@SETTINGS
@given(evs=events(max_size=120))
def test_union_of_kinds_and_entities(tmp_path: Path, small_blocks: dict[str, int], evs: list[Event]):
    t = open_trace(write(tmp_path / "u.oomtrace", evs, tuning=small_blocks))
    kinds = ["oom_kill", "reaper_attempt", "lock_release"]
    assert [e.seq for e in t.events(kind=kinds)] == [i for i, e in enumerate(evs) if e.kind in kinds]
    lock_events = [i for i, e in enumerate(evs) if e.kind.startswith("lock_") and e.fields.get("lock") == "oom_lock"]
    assert [e.seq for e in t.events(entity="lock:oom_lock")] == lock_events


@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pattern=events(min_size=20, max_size=200))
def test_parallel_writer_writes_the_same_bytes(tmp_path: Path, pattern: list[Event]):
    """The state machine in a worker process must not change a single byte of the file (the pattern is repeated
    so the stream spans many blocks and keyframes at the real sizes, which a worker process cannot patch, past
    both compression dictionaries)."""
    span = pattern[-1].ts_ns - pattern[0].ts_ns + 1
    evs = [Event(e.ts_ns + r * span, e.kind, e.pid, e.fields, e.src, e.inferred)
           for r in range(12_000 // len(pattern) + 1) for e in pattern]
    a = write(tmp_path / "local.oomtrace", evs)
    b = write(tmp_path / "parallel.oomtrace", evs, parallel=True)
    assert a.read_bytes() == b.read_bytes()


def test_source_lines_and_overview(tmp_path: Path, small_blocks: dict[str, int]):
    evs = [Event(1_000_000 * i, "zone", None, {"node": 0, "zone": "Normal", "free_kb": 5000 - i}) for i in range(400)]
    evs += [Event(400_000_000 + i, "oom_kill", 7, {"comm": "x"}) for i in range(3)]
    t = open_trace(write(tmp_path / "o.oomtrace", evs, tuning=small_blocks))
    assert t.sources == [("log", 50)]
    assert t.source_lines(49, 60) == ["line 49", "line 50"]
    assert t.source_lines(1, 1) == ["line 1"]
    buckets = t.overview(buckets=4)
    assert len(buckets) == 4
    assert sum(b.counts.get("oom_kill", 0) for b in buckets) == 3
    assert buckets[0].free_max_kb == 5000 and buckets[-1].free_min_kb == 5000 - 399
    assert sum(b.counts.get("zone", 0) for b in buckets) == pytest.approx(400, abs=2)
    # zoomed in on the first 100 ms: only the first ~100 zone events, none of the kills
    zoom = t.overview(0, 100_000_000, 10)
    assert sum(b.counts.get("zone", 0) for b in zoom) == pytest.approx(100, abs=3)
    assert not any(b.counts.get("oom_kill") for b in zoom)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(evs=events(max_size=60), runs=st.lists(st.tuples(st.integers(0, 60), st.integers(0, 30), st.integers(0, 3)),
                                              max_size=6))
def test_log_lines_in_bulk_write_the_same_bytes(tmp_path: Path, small_blocks: dict[str, int], evs: list[Event],
                                                 runs: list[tuple[int, int, int]]):
    """``append_logs`` is only a shortcut: runs of log lines of any length, anywhere among other events (so across
    block ends), give the file that appending each line's event gives."""
    items: list = []
    line, last = 1, 0
    where = {min(at, len(evs)): (n, step) for at, n, step in runs}
    for i in range(len(evs) + 1):
        if i in where:
            n, step = where[i]
            cap = evs[i].ts_ns if i < len(evs) else last + n * step
            ts = [min(last + (j // 2) * step, cap) for j in range(n)]
            items.append((ts, [f"chatter {line + j} \x00 [x]" for j in range(n)], 0, line))
            line += n
        if i < len(evs):
            items.append(evs[i])
            last = evs[i].ts_ns
    one, bulk = tmp_path / "one.oomtrace", tmp_path / "bulk.oomtrace"
    with TraceWriter(one, tuning=small_blocks) as a, TraceWriter(bulk, tuning=small_blocks) as b:
        for w in (a, b):
            w.add_source("log")
        for item in items:
            if isinstance(item, Event):
                assert a.append(item) == b.append(item)  # the seq
            else:
                ts, texts, file_id, first = item
                for i, (t, text) in enumerate(zip(ts, texts)):
                    a.append(Event(t, "log", None, {"text": text}, src=(file_id, first + i)))
                b.append_logs(ts, texts, file_id, first)
        assert len(a) == len(b)
    assert one.read_bytes() == bulk.read_bytes()


def test_log_lines_in_bulk_refuse_time_going_backwards(tmp_path: Path):
    with pytest.raises(ValueError, match="back in time"):
        with TraceWriter(tmp_path / "b.oomtrace") as w:
            w.append_logs([5, 6, 5], ["a", "b", "c"], 0, 1)
    with pytest.raises(ValueError, match="back in time"):
        with TraceWriter(tmp_path / "b.oomtrace") as w:
            w.append(Event(10, "log", None, {"text": "a"}))
            w.append_logs([9], ["b"], 0, 2)
    for ts, texts in (([1, 2], ["a"]), ([], ["a"])):
        with pytest.raises(ValueError, match=f"{len(ts)} times for {len(texts)} lines"):
            with TraceWriter(tmp_path / "b.oomtrace") as w:
                w.append_logs(ts, texts, 0, 1)
    assert list(tmp_path.iterdir()) == []


def test_log_lines_in_bulk_take_times_as_events_do(tmp_path: Path):
    """Times that are not ints are made ints, as ``Event`` makes them."""
    one, bulk = tmp_path / "one.oomtrace", tmp_path / "bulk.oomtrace"
    with TraceWriter(one) as a, TraceWriter(bulk) as b:
        a.append(Event(1.5, "log", None, {"text": "x"}, src=(0, 1)))
        b.append_logs([1.5], ["x"], 0, 1)
    assert one.read_bytes() == bulk.read_bytes()


def test_writer_refuses_time_going_backwards(tmp_path: Path):
    with pytest.raises(ValueError, match="earlier"):
        with TraceWriter(tmp_path / "b.oomtrace") as w:
            w.append(Event(10, "log", None, {"text": "a"}))
            w.append(Event(9, "log", None, {"text": "b"}))
    assert list(tmp_path.iterdir()) == []


def test_empty_trace(tmp_path: Path):
    t = open_trace(write(tmp_path / "e.oomtrace", []))
    assert len(t) == 0 and list(t.events()) == [] and t.state_at(-1) == State()
    assert t.next(-1) is None and t.seq_at(123) is None and t.overview(buckets=3) == []
    with pytest.raises(IndexError):
        t.state_at(0)


def test_stepping_reuses_the_last_state(tmp_path: Path, small_blocks: dict[str, int]):
    """Forward steps continue from the state handed out last; the result is still exact, and independent."""
    evs = [Event(i, "rss", 1 + i % 3, {"anon_kb": i}) for i in range(100)]
    t = open_trace(write(tmp_path / "s.oomtrace", evs, tuning=small_blocks))
    expected = folded(evs)
    got = [t.state_at(i) for i in range(100)]
    assert got == expected
    assert got[10].tasks[2].anon_kb == 10  # an earlier state is not changed by later steps
    for a, b in itertools.pairwise(got):
        assert a is not b


def test_overview_never_loses_a_rare_event(tmp_path: Path):
    """At any zoom, every kill is counted once: cells are not spread (and rounded away) over narrow buckets."""
    evs = [Event(10_000 * i, "log", None, {"text": "."}) for i in range(5000)]
    evs.insert(2500, Event(evs[2499].ts_ns, "oom_kill", 9, {"comm": "x"}))
    t = open_trace(write(tmp_path / "rare.oomtrace", evs))
    for buckets in (1, 7, 300, 512, 4096, 20000):
        got = t.overview(buckets=buckets)
        assert sum(b.counts.get("oom_kill", 0) for b in got) == 1, buckets
        assert sum(b.total for b in got) == len(evs), buckets


def test_a_long_stretch_that_changes_no_state_leaves_the_state_blocks_readable(tmp_path: Path):
    """16 keyframes of chatter write no page: the state machine has nothing to make a compression dictionary of,
    and must not write an empty one (which readers refused, and `verify` called damage)."""
    evs = [Event(i, "log", None, {"text": f"usb 1-1: device {i}"}) for i in range(9000)]
    evs += [Event(9000 + i, "rss", 100 + i % 40, {"anon_kb": i}) for i in range(1000)]
    path = write(tmp_path / "quiet.oomtrace", evs)
    t = open_trace(path)
    assert t.state_at(len(evs) - 1) == folded(evs)[-1]
    assert verify(path).ok
