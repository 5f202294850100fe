"""``oomreplay.analysis.diff`` on real incidents (the corpus recordings, hand-checked against their facts.md) and
on incidents built to test one thing each: an extra kill, renumbered pids, shifted clocks, numeric suffixes."""

from __future__ import annotations

from pathlib import Path

import pytest

from oomreplay import Event, open_trace
from oomreplay.analysis.diff import Diff, anchors, compare, counterpart
from oomreplay.analysis.story import normalise, story

from ..conftest import CORPUS
from .difftraces import S, converted, episode, rewritten, written

RECORDED = CORPUS / "recorded"


def _recording(factory: pytest.TempPathFactory, name: str, log_only: bool = False) -> Path:
    d = RECORDED / name
    out = factory.mktemp("diff") / f"{name}{'-log' if log_only else ''}.oomtrace"
    return converted(out, d / "dmesg.txt") if log_only else converted(out, d / "dmesg.txt", d / "ftrace.txt")


@pytest.fixture(scope="module")
def unreapable(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _recording(tmp_path_factory, "005_reaper_mmap_lock_unreapable")


@pytest.fixture(scope="module")
def reaped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _recording(tmp_path_factory, "004_reaper_dio_blocked")


@pytest.fixture(scope="module")
def ranking(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _recording(tmp_path_factory, "002_adj_ranking")


def diff_of(a: Path, b: Path) -> Diff:
    with open_trace(a) as ta, open_trace(b) as tb:
        return compare(ta, tb)


def kinds(d: Diff, side: str) -> list[str]:
    """The kinds of the steps only ``side`` has, among the reported differences."""
    return [(p.a if side == "a" else p.b).kind for p in d.differences()
            if (p.b is None if side == "a" else p.a is None)]


def test_reaper_gave_up_against_reaped(unreapable: Path, reaped: Path):
    d = diff_of(unreapable, reaped)
    # 005's facts.md: one kill (5279 oomr-mlock), 10 skip_task_reaping, "unable to reap"; the recording has no
    # mmap_lock events, so the queued writer 5284 (oomr-uffd-close) and the reader 5283 (oomr-memreader) are
    # named as the victim's blocked threads. 004's: one kill (4252 oomr-dio), reaped by the reaper ~2 s later.
    assert d.verdict.startswith("A: the reaper gave up on oomr-mlock after 10 attempts while oomr-memreader and "
                                "oomr-uffd-close were blocked in D state")
    assert "B: oomr-dio was reaped 2.0 s after its kill" in d.verdict
    assert not d.outcomes_same and not d.same()
    by_kind = {p.a.kind: p for p in d.pairs if p.a is not None and p.b is not None}
    # the kill pairs with the kill (5279 in A at the seq of its "Killed process" line, 4252 in B), the reaper's
    # outcome with the reaper's outcome, although every name differs
    kill = by_kind["kill"]
    assert (kill.a.pid, kill.b.pid) == (5279, 4252)
    assert {f.field: (f.a, f.b) for f in kill.diffs}["victim"] == ("oomr-mlock", "oomr-dio")
    done = {f.field: (f.a, f.b) for f in by_kind["reaper_done"].diffs}
    assert done["outcome"] == ("unable", "reaped")
    attempts = {f.field: (f.a, f.b) for f in by_kind["reaper_attempts"].diffs}
    assert attempts["count"] == (10, 1) and attempts["outcomes"] == (("lock_busy",), ("reaped",))
    # 004's extra mark_victim (4258, a thread of the victim entering out_of_memory() while dying) is only in B
    assert kinds(d, "b") == ["victim_mark"] and kinds(d, "a") == []
    assert [p.b.pid for p in d.pairs if p.a is None] == [4258]


def test_one_kill_against_three(unreapable: Path, ranking: Path):
    d = diff_of(unreapable, ranking)
    # 002's facts.md: three invocations by oomr-grow, kills in badness order: 3309 oomr-web (adj 900), 3307
    # oomr-cache (adj 300), 3358 oomr-grow (adj 0, the invoker itself). A's one kill (oomr-mlock, adj 0, the
    # invoker itself too) pairs with the third; the first two OOMs are insertions, not "different kills".
    assert "B: 3 kills: oomr-web exited" in d.verdict and "oomr-cache exited" in d.verdict
    assert d.verdict.startswith("A: the reaper gave up on oomr-mlock")
    kills = [p for p in d.pairs if (p.a or p.b).kind == "kill"]
    assert [(p.a and p.a.pid, p.b and p.b.pid) for p in kills] == [(None, 3309), (None, 3307), (5279, 3358)]
    assert kinds(d, "b").count("invoke") == 2 and kinds(d, "b").count("kill") == 2
    # 002 has no reaper at all (every victim exited at once): A's wake, attempts and outcome are only in A
    assert {"reaper_wake", "reaper_attempts", "reaper_done"} <= set(kinds(d, "a"))


def test_same_trace_has_no_difference(unreapable: Path):
    d = diff_of(unreapable, unreapable)
    assert d.same(all_=True) and d.differences(all_=True) == [] and d.outcomes_same
    assert d.verdict.startswith("A and B tell the same story: the reaper gave up on oomr-mlock")


def test_renumbered_and_shifted_is_the_same(unreapable: Path, tmp_path: Path):
    other = rewritten(unreapable, tmp_path / "renumbered.oomtrace", pid_offset=1000, shift_ns=-777 * S)
    d = diff_of(unreapable, other)
    # the rewrite did change what a naive diff sees
    assert [e.pid for e in d.b.story if e.kind == "kill"] == [6279]
    assert d.b.story[0].ts_ns == d.a.story[0].ts_ns - 777 * S
    assert d.same(all_=True), [p for p in d.differences(all_=True)]


def test_log_and_recording_of_one_incident_end_the_same(tmp_path_factory: pytest.TempPathFactory,
                                                        unreapable: Path, reaped: Path):
    for name, recording in (("005_reaper_mmap_lock_unreapable", unreapable), ("004_reaper_dio_blocked", reaped)):
        log = _recording(tmp_path_factory, name, log_only=True)
        d = diff_of(log, recording)
        assert d.outcomes_same, d.verdict
        assert [o.result for o in d.a.outcomes] == [o.result for o in d.b.outcomes] != []
        # what the log cannot show (stalls, the reaper waking, the victim's exit) and the attempts it does not
        # number are not differences; they are listed with --all
        assert d.same(), [(p.a, p.b, p.diffs) for p in d.differences()]
        assert any(p.note == "unrecorded" for p in d.differences(all_=True))
        assert not d.same(all_=True)


def test_an_extra_kill_is_an_insertion(tmp_path: Path):
    a = written(tmp_path / "a.oomtrace", episode(S, (10, "java"), (20, "web")) +
                episode(2 * S, (10, "java"), (30, "db")))
    b = written(tmp_path / "b.oomtrace", episode(S, (11, "java"), (21, "web")) +
                episode(2 * S, (11, "java"), (41, "cache")) + episode(3 * S, (11, "java"), (31, "db")))
    d = diff_of(a, b)
    kills = [(p.a and p.a.name, p.b and p.b.name) for p in d.pairs if (p.a or p.b).kind == "kill"]
    assert kills == [("web", "web"), (None, "cache"), ("db", "db")]
    assert all(p.a is None for p in d.differences()), "only the inserted OOM differs"
    # the inserted OOM: an invocation (by java, like the others: which of two equal ones is "extra" is a tie), and
    # the kill, reaper wake, attempts and outcome of cache (41)
    inserted = d.differences()
    assert sorted(p.b.kind for p in inserted) == ["invoke", "kill", "reaper_attempts", "reaper_done", "reaper_wake"]
    assert {p.b.pid for p in inserted if p.b.kind != "invoke"} == {41}


def test_names_are_compared_without_their_numbers(tmp_path: Path):
    assert normalise("kworker/1:2") == normalise("kworker/0:17") == "kworker/#:#"
    assert normalise("python3") == "python3" and normalise("oomr-dio-4214") == "oomr-dio-#"
    a = written(tmp_path / "a.oomtrace", episode(S, (10, "kworker/1:2"), (20, "web")))
    b = written(tmp_path / "b.oomtrace", episode(5 * S, (99, "kworker/0:7"), (77, "web")))
    c = written(tmp_path / "c.oomtrace", episode(S, (10, "kswapd0"), (20, "web")))
    assert diff_of(a, b).same(all_=True)
    diffs = diff_of(a, c).differences()
    assert [(f.field, f.a, f.b) for p in diffs for f in p.diffs] == [("task", "kworker/#:#", "kswapd0")]


def test_a_reaper_that_gave_up_is_a_different_outcome(tmp_path: Path):
    a = written(tmp_path / "a.oomtrace", episode(S, (10, "java"), (20, "web"), reaped=False))
    b = written(tmp_path / "b.oomtrace", episode(S, (10, "java"), (20, "web"), reaped=True))
    d = diff_of(a, b)
    # the synthetic reaper is done 3 ns after the kill (episode() spaces its events 1 ns apart)
    assert d.verdict == "A: the reaper gave up on web after 10 attempts; B: web was reaped 0.0 ms after its kill."
    assert not d.outcomes_same


def test_the_victims_mm_lock_holder_is_a_step(tmp_path: Path):
    lock = {"lock": "mmap_lock", "mode": "w", "mm": 20}
    base = episode(S, (10, "java"), (20, "web"), reaped=False)
    with_holder = base[:3] + [Event(S + 3, "task", 25, {"tgid": 20, "comm": "web-gc"}),
                              Event(S + 3, "lock_acquire", 25, lock)] + base[3:]
    a = written(tmp_path / "a.oomtrace", with_holder)
    b = written(tmp_path / "b.oomtrace", base)
    steps = [e for e in story(open_trace(a)) if e.kind == "mm_lock"]
    assert [(e.value("task"), e.value("relation"), e.value("action"), e.value("mode")) for e in steps] == [
        ("web-gc", "a thread of the victim", "takes", "w")]
    d = diff_of(a, b)
    assert kinds(d, "a") == ["mm_lock"] and "held its mmap_lock" in d.verdict


def test_cursor_follows_the_aligned_step(unreapable: Path, reaped: Path):
    d = diff_of(unreapable, reaped)
    ties = anchors(d)
    kill = next(p for p in d.pairs if p.a is not None and p.a.kind == "kill")
    assert counterpart(ties, kill.a.seq, kill.a.ts_ns) == (kill.b.seq, None)
    # 1 ms after A's kill: B's clock 1 ms after its kill, never past B's next paired step
    seq, ts = counterpart(ties, kill.a.seq + 1, kill.a.ts_ns + 1_000_000)
    assert seq is None and ts == kill.b.ts_ns + 1_000_000
    nxt = next(t for t in ties if t.a_seq > kill.a.seq)
    assert counterpart(ties, nxt.a_seq - 1, kill.a.ts_ns + 10 * S)[1] < nxt.b_ts
    assert d.swapped().a.name == d.b.name and counterpart(anchors(d.swapped()), kill.b.seq, 0) == (kill.a.seq, None)
