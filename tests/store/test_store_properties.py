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
from oomreplay.store import changelists, codec, keyframes, pagemap, reader, tracker, verify, writer

from ..strategies import events

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny blocks, keyframes and change-list chunks, so a few hundred events cross every boundary many times, and
    the compression dictionaries early on, so most blocks use them."""
    monkeypatch.setattr(writer, "BLOCK_EVENTS", 7)
    monkeypatch.setattr(tracker, "SCENE_CUT_MIN_GAP", 3)
    monkeypatch.setattr(tracker, "FULL_MAP_EVERY", 4)
    monkeypatch.setattr(tracker, "PAGES_PER_BLOCK", 3)
    monkeypatch.setattr(tracker, "DICTIONARY_AT", 2)
    monkeypatch.setattr(writer, "DICTIONARY_AT", 3)
    monkeypatch.setattr(changelists, "CHUNK", 5)


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
def test_state_at_equals_naive_fold(tmp_path: Path, small_blocks: None, evs: list[Event], data: st.DataObject):
    t = open_trace(write(tmp_path / "p.oomtrace", evs))
    expected = folded(evs)
    assert len(t) == len(evs)
    assert t.state_at(-1) == State()
    seqs = data.draw(st.lists(st.integers(0, max(len(evs) - 1, 0)), max_size=25)) if evs else []
    for seq in seqs:  # random order: exercises the keyframe path and the "continue from the last state" path
        assert t.state_at(seq) == expected[seq], seq
    assert list(t.events()) == evs


@SETTINGS
@given(evs=events(min_size=1), data=st.data())
def test_next_prev_seq_at_agree_with_a_scan(tmp_path: Path, small_blocks: None, evs: list[Event],
                                              data: st.DataObject):
    t = open_trace(write(tmp_path / "q.oomtrace", evs))
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
def test_union_of_kinds_and_entities(tmp_path: Path, small_blocks: None, evs: list[Event]):
    t = open_trace(write(tmp_path / "u.oomtrace", evs))
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


def test_source_lines_and_overview(tmp_path: Path, small_blocks: None):
    evs = [Event(1_000_000 * i, "zone", None, {"node": 0, "zone": "Normal", "free_kb": 5000 - i}) for i in range(400)]
    evs += [Event(400_000_000 + i, "oom_kill", 7, {"comm": "x"}) for i in range(3)]
    t = open_trace(write(tmp_path / "o.oomtrace", evs))
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
def test_log_lines_in_bulk_write_the_same_bytes(tmp_path: Path, small_blocks: None, evs: list[Event],
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
    with TraceWriter(one, meta={}) as a, TraceWriter(bulk, meta={}) as b:
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


def test_stepping_reuses_the_last_state(tmp_path: Path, small_blocks: None):
    """Forward steps continue from the state handed out last; the result is still exact, and independent."""
    evs = [Event(i, "rss", 1 + i % 3, {"anon_kb": i}) for i in range(100)]
    t = open_trace(write(tmp_path / "s.oomtrace", evs))
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


def test_a_file_is_read_with_the_vocabulary_it_was_written_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Fields are stored by position, so the file carries its schema: a reader whose vocabulary differs (here the
    writer had `task`'s fields in another order) still decodes every field under its own name."""
    from oomreplay.model import KINDS
    from oomreplay.store import codec

    older = dict(KINDS, task=("comm", "tgid"))
    monkeypatch.setattr(codec, "KINDS", older)
    monkeypatch.setattr(codec, "_SCHEMA_SETS", {k: frozenset(v) for k, v in older.items()})
    monkeypatch.setattr(writer, "CURRENT", codec.Schema(older.items()))
    path = write(tmp_path / "old.oomtrace", [Event(1, "task", 5, {"tgid": 5, "comm": "x", "oom_score_adj": 7})])
    monkeypatch.undo()
    (ev,) = open_trace(path).events()
    assert ev.fields == {"tgid": 5, "comm": "x", "oom_score_adj": 7}


