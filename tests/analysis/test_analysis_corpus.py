"""The explanations on real incidents from the corpus, against what their facts.md (checked by hand) says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from oomreplay import open_trace
from oomreplay.analysis import explain
from oomreplay.ingest import convert

from ..conftest import CORPUS, corpus_file

SEED = CORPUS / "logs" / "006_aout-xfs_unable-to-reap-lockdep_dmesg.log"
RECORDED = CORPUS / "recorded"


def _converted(tmp_path_factory: pytest.TempPathFactory, *inputs: Path) -> Path:
    for p in inputs:
        if not p.is_file():
            pytest.skip(f"corpus file {p} is absent")
    out = tmp_path_factory.mktemp("corpus") / "t.oomtrace"
    convert([str(p) for p in inputs], out, "auto")
    return out


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _converted(tmp_path_factory, SEED)


def test_seed_reaper_failure_names_victim_lock_and_holders(seed: Path):
    with open_trace(seed) as t:
        ex = explain(t)
        assert [f.victim for f in ex.failures] == [3163]
        r = ex.failures[0]
        assert r.comm == "a.out" and "mmap_sem" in (r.lock or "")
        assert r.confidence == "low"  # a lock name without an mm
        by_pid = {s.pid: s for s in r.suspects}
        assert by_pid[63].comm == "khugepaged"
        assert {3163, 3164, 3165, 3166, 3167} <= set(by_pid)
        assert all(by_pid[p].comm == "a.out" for p in range(3163, 3168))
        assert all(s.role == "holder or queued" and s.evidence and s.evidence[0].inferred for s in r.suspects)
        assert by_pid[3164].site.startswith("do_exit")
        assert by_pid[63].evidence[0].text and "khugepaged" in by_pid[63].evidence[0].text  # the source line
        text = " ".join(f.text for f in ex.findings if f.topic == "reaper")
        assert "3163 (a.out)" in text and "mmap_sem" in text and "lockdep dump (inferred)" in text
        assert not ex.violations


def test_seed_explain_command(seed: Path):
    r = subprocess.run([sys.executable, "-m", "oomreplay", "explain", str(seed), "--format", "markdown"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    # seq 10: the dump's khugepaged line (the converter no longer claims a flag for a kernel the log does not name)
    assert "## The OOM reaper" in r.stdout and "khugepaged" in r.stdout and "seq 10 " in r.stdout
    # "unable to reap" is printed after ten failed tries HZ/10 apart (oom_reap_task), not after one
    assert "10 attempts over about 1 s (inferred" in r.stdout


@pytest.fixture(scope="module")
def unreapable(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _converted(tmp_path_factory, RECORDED / "005_reaper_mmap_lock_unreapable" / "ftrace.txt")


def test_005_ten_failed_attempts_and_the_queued_writer(unreapable: Path):
    with open_trace(unreapable) as t:
        ex = explain(t)
        assert [f.victim for f in ex.failures] == [5279]
        r = ex.failures[0]
        assert len(r.attempts) == 10 and r.done is not None
        assert [t.event(a.seq).get("n") for a in r.attempts] == list(range(1, 11))
        # The recording has no mmap_lock tracepoints: the queued writer (5284, oomr-uffd-close, waiting for
        # mmap_write_lock) and the reader holding the lock (5283) are found only as the victim's blocked children.
        assert r.confidence == "guess"
        blocked = {s.pid: s for s in r.suspects}
        assert blocked[5284].comm == "oomr-uffd-close" and blocked[5284].state == "D"
        assert blocked[5283].comm == "oomr-memreader" and blocked[5283].state == "D"
        assert not [v for v in ex.violations if v.rule == "reaper_retries"]


def test_004_reaped_and_when(tmp_path_factory: pytest.TempPathFactory):
    path = _converted(tmp_path_factory, RECORDED / "004_reaper_dio_blocked" / "ftrace.txt")
    with open_trace(path) as t:
        ex = explain(t)
        assert not ex.failures
        (r,) = ex.reaped
        assert r.victim == 4252 and r.done.ts_ns == 1270_435_531_000  # finish_task_reaping
        assert abs(r.after_kill_ns - 2_025_874_000) < 1_000  # mark_victim at 1268.409657
        before = explain(t, t.seq_at(1270_000_000_000))
        assert not before.reaped


def test_002_each_victim_had_the_highest_points(tmp_path_factory: pytest.TempPathFactory):
    # The task table is in dmesg only (ftrace.txt has no candidates), so the dmesg half is what is ranked.
    path = _converted(tmp_path_factory, RECORDED / "002_adj_ranking" / "dmesg.txt")
    with open_trace(path) as t:
        causes = [c for c in explain(t).ooms if c.kill is not None]
        assert [c.victim for c in causes] == [3309, 3307, 3358]
        for c in causes:
            assert c.ranking is not None and c.ranking.matches, c
            assert c.ranking.best == (c.victim,)
            assert c.ranking.totalpages == 98304 // 4
            assert [m.path for m in c.memcgs_at_limit] == ["/oomreplay-adj-ranking-3258"]
        # oomr-db has the largest rss of the survivors but never the highest badness (adj 0)
        first = {cand.pid: cand.points for cand in causes[0].candidates}
        assert first[3309] > first[3358] > first[3303]


@pytest.mark.parametrize("log, wanted", [
    # a memcg slab charge: the frames below kmem_cache_alloc, not the charge path
    ("029_systemd-run-memorymax_6.17_kernel-pr*.log", ("__anon_vma_prepare", "__vmf_anon_prepare")),
    ("007_sysrq-f_3.10-el7_global_dmesg.log", ()),  # SysRq-f: a workqueue ran moom_callback, nothing allocated
    ("009_docker-stress_3.10-el7_memcg-v1_no-tasks_dmesg.log", ()),  # the memcg OOM finished at the fault's end
])
def test_what_wanted_the_memory_only_when_an_allocation_did(tmp_path_factory: pytest.TempPathFactory, log: str,
                                                            wanted: tuple[str, ...]):
    source = corpus_file(f"logs/{log}")
    with open_trace(_converted(tmp_path_factory, source)) as t:
        ex = explain(t)
    cause = next(c for c in ex.ooms if c.invoke is not None)  # 029 starts with an ending its log lost the header of
    assert cause.allocating[:len(wanted)] == wanted and bool(cause.allocating) == bool(wanted)
    said = [f for f in ex.findings if f.text.startswith("The memory was wanted by")]
    assert bool(said) == bool(wanted)


def test_the_allocating_path_skips_every_allocator_frame():
    from oomreplay.analysis.oom import allocating_frames

    stack = ("dump_stack_lvl", "dump_header", "oom_kill_process", "out_of_memory", "__alloc_pages_slowpath",
             "__alloc_pages_noprof", "__folio_alloc_noprof", "vma_alloc_folio_noprof", "do_anonymous_page",
             "__handle_mm_fault")
    assert allocating_frames(stack) == ("do_anonymous_page", "__handle_mm_fault")


def test_what_wanted_the_memory_comes_from_the_call_trace(tmp_path_factory: pytest.TempPathFactory):
    """004: a fork copying page tables (``__pud_alloc`` ← ``copy_page_range`` ← ``copy_process``) hit the OOM."""
    path = _converted(tmp_path_factory, CORPUS / "logs" / "004_kdump-udevd_5.0_full_dmesg.log")
    with open_trace(path) as t:
        ex = explain(t)
    (cause,) = ex.ooms
    assert cause.allocating[:3] == ("__pud_alloc", "copy_page_range", "copy_process.part.56")
    wanted = [f for f in ex.findings if f.text.startswith("The memory was wanted by")]
    assert len(wanted) == 1 and "copy_page_range" in wanted[0].text and not wanted[0].inferred
