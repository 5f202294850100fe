"""The reaper as each kernel ran it (issue 18 items 1-4, issue 24 items 6-7), through ``oomreplay.ingest.convert``.

Inputs: corpus 005 (linux-next-20160513, "unable to reap" 43 times for one victim) and lines written to the
formats of kernel-formats.md §1.7: ``"oom_reaper: reaped process %d (%s), now anon-rss:%lukB, file-rss:%lukB,
shmem-rss:%lukB\\n"`` and ``"oom_reaper: unable to reap pid:%d (%s)\\n"`` (4.6 -> 6.x, unchanged).
"""

from __future__ import annotations

from pathlib import Path

from oomreplay import open_trace
from oomreplay.analysis.explain import explain
from oomreplay.analysis.invariants import check_all
from oomreplay.ingest import convert
from oomreplay.model import attempts_text

from ..conftest import corpus_file


def _trace(tmp_path: Path, lines: list[str]):
    log = tmp_path / "x.log"
    log.write_text("\n".join(lines) + "\n")
    out = tmp_path / "x.oomtrace"
    convert([str(log)], str(out))
    return open_trace(out)


def test_a_re_queued_victim_never_shows_more_than_ten_tries(tmp_path: Path):
    # oom_reap_task makes at most MAX_OOM_REAP_RETRIES tries per run; 4.6-era kernels ran it again for the same
    # victim, so 43 "unable" lines are 43 rounds of ten, not 430 tries (issue 24 item 7 showed "attempts 20/10")
    out = tmp_path / "005.oomtrace"
    convert([str(corpus_file("logs/005_tgid-repro_unable-to-reap-loop_dmesg.log"))], str(out))
    with open_trace(out) as t:
        v = t.state_at(len(t) - 1).victims[5652]
        assert len(v.attempts) == 10 and v.rounds == 43
        assert attempts_text(v) == "attempts 10/10 (inferred), round 43"
        assert not [x for x in check_all(t) if x.rule == "reaper_retries"]
        assert not t.state_at(len(t) - 1).anomalies


def test_reaped_without_its_kill_is_not_killed_at_the_same_instant(tmp_path: Path):
    # the reaper line alone: the kill was before the log; "attempt 1-10" as silent failures may precede it
    with _trace(tmp_path, ["[  100.300000] oom_reaper: reaped process 3001 (a.out), now anon-rss:0kB, "
                           "file-rss:0kB, shmem-rss:0kB"]) as t:
        v = t.state_at(len(t) - 1).victims[3001]
        assert v.killed_seq is None and v.killed_ts is None
        assert attempts_text(v) == "attempt 1–10/10"
        text = " ".join(f.text for f in explain(t).findings)
        assert "0.000 s after the kill" not in text
        assert "killed before the log starts" in text and "on attempt 1–10" in text


def test_the_timer_and_the_flag_follow_the_named_kernel(tmp_path: Path):
    lines = ["[  100.000000] a.out invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
             "[  100.000001] CPU: 1 PID: 3001 Comm: a.out Not tainted 6.12.0 #1",
             "[  100.000002] Out of memory: Killed process 3001 (a.out) total-vm:4268108kB, anon-rss:2754236kB, "
             "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:5000kB oom_score_adj:0",
             "[  103.047000] oom_reaper: unable to reap pid:3001 (a.out)"]
    with _trace(tmp_path, lines) as t:
        text = " ".join(f.text for f in explain(t).findings)
        assert "10 attempts over about 1 s (inferred" in text
        assert "no earlier than 2 s after the kill (OOM_REAPER_DELAY" in text  # queue_oom_reaper, 5.18+
        assert "4.9+: MMF_OOM_SKIP set" in text
        assert not [x for x in check_all(t) if x.rule in ("kernel_features", "reaper_retries")]
