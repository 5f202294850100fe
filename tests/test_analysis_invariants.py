"""Each invariant on a synthetic trace that breaks it and on one that keeps it; and the wait-for graph."""

from __future__ import annotations

from pathlib import Path

from oomreplay import Event, open_trace
from oomreplay.analysis import check_all, explain, wait_graph
from oomreplay.store import TraceWriter

S = 1_000_000_000


def _trace(tmp_path: Path, events: list[Event]) -> Path:
    path = tmp_path / "t.oomtrace"
    with TraceWriter(path, meta={"kernel": "6.1-test"}) as w:
        w.extend(events)
    return path


def _violations(tmp_path: Path, events: list[Event]) -> list:
    with open_trace(_trace(tmp_path, events)) as t:
        return check_all(t)


def _kill(ts: int, pid: int, comm: str = "victim") -> Event:
    return Event(ts, "oom_kill", pid, {"comm": comm})


def test_second_kill_while_first_pending(tmp_path: Path):
    evs = [Event(1, "task_exit", 99, {}), _kill(S, 10), _kill(2 * S, 20), Event(3 * S, "task_exit", 10, {}),
           Event(3 * S, "task_exit", 20, {})]
    (v,) = _violations(tmp_path, evs)
    assert (v.rule, v.seq, v.certain) == ("one_kill_in_flight", 2, True)
    assert [e.seq for e in v.evidence] == [2, 1]


def test_second_kill_after_skip_or_exit_is_fine(tmp_path: Path):
    evs = [_kill(S, 10), Event(S + 1, "flag_set", 10, {"flag": "MMF_OOM_SKIP"}), _kill(2 * S, 20),
           Event(3 * S, "task_exit", 20, {}), _kill(4 * S, 30), Event(5 * S, "task_exit", 30, {})]
    assert _violations(tmp_path, evs) == []


def test_unconfirmed_when_the_trace_records_no_exits(tmp_path: Path):
    found = _violations(tmp_path, [_kill(S, 10), _kill(2 * S, 20)])
    assert {v.rule for v in found} == {"one_kill_in_flight", "victim_resolved"}
    assert not any(v.certain for v in found)


def _attempts(n: int) -> list[Event]:
    return [_kill(S, 10)] + [Event(2 * S + i, "reaper_attempt", 10, {"n": i, "outcome": "lock_busy"})
                             for i in range(1, n + 1)] + [Event(3 * S, "reaper_done", 10, {"outcome": "unable"})]


def test_eleven_reaper_attempts(tmp_path: Path):
    (v,) = _violations(tmp_path, _attempts(11))
    assert (v.rule, v.seq) == ("reaper_retries", 11)


def test_ten_reaper_attempts_are_allowed(tmp_path: Path):
    assert _violations(tmp_path, _attempts(10)) == []


def test_victim_never_resolved(tmp_path: Path):
    evs = [Event(1, "task_exit", 99, {}), _kill(S, 10), Event(2 * S, "reaper_attempt", 10, {"n": 1,
                                                                                           "outcome": "lock_busy"})]
    (v,) = _violations(tmp_path, evs)
    assert (v.rule, v.seq, v.certain) == ("victim_resolved", 1, True)


def test_victim_reaped_is_resolved(tmp_path: Path):
    evs = [Event(1, "task_exit", 99, {}), _kill(S, 10), Event(2 * S, "reaper_done", 10, {"outcome": "reaped"})]
    assert _violations(tmp_path, evs) == []


def test_release_of_a_lock_never_acquired(tmp_path: Path):
    evs = [Event(S, "lock_acquire", 1, {"lock": "a", "mode": "w"}), Event(2 * S, "lock_release", 1, {"lock": "a"}),
           Event(3 * S, "lock_release", 2, {"lock": "a"})]
    (v,) = _violations(tmp_path, evs)
    assert (v.rule, v.seq) == ("release_held", 2)


def test_balanced_lock_use(tmp_path: Path):
    evs = [Event(S, "lock_acquire", 1, {"lock": "a", "mode": "w"}), Event(2 * S, "lock_release", 1, {"lock": "a"})]
    assert _violations(tmp_path, evs) == []


def _zone(ts: int, free: int) -> Event:
    return Event(ts, "zone", None, {"node": 0, "zone": "Normal", "free_kb": free, "min_kb": 100})


def test_negative_free_memory(tmp_path: Path):
    (v,) = _violations(tmp_path, [_zone(S, 50), _zone(2 * S, -4)])
    assert (v.rule, v.seq) == ("free_nonnegative", 1)


def test_zone_below_min_but_not_negative(tmp_path: Path):
    assert _violations(tmp_path, [_zone(S, 50), _zone(2 * S, 0)]) == []


def test_wait_for_chain_and_cycle(tmp_path: Path):
    evs = [Event(S, "lock_acquire", 1, {"lock": "A", "mode": "w"}),
           Event(S, "lock_acquire", 2, {"lock": "B", "mode": "w"}),
           Event(2 * S, "lock_contended", 3, {"lock": "A", "mode": "r"}),
           Event(3 * S, "lock_contended", 1, {"lock": "B", "mode": "w"}),
           Event(4 * S, "lock_held", 4, {"lock": "C"}),
           Event(5 * S, "lock_contended", 2, {"lock": "A", "mode": "w"})]
    with open_trace(_trace(tmp_path, evs)) as t:
        before = wait_graph(t.state_at(4))
        assert before.cycles == ()
        assert [(d, e.waiter, e.holder) for d, e in before.chain(3)] == [(0, 3, 1), (1, 1, 2)]
        g = wait_graph(t.state_at(5))
        assert g.cycles == ((1, 2),)
        assert not any(e.inferred for e in g.edges)
        ex = explain(t)
        assert any("cycle" in f.text and "1 -> 2 -> 1" in f.text for f in ex.findings)


def test_edge_to_a_lockdep_holder_is_inferred(tmp_path: Path):
    evs = [Event(S, "lock_held", 63, {"lock": "&mm->mmap_sem", "comm": "khugepaged"}),
           Event(2 * S, "lock_contended", 5, {"lock": "&mm->mmap_sem", "mode": "w"})]
    with open_trace(_trace(tmp_path, evs)) as t:
        (e,) = wait_graph(t.state_at(1)).edges
        assert (e.waiter, e.holder, e.inferred, e.hold_seq, e.wait_seq) == (5, 63, True, 0, 1)
