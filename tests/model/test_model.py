"""What each event does to the state, including the oddities a real, incomplete log produces."""

from __future__ import annotations

from oomreplay.model import MAX_OOM_REAP_RETRIES, Event, Src, State, apply


def run(*events: Event) -> State:
    s = State()
    for seq, e in enumerate(events):
        e.seq = seq
        s = apply(s, e)
    return s


def test_empty_states_are_equal_and_apply_is_pure():
    s0 = State()
    assert s0 == State()
    s1 = apply(s0, Event(1, "task", 5, {"tgid": 5, "comm": "a.out"}))
    assert s0 == State() and len(s0.tasks) == 0
    assert s1.tasks[5].comm == "a.out" and s1 != s0


def test_lock_lifecycle_with_waiters_and_modes():
    s = run(Event(1, "lock_acquire", 10, {"lock": "mmap_lock", "mode": "r"}),
            Event(2, "lock_contended", 11, {"lock": "mmap_lock", "mode": "w"}),
            Event(3, "lock_acquire", 12, {"lock": "mmap_lock", "mode": "r"}))
    lk = s.locks["mmap_lock"]
    assert [(h.pid, h.mode) for h in lk.holders] == [(10, "r"), (12, "r")]
    assert [(w.pid, w.mode) for w in lk.waiters] == [(11, "w")]
    s = run(Event(1, "lock_acquire", 10, {"lock": "L", "mode": "w"}),
            Event(2, "lock_contended", 11, {"lock": "L", "mode": "w"}),
            Event(3, "lock_release", 10, {"lock": "L"}),
            Event(4, "lock_acquire", 11, {"lock": "L", "mode": "w"}))
    assert [h.pid for h in s.locks["L"].holders] == [11] and not s.locks["L"].waiters
    assert len(s.anomalies) == 0
    s = apply(s, Event(5, "lock_release", 11, {"lock": "L"}))
    assert "L" not in s.locks  # nobody holds or waits: the lock leaves the state


def test_anomalies_are_recorded_not_raised():
    s = run(Event(1, "lock_release", 3, {"lock": "oom_lock"}),
            Event(2, "flag_clear", 3, {"flag": "TIF_MEMDIE"}),
            Event(3, "lock_acquire", 4, {"lock": "X", "mode": "w"}),
            Event(4, "lock_acquire", 5, {"lock": "X", "mode": "w"}),
            Event(5, "zone", None, {"zone": "Normal", "free_kb": -4}))
    kinds = [a.kind for a in s.anomalies.values()]
    assert kinds == ["lock_release", "flag_clear", "lock_acquire", "zone"]
    assert [a.seq for a in s.anomalies.values()] == [0, 1, 3, 4]
    assert "did not hold" in s.anomalies[0].message


def test_lockdep_holdings_are_inferred_and_superseded_by_a_real_acquire():
    s = run(Event(1, "lock_held", 63, {"lock": "&mm->mmap_sem", "mode": "r", "comm": "khugepaged"}),
            Event(1, "lock_held", 63, {"lock": "&mm->mmap_sem", "mode": "r"}))
    (h,) = s.locks["&mm->mmap_sem"].holders
    assert h.inferred and h.pid == 63 and s.tasks[63].comm == "khugepaged"
    s = apply(s, Event(2, "lock_acquire", 63, {"lock": "&mm->mmap_sem", "mode": "r"}))
    (h,) = s.locks["&mm->mmap_sem"].holders
    assert not h.inferred


def test_task_and_mm_flags_with_inference():
    s = run(Event(1, "task", 3163, {"tgid": 3163, "comm": "a.out"}),
            Event(2, "flag_set", 3163, {"flag": "TIF_MEMDIE"}, inferred={"flag"}),
            Event(3, "flag_set", 3164, {"flag": "MMF_OOM_SKIP", "mm": 3163}))
    assert s.tasks[3163].flags == ("TIF_MEMDIE",) and s.tasks[3163].inferred_flags == ("TIF_MEMDIE",)
    assert s.mms[3163].flags == ("MMF_OOM_SKIP",) and s.mms[3163].inferred_flags == ()
    s = apply(s, Event(4, "flag_clear", 3163, {"flag": "TIF_MEMDIE"}))
    assert s.tasks[3163].flags == () and len(s.anomalies) == 0