def test_a_seek_decodes_no_state_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A keyframe's working set holds every record its interval's events write, so a seek replays on it without
    decoding a single state page: what keeps a random seek down to the replay itself."""
    evs = [Event(i, "task", pid, {"tgid": pid, "comm": f"t{pid}"}) for i, pid in enumerate(range(100, 700))]
    evs += [Event(1000 + i, "rss", 100 + i * 37 % 600, {"anon_kb": i}) for i in range(3000)]
    t = open_trace(write(tmp_path / "w.oomtrace", evs))
    decoded = []
    monkeypatch.setattr(keyframes, "decode_page", lambda *args: decoded.append(args) or codec.decode_page(*args))
    states = {seq: t.state_at(seq) for seq in (3599, 700, 2222, 1500, 1501)}
    assert decoded == []
    expected = folded(evs)
    assert all(state == expected[seq] for seq, state in states.items())
    assert decoded  # comparing whole states needs the pages


def test_a_seek_reads_one_events_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Keyframes fall on events-block ends (and on scene cuts inside blocks), so the replay from a seek's keyframe
    never needs a second block, wherever the scene cuts put the keyframes."""
    rng = random.Random(4)
    evs = []
    for i in range(5000):
        if rng.random() < 0.01:
            evs.append(Event(i, "oom_kill", 100 + i % 50, {"comm": "a.out"}))
        else:
            evs.append(Event(i, "rss", 100 + rng.randrange(300), {"anon_kb": i}))
    path = write(tmp_path / "b.oomtrace", evs)
    blocks = []
    monkeypatch.setattr(reader, "EventBlock", lambda *args: blocks.append(args) or codec.EventBlock(*args))
    expected = folded(evs)
    for seq in rng.sample(range(len(evs)), 60):
        blocks.clear()
        assert open_trace(path).state_at(seq) == expected[seq]
        assert len(blocks) == 1, (seq, len(blocks))


def test_a_long_stretch_that_changes_no_state_leaves_the_state_blocks_readable(tmp_path: Path):
    """16 keyframes of chatter write no page: the state machine has nothing to make a compression dictionary of,
    and must not write an empty one (which readers refused, and `verify` called damage)."""
    evs = [Event(i, "log", None, {"text": f"usb 1-1: device {i}"}) for i in range(9000)]
    evs += [Event(9000 + i, "rss", 100 + i % 40, {"anon_kb": i}) for i in range(1000)]
    path = write(tmp_path / "quiet.oomtrace", evs)
    t = open_trace(path)
    assert t.state_at(len(evs) - 1) == folded(evs)[-1]
    assert verify(path).ok


def test_a_page_map_gives_one_reference_per_page(tmp_path: Path):
    """Looked up page by page or read whole, a keyframe's page map hands out the same reference object for a
    page: states built from one keyframe then share them, and a step's changes are found by page identity."""
    evs = [Event(i, "rss", 100 + i * 37 % 600, {"anon_kb": i}) for i in range(3000)]
    t = open_trace(write(tmp_path / "m.oomtrace", evs))
    k = len(t._kf_seq) - 2
    index = t._keyframes.page_map(k)["tasks"]
    looked_up = {p: index.get(p) for p in (6, 7, 30, 6)}
    assert all(ref is not None for ref in looked_up.values())
    whole = index.all()
    assert all(whole[p] is ref for p, ref in looked_up.items())
    assert all(index.get(p) is ref for p, ref in whole.items())
    assert whole == {p: ref for p, ref in zip(*_full_map(t, k))}


def _full_map(t, k: int) -> tuple[list, list]:
    """The map as the keyframe group's full map with every later keyframe's pieces laid over it by hand."""
    first, full, records = t._keyframes.group(k)
    pages, (backs, slots, patch_backs, patch_slots) = full["tasks"]
    refs = {p: (first - b, s, first + 1 - pb if pb else None, ps if pb else None)
            for p, b, s, pb, ps in zip(pages, backs, slots, patch_backs, patch_slots)}
    for j in range(first + 1, k + 1):
        pieces = pagemap.decode_pieces(records[j - first][3])
        gone = records[j - first][4]
        slot = 0
        for table in t._tables:
            for p in gone.get(table, ()):
                if table == "tasks":
                    refs.pop(p, None)
            for p, whole in pieces.get(table, ()):
                if table == "tasks":
                    refs[p] = (j, slot, None, None) if whole else (*refs[p][:2], j, slot)
                slot += 1
    return list(refs), list(refs.values())
