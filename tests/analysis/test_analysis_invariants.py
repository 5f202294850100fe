"""Each invariant on a synthetic trace that breaks it and on one that keeps it; and the wait-for graph."""

from __future__ import annotations

from pathlib import Path

import pytest

from oomreplay import Event, open_trace
from oomreplay.analysis import check_all, explain, wait_graph
from oomreplay.analysis.kernel import FLAG_VERSIONS, NEWEST, Kernel, kernel_of, parse_version
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


# -- the rules that changed between kernel versions ----------------------------------------------------------

def _versioned(tmp_path: Path, kernel: str, events: list[Event]) -> list:
    path = tmp_path / f"{kernel}.oomtrace"
    with TraceWriter(path, meta={"kernel": kernel}) as w:
        w.extend(events)
    with open_trace(path) as t:
        return check_all(t)


def _gave_up_then_second_kill() -> list[Event]:
    """The reaper gives up on victim 10 (no MMF_OOM_SKIP in the trace), then the kernel kills 20."""
    return ([Event(1, "task_exit", 99, {}), _kill(S, 10)]
            + [Event(S + i, "reaper_attempt", 10, {"n": i, "outcome": "lock_busy"}) for i in range(1, 11)]
            + [Event(2 * S, "reaper_done", 10, {"outcome": "unable"}), _kill(3 * S, 20),
               Event(4 * S, "task_exit", 20, {}), Event(4 * S, "task_exit", 10, {})])


@pytest.mark.parametrize("kernel, pending", [("4.6.2", True), ("4.7.10", False), ("4.8.15", False),
                                             ("4.9.115", False), ("6.18.44", False)])
def test_what_ends_a_victim_depends_on_the_version(tmp_path: Path, kernel: str, pending: bool):
    """4.6 clears TIF_MEMDIE only when it reaps, so a victim the reaper gave up on still blocks a new choice;
    4.7-4.8 end it either way (exit_oom_victim after the loop, 4.7.4 oom_reap_task), and from 4.9 the reaper sets
    MMF_OOM_SKIP either way."""
    found = [v for v in _versioned(tmp_path, kernel, _gave_up_then_second_kill()) if v.rule == "one_kill_in_flight"]
    assert bool(found) == pending
    if pending:
        assert found[0].seq == 13 and "on 4.6 only" in found[0].message


def test_before_the_reaper_only_exit_ends_a_victim(tmp_path: Path):
    evs = [Event(1, "task_exit", 99, {}), _kill(S, 10), Event(2 * S, "reaper_done", 10, {"outcome": "reaped"}),
           _kill(3 * S, 20), Event(4 * S, "task_exit", 20, {}), Event(4 * S, "task_exit", 10, {})]
    found = {v.rule: v for v in _versioned(tmp_path, "4.4.0", evs)}
    assert set(found) == {"one_kill_in_flight", "kernel_features"}
    assert found["kernel_features"].seq == 2 and "without the reaper" in found["kernel_features"].message
    assert {v.rule for v in _versioned(tmp_path, "4.9.0", evs)} == set()


@pytest.mark.parametrize("kernel, flag, wrong", [("4.8.15", "MMF_OOM_SKIP", True), ("4.9.0", "MMF_OOM_SKIP", False),
                                                 ("4.9.0", "MMF_OOM_REAPED", True),
                                                 ("4.8.15", "MMF_OOM_REAPED", False),
                                                 ("6.1.0", "MMF_OOM_VICTIM", True),
                                                 ("4.14.177", "MMF_OOM_VICTIM", False),
                                                 ("4.14.0", "MMF_OOM_VICTIM", True),
                                                 ("4.17.0", "MMF_OOM_REAP_QUEUED", True),
                                                 ("4.19.78", "MMF_OOM_REAP_QUEUED", False),
                                                 ("3.10.0", "TIF_MEMDIE", False)])
def test_flags_the_kernel_does_not_have(tmp_path: Path, kernel: str, flag: str, wrong: bool):
    evs = [Event(1, "task_exit", 99, {}), _kill(S, 10), Event(S + 1, "flag_set", 10, {"flag": flag}),
           Event(2 * S, "task_exit", 10, {})]
    found = [v for v in _versioned(tmp_path, kernel, evs) if v.rule == "kernel_features"]
    assert [v.seq for v in found] == ([2] if wrong else [])


@pytest.mark.parametrize("meta, events, lo, hi", [
    ("5.0.0-rc8+", [], (5, 0, 0), (5, 0, 1)),
    ("6.18.44-fc-v669", [], (6, 18, 44), (6, 18, 45)),
    ("unknown", [Event(S, "reaper_done", 10, {"outcome": "unable"}),
                 Event(S, "lock_held", 63, {"lock": "&mm->mmap_sem"})], (4, 6, 0), (5, 8, 0)),
    ("unknown", [Event(S, "lock_acquire", 63, {"lock": "mmap_lock", "mode": "r"})], (5, 8, 0), None),
    (None, [Event(S, "task", 1, {"comm": "x"})], (0, 0, 0), None),
])
def test_kernel_range_from_meta_or_wording(tmp_path: Path, meta, events, lo, hi):
    path = tmp_path / "k.oomtrace"
    with TraceWriter(path, meta={"kernel": meta}) as w:
        w.extend(events)
    with open_trace(path) as t:
        k = kernel_of(t)
    assert k.lo == lo and (k.hi == hi if hi else k.hi == NEWEST)


def test_version_range_decides_only_what_it_covers():
    assert Kernel((4, 6, 0), (4, 7, 0), "x").ending() == "reaped"
    assert Kernel((4, 7, 0), (4, 9, 0), "x").ending() == "reaper_done"  # 4.7 like 4.8 (kernel-audit F4)
    assert Kernel((4, 6, 0), (4, 8, 0), "x").ending() is None
    assert Kernel((4, 6, 0), (5, 8, 0), "x").ending() is None
    assert Kernel((4, 9, 0), NEWEST, "x").ending() == "oom_skip"
    assert Kernel((4, 14, 177), (4, 14, 178), "x").within(FLAG_VERSIONS["MMF_OOM_VICTIM"]) is True
    assert Kernel((4, 10, 0), (5, 0, 0), "x").within(FLAG_VERSIONS["MMF_OOM_VICTIM"]) is None
    assert Kernel((4, 0, 0), (4, 9, 0), "x").within(FLAG_VERSIONS["MMF_OOM_SKIP"]) is False
    assert parse_version("synthetic") is None and parse_version("Linux version 4.19.0-rc1") == (4, 19, 0)