def test_oom_kill_and_reaper_progress():
    events = [Event(1, "task", 7, {"tgid": 7, "comm": "hog"}),
              Event(2, "oom_invoke", 9, {"gfp": "GFP_KERNEL", "order": 0, "comm": "writer"}),
              Event(3, "oom_candidate", 7, {"tgid": 7, "oom_score_adj": 0, "comm": "hog"}),
              Event(4, "oom_kill", 7, {"comm": "hog", "anon_rss_kb": 1000})]
    events += [Event(10 + n, "reaper_attempt", 7, {"n": n, "outcome": "lock_busy"})
               for n in range(1, MAX_OOM_REAP_RETRIES + 1)]
    events.append(Event(30, "reaper_done", 7, {"outcome": "unable"}))
    s = run(*events)
    (oom,) = s.ooms.values()
    assert oom.invoker == 9 and oom.candidates == 1 and oom.victims == (7,)
    v = s.victims[7]
    assert v.comm == "hog" and v.killed_seq == 3 and len(v.attempts) == 10 and v.outcome == "unable"
    assert len(s.anomalies) == 0
    s = apply(s, Event(31, "reaper_attempt", 7, {"n": 11, "outcome": "lock_busy"}))
    assert "attempt 11" in s.anomalies[0].message  # the round ended with its outcome: an 11th attempt is none


def test_fork_exit_and_zone_merge():
    s = run(Event(1, "task", 1, {"tgid": 1, "comm": "init"}),
            Event(2, "fork", 1, {"child": 2}),
            Event(3, "zone", None, {"node": 0, "zone": "DMA32", "free_kb": 100, "min_kb": 50,
                                    "lowmem_reserve_kb": [0, 10]}),
            Event(4, "zone", None, {"node": 0, "zone": "DMA32", "free_kb": 40}),
            Event(5, "task_exit", 2, {}))
    assert s.tasks[2].comm == "init" and s.tasks[2].exited and s.tasks[2].state == "X"
    z = s.zones[(0, "DMA32")]
    assert (z.free_kb, z.min_kb, z.lowmem_reserve_kb, z.since) == (40, 50, (0, 10), 3)


def test_unknown_enumerations_become_anomalies():
    s = run(Event(1, "alloc", 5, {"order": 0, "outcome": "maybe"}),
            Event(2, "reaper_done", 5, {"outcome": "perhaps"}))
    assert len(s.anomalies) == 2


def test_a_kill_completes_its_invocation_and_task_events_carry_oom_score_adj():
    """The oom-kill: summary (constraint, memcg) is printed after the header; the kill brings it to the invocation."""
    s = run(Event(1, "oom_invoke", 9, {"gfp": "GFP_KERNEL", "order": 0}),
            Event(2, "oom_kill", 7, {"comm": "hog", "constraint": "CONSTRAINT_MEMCG", "memcg": "/pod"}),
            Event(3, "task", 7, {"oom_score_adj": 900}))
    (oom,) = s.ooms.values()
    assert (oom.constraint, oom.memcg, oom.victims) == ("CONSTRAINT_MEMCG", "/pod", (7,))
    assert s.tasks[7].oom_score_adj == 900


def test_an_event_made_without_checks_is_the_checked_one():
    """``Event.unchecked`` sets every slot ``Event.__init__`` sets, to what it would; ``Src.unchecked`` is a
    ``Src``."""
    src = Src.unchecked((0, 9))
    assert type(src) is Src and src == Src(0, 9)
    fast = Event.unchecked(5, "rss", 7, {"anon_kb": 3}, src)
    checked = Event(5, "rss", 7, {"anon_kb": 3}, src=(0, 9))
    slots = ("ts_ns", "kind", "pid", "fields", "src", "inferred", "seq")
    assert [getattr(fast, a) for a in slots] == [getattr(checked, a) for a in slots]
    assert fast == checked and fast.seq is None and not fast.inferred and type(fast.src) is Src
