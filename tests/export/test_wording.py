"""The sentences users read: counts agree with their nouns ("1 line", not "1 lines"), a finding says "inferred"
once, and a task the trace does not name is said so rather than printed as "None"."""

from __future__ import annotations

from pathlib import Path

from oomreplay import Event, TraceWriter, open_trace
from oomreplay._util.plural import count
from oomreplay.analysis import explain
from oomreplay.export import explanation, snapshot
from oomreplay.ingest import convert


def test_counts_agree_with_their_nouns():
    assert [count(n, "line") for n in (0, 1, 2, 12345)] == ["0 lines", "1 line", "2 lines", "12,345 lines"]
    assert count(1, "mouse", "mice") == "1 mouse" and count(3, "mouse", "mice") == "3 mice"


def test_a_one_line_log_and_a_one_task_state(tmp_path: Path):
    log = tmp_path / "dmesg.txt"
    log.write_text("[    1.000000] eth0: link up\n")
    report = convert([str(log)], tmp_path / "t.oomtrace")
    assert any(w.endswith("no OOM report found; its 1 line is kept as a log event") for w in report.warnings)
    assert report.lines()[0].endswith(": 1 event from 1 source")
    with TraceWriter(tmp_path / "one.oomtrace") as w:
        w.append(Event(1_000_000_000, "task", 7, {"tgid": 7, "comm": "sh"}))
    with open_trace(tmp_path / "one.oomtrace") as t:
        assert ": 1 task (" in snapshot.heading(t.state_at(0))


def test_explain_names_an_unknown_invoker_and_says_inferred_once(tmp_path: Path):
    """An invocation whose invoker the log does not give, a victim the reaper fails on and no lock event (the
    suspects are a guess): the text said "None invoked the OOM killer" and "suspects (inferred). (inferred)"."""
    path = tmp_path / "t.oomtrace"
    evs = [Event(1_000_000_000, "task", 300, {"tgid": 300, "comm": "hog"}),
           Event(1_000_000_000, "task", 301, {"tgid": 300, "comm": "hog"}),
           Event(1_000_000_000, "task_state", 301, {"state": "D"}),
           Event(1_100_000_000, "oom_invoke", None, {"gfp": "GFP_KERNEL", "order": 0}),
           Event(1_200_000_000, "oom_kill", 300, {"comm": "hog", "anon_rss_kb": 1000})]
    evs += [Event(1_300_000_000 + n, "reaper_attempt", 300, {"n": n, "outcome": "lock_busy"}) for n in range(1, 11)]
    evs.append(Event(1_400_000_000, "reaper_done", 300, {"outcome": "unable", "comm": "hog"}))
    with TraceWriter(path, meta={"kernel": "5.10.0"}) as w:
        w.extend(evs)
    with open_trace(path) as t:
        ex = explain(t)
        assert any(f.text.startswith("The OOM reaper could not reap 300 (hog)") for f in ex.findings)
        assert [r.confidence for r in ex.failures] == ["guess"]
        for markdown in (False, True):
            lines = explanation.lines(t, ex, markdown)
            text = "\n".join(lines)
            assert "None" not in text and "a task the trace does not name invoked the OOM killer" in text
            guess = [line for line in lines if "confidence guess" in line]
            assert len(guess) == 1 and guess[0].count("(inferred)") == 1, text
            assert "(inferred). (inferred)" not in text
