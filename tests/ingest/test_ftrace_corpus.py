"""Every recording of the corpus converts from its ftrace text alone and agrees with its ``facts.md``: the kills
(victim pids in order; a dying thread marking itself is no kill), the reaper's wake, attempts and outcome, and the
oom_score_adj values. Facts are read back through the public API, as a user's script would."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from oomreplay import open_trace
from oomreplay.ingest import convert

from ..conftest import CORPUS
from ..corpus import facts_table

RECORDED = CORPUS / "recorded"
TRACES = sorted([*RECORDED.glob("*/ftrace.txt"), *RECORDED.glob("*/trace-cmd-report.txt")]) \
    if RECORDED.is_dir() else []
WITH_FACTS = [t for t in TRACES if (t.parent / "facts.md").is_file()]

needs_corpus = pytest.mark.skipif(not TRACES, reason=f"the shared corpus is not at {CORPUS}")




@pytest.fixture(scope="module", params=[t.parent.name for t in WITH_FACTS] or ["absent"])
def recording(request, tmp_path_factory):
    if not WITH_FACTS:
        pytest.skip(f"the shared corpus is not at {CORPUS}")
    source = next(t for t in WITH_FACTS if t.parent.name == request.param)
    out = tmp_path_factory.mktemp("ftrace") / "trace.oomtrace"
    report = convert([str(source)], out)
    with open_trace(out) as trace:
        yield trace, report, (source.parent / "facts.md").read_text()


@needs_corpus
@pytest.mark.parametrize("source", TRACES, ids=[t.parent.name for t in TRACES])
def test_converts_alone_without_rejects(source: Path, tmp_path: Path):
    out = tmp_path / "t.oomtrace"
    report = convert([str(source)], out)
    assert report.sources[0].clock == "trace"
    assert report.warnings == []
    with open_trace(out) as trace:
        assert trace.source_lines(1, 1, file=0)  # every line kept as source text
        lines = len(source.read_text().splitlines())
        assert report.sources[0].lines == lines
        # every line is an event or part of one: nothing silently dropped
        covered = {ev.src.line for ev in trace.events(0, len(trace)) if ev.src is not None}
        assert covered == set(range(1, lines + 1))


def test_kills_in_order(recording):
    trace, _, facts = recording
    rows = [r for r in facts_table(facts, "## Kills in order") if r[0].isdigit()]
    kills = list(trace.events(kind="oom_kill"))
    assert [(e.pid, e.get("comm")) for e in kills] == [(int(r[1]), r[2]) for r in rows]
    assert [e.get("oom_score_adj") for e in kills] == [int(r[10]) for r in rows]
    assert [e.get("anon_rss_kb") for e in kills] == [int(r[6]) for r in rows]
    # the dying threads that marked themselves (ftrace only) are victims, not kills
    extra = [int(r[1]) for r in facts_table(facts, "## Kills in order") if not r[0].isdigit()]
    assert [e.pid for e in trace.events(kind="oom_victim")] == extra


def test_reaper(recording):
    trace, _, facts = recording
    for row in facts_table(facts, "## oom_reaper outcomes"):
        pid, wake, skips, outcome = int(row[0]), row[2], row[5], row[7]
        assert len(list(trace.events(kind="reaper_wake", pid=pid))) == (wake != "-")
        attempts = [e.get("outcome") for e in trace.events(kind="reaper_attempt", pid=pid)]
        assert [e.get("n") for e in trace.events(kind="reaper_attempt", pid=pid)] == \
            list(range(1, len(attempts) + 1))
        done = [e.get("outcome") for e in trace.events(kind="reaper_done", pid=pid)]
        if outcome.startswith("reaped"):
            assert (attempts, done) == (["reaped"], ["reaped"])
        elif outcome.startswith("NOT reaped"):
            n = int(re.match(r"(\d+) x", skips).group(1))
            assert (attempts, done) == (["lock_busy"] * n, ["unable"])
        else:
            assert (attempts, done) == ([], [])
        skip = [e for e in trace.events(kind="flag_set", pid=pid) if e.get("flag") == "MMF_OOM_SKIP"]
        assert len(skip) == 1 and "flag" in skip[0].inferred


def test_oom_score_adj_updates(recording):
    trace, _, facts = recording
    expected = facts_table(facts, "Updates (ftrace") if "Updates (ftrace" in facts else []
    seen = [(e.pid, e.get("comm"), e.get("oom_score_adj")) for e in trace.events(kind="task")
            if e.get("oom_score_adj") is not None]
    assert seen == [(int(r[1]), r[2], int(r[3])) for r in expected]


def test_victim_flags_inferred(recording):
    trace, _, _ = recording
    for kill in trace.events(kind="oom_kill"):
        memdie = [e for e in trace.events(kind=["flag_set", "flag_clear"], pid=kill.pid)
                  if e.get("flag") == "TIF_MEMDIE"]
        assert [e.kind for e in memdie] == ["flag_set", "flag_clear"]
        assert all("flag" in e.inferred for e in memdie)
        state = trace.state_at(memdie[0].seq)
        assert "TIF_MEMDIE" in state.tasks[kill.pid].flags
