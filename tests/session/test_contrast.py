"""``session.contrast`` through ``Against``: the rows each side's panels mark, for the comparisons the pilot tests
do not reach: who holds the victim's mm lock (matched by name, never pid), a zone below min on one side only."""

from __future__ import annotations

from pathlib import Path

from oomreplay import Event
from oomreplay.session.against import Against
from oomreplay.session.contrast import Marks

from ..analysis.difftraces import S, episode, written


def holding(path: Path, pid: int, comm: str) -> Path:
    """web (20) killed and never reaped while ``comm`` holds its mmap_lock for write."""
    base = episode(S, (10, "java"), (20, "web"), reaped=False)
    return written(path, base[:3] + [Event(S + 3, "task", pid, {"tgid": pid, "comm": comm}),
                                     Event(S + 3, "lock_acquire", pid, {"lock": "mmap_lock", "mode": "w", "mm": 20})]
                   + base[3:])


def marks_at_the_end(a: Path, b: Path) -> tuple[Marks, Marks]:
    s = Against(a, b)
    try:
        s.move(len(s.traces[0]) - 1)
        va, vb = s.views()
        return va.marks, vb.marks
    finally:
        s.close()


def test_another_holder_of_the_victims_mm_lock_is_marked(tmp_path: Path):
    ma, mb = marks_at_the_end(holding(tmp_path / "a.oomtrace", 25, "web-gc"),
                              holding(tmp_path / "b.oomtrace", 63, "khugepaged"))
    assert ma.locks == {"mmap_lock"} and mb.locks == {"mmap_lock"}
    assert ma.tasks == {25} and mb.tasks == {63}  # the holders' rows; the victims agree (state, flags)
    assert ma.victims == {20} and mb.victims == {20}  # their reaper lines, whose "needs" names the holders
    assert "mm lock of web held by web-gc (other: khugepaged)" in ma.said
    assert "mm lock of web held by khugepaged (other: web-gc)" in mb.said


def test_the_same_holder_under_another_pid_is_not_marked(tmp_path: Path):
    ma, mb = marks_at_the_end(holding(tmp_path / "a.oomtrace", 25, "web-gc"),
                              holding(tmp_path / "b.oomtrace", 35, "web-gc"))
    assert (ma.locks, ma.tasks, mb.locks, mb.tasks) == (set(), set(), set(), set())


def zone(free_kb: int) -> Event:
    return Event(S // 2, "zone", None, {"node": 0, "zone": "Normal", "free_kb": free_kb, "min_kb": 100,
                                        "low_kb": 120, "high_kb": 150})


def test_a_zone_below_min_on_one_side_only_is_marked(tmp_path: Path):
    a = written(tmp_path / "a.oomtrace", [zone(50)] + episode(S, (10, "java"), (20, "web")))
    b = written(tmp_path / "b.oomtrace", [zone(500)] + episode(S, (10, "java"), (20, "web")))
    also_low = written(tmp_path / "c.oomtrace", [zone(60)] + episode(S, (10, "java"), (20, "web")))
    ma, mb = marks_at_the_end(a, b)
    assert ma.memory == {("zone", 0, "Normal")} == mb.memory
    assert "zone N0 Normal: below min (other: above min)" in ma.said
    ma, mb = marks_at_the_end(a, also_low)  # both in their reserves: by how much is no difference
    assert ma.memory == set() == mb.memory
