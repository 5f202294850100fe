"""Hypothesis strategies: random but well-typed event streams over small domains, so that events collide on the
same pids, locks, zones and victims often enough to exercise every handler and every anomaly."""

from __future__ import annotations

from hypothesis import strategies as st

from oomreplay.model import KIND_NAMES, Event

PIDS = st.one_of(st.integers(1, 8), st.integers(60, 70), st.integers(1000, 1300))
LOCKS = st.sampled_from(["mmap_lock", "&mm->mmap_sem", "shrinker_rwsem", "oom_lock", "i_mutex#3"])
NAMES = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
FLAGS = st.sampled_from(["TIF_MEMDIE", "PF_EXITING", "MMF_OOM_SKIP", "MMF_OOM_VICTIM", "MMF_UNSTABLE"])
SMALL = st.integers(0, 10**7)


def _fields(kind: str) -> st.SearchStrategy[dict]:
    opt = lambda s: st.one_of(st.none(), s)  # noqa: E731 - a field a converter may or may not know
    table: dict[str, st.SearchStrategy[dict]] = {
        "task": st.fixed_dictionaries({"tgid": opt(PIDS), "comm": opt(NAMES)}),
        "task_state": st.fixed_dictionaries({"state": st.sampled_from(list("RSDTZXI")), "site": opt(NAMES)}),
        "task_exit": st.fixed_dictionaries({"code": opt(st.integers(0, 255))}),
        "fork": st.fixed_dictionaries({"child": PIDS, "comm": opt(NAMES)}),
        "lock_acquire": st.fixed_dictionaries({"lock": LOCKS, "mode": st.sampled_from(["r", "w"]),
                                               "site": opt(NAMES)}),
        "lock_contended": st.fixed_dictionaries({"lock": LOCKS, "mode": st.sampled_from(["r", "w"])}),
        "lock_release": st.fixed_dictionaries({"lock": LOCKS}),
        "lock_held": st.fixed_dictionaries({"lock": LOCKS, "index": st.integers(0, 5), "comm": opt(NAMES)}),
        "flag_set": st.fixed_dictionaries({"flag": FLAGS}),
        "flag_clear": st.fixed_dictionaries({"flag": FLAGS}),
        "alloc": st.fixed_dictionaries({"order": st.integers(0, 10), "gfp": opt(NAMES),
                                        "outcome": st.sampled_from(["ok", "fail", "stall"])}),
        "zone": st.fixed_dictionaries({"node": st.integers(0, 1), "zone": st.sampled_from(["DMA32", "Normal"]),
                                       "free_kb": opt(SMALL), "min_kb": opt(SMALL),
                                       "lowmem_reserve_kb": opt(st.lists(SMALL, max_size=4))}),
        "memcg": st.fixed_dictionaries({"path": st.sampled_from(["/", "/a", "/a/b"]), "usage_kb": opt(SMALL),
                                        "limit_kb": opt(SMALL)}),
        "rss": st.fixed_dictionaries({"anon_kb": opt(SMALL), "file_kb": opt(SMALL)}),
        "meminfo": st.fixed_dictionaries({"free_kb": opt(SMALL), "active_anon_kb": opt(SMALL),
                                          "unstable_kb": opt(SMALL)}),
        "oom_invoke": st.fixed_dictionaries({"gfp": opt(NAMES), "order": st.integers(0, 10)}),
        "oom_candidate": st.fixed_dictionaries({"tgid": opt(PIDS), "rss_pages": opt(SMALL),
                                                "oom_score_adj": st.integers(-1000, 1000)}),
        "oom_kill": st.fixed_dictionaries({"comm": opt(NAMES), "anon_rss_kb": opt(SMALL)}),
        "oom_victim": st.fixed_dictionaries({}),
        "oom_end": st.fixed_dictionaries({"outcome": st.sampled_from(["no_killable", "panic"]),
                                          "reason": opt(st.sampled_from(["no_killable", "deadlocked",
                                                                         "panic_on_oom"]))}),
        "reaper_wake": st.fixed_dictionaries({}),
        "reaper_attempt": st.fixed_dictionaries({"n": opt(st.integers(1, 12)),
                                                 "outcome": st.sampled_from(["reaped", "lock_busy", "skipped"])}),
        "reaper_done": st.fixed_dictionaries({"outcome": st.sampled_from(["reaped", "unable"])}),
        "note": st.fixed_dictionaries({"text": NAMES}),
        "mark": st.fixed_dictionaries({"title": NAMES}),
        "log": st.fixed_dictionaries({"text": NAMES}),
    }
    return table[kind]


@st.composite
def events(draw: st.DrawFn, min_size: int = 0, max_size: int = 400) -> list[Event]:
    """A stream with non-decreasing times, some inferred fields, some source refs and some extra fields."""
    n = draw(st.integers(min_size, max_size))
    kinds = st.sampled_from(KIND_NAMES)
    ts = draw(st.integers(0, 10**12))
    out = []
    for _ in range(n):
        kind = draw(kinds)
        ts += draw(st.one_of(st.just(0), st.integers(1, 10**6)))
        fields = draw(_fields(kind))
        if draw(st.integers(0, 9)) == 0:
            fields["x_extra"] = draw(st.one_of(NAMES, SMALL))
        inferred = {draw(st.sampled_from(sorted(fields)))} if fields and draw(st.booleans()) else set()
        pid = None if kind in ("zone", "memcg", "log") and draw(st.booleans()) else draw(PIDS)
        src = (0, draw(st.integers(1, 50))) if draw(st.booleans()) else None
        out.append(Event(ts, kind, pid, fields, src=src, inferred=inferred))
    return out
