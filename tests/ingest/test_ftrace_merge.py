"""A kernel log and an ftrace recording of the same incident merge into one trace: the recording is moved onto
the printk clock by the offset found from the facts both saw (23.6 ms on the recorded machine, the trace clock
ahead), and each fact is counted once: every kill, every reaper outcome."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from oomreplay import open_trace
from oomreplay.ingest import convert

from ..conftest import CORPUS
from ..corpus import facts_table

RECORDED = CORPUS / "recorded"
PAIRS = sorted(d for d in RECORDED.iterdir()
               if (d / "dmesg.txt").is_file() and (d / "facts.md").is_file()
               and ((d / "ftrace.txt").is_file() or (d / "trace-cmd-report.txt").is_file())) \
    if RECORDED.is_dir() else []
#: how far the trace clock runs ahead of printk on the recorded machine (facts.md "Clock note")
AHEAD_NS = 23_606_000
TOLERANCE_NS = 3_000_000


def _recording(d: Path) -> Path:
    return d / "ftrace.txt" if (d / "ftrace.txt").is_file() else d / "trace-cmd-report.txt"




@pytest.fixture(scope="module", params=[d.name for d in PAIRS] or ["absent"])
def merged(request, tmp_path_factory):
    if not PAIRS:
        pytest.skip(f"no recording with dmesg.txt, a recording and facts.md under {RECORDED}")
    d = RECORDED / request.param
    out = tmp_path_factory.mktemp("merge") / f"{d.name}.oomtrace"
    report = convert([str(d / "dmesg.txt"), str(_recording(d))], out)
    trace = open_trace(out)
    yield d, report, trace, list(trace.events())
    trace.close()


def test_each_kill_once_in_order(merged):
    d, _, _, events = merged
    facts = (d / "facts.md").read_text()
    victims = [int(r[1]) for r in facts_table(facts, "## Kills in order") if r[0].isdigit()]
    assert victims
    assert [e.pid for e in events if e.kind == "oom_kill"] == victims
    memdie = Counter(e.pid for e in events if e.kind == "flag_set" and e.fields.get("flag") == "TIF_MEMDIE")
    assert all(memdie[pid] == 1 for pid in victims), memdie


def test_reaper_outcome_once(merged):
    d, _, _, events = merged
    facts = (d / "facts.md").read_text()
    done = [(e.pid, e.fields.get("outcome")) for e in events if e.kind == "reaper_done"]
    attempts = Counter(e.pid for e in events if e.kind == "reaper_attempt")
    for row in facts_table(facts, "## oom_reaper outcomes"):
        pid, outcome = int(row[0]), row[-1]
        finish = 0 if row[4] == "-" else 1
        skips = 0 if row[5] == "-" else int(row[5].split()[0])
        if outcome.startswith("reaped"):
            assert done.count((pid, "reaped")) == 1, done
        elif outcome.startswith("NOT reaped"):
            assert done.count((pid, "unable")) == 1, done
        else:
            assert all(p != pid for p, _ in done), done
        assert attempts[pid] == finish + skips, attempts  # the log's own attempt line is no extra attempt


def test_offset_found_and_reported(merged):
    d, report, trace, _ = merged
    offsets = trace.meta["clock_offsets"]
    (name, found), = offsets.items()
    assert name.endswith(_recording(d).name)
    assert abs(found["offset_ns"] + AHEAD_NS) <= TOLERANCE_NS, found  # the recording moves back in time
    assert found["anchors"] >= 1
    assert any(w.startswith("aligned ") and " -23." in w for w in report.warnings), report.warnings


def test_times_non_decreasing(merged):
    _, _, _, events = merged
    ts = [e.ts_ns for e in events]
    assert ts == sorted(ts)


def test_kill_lies_on_the_printk_clock(merged):
    """After alignment the recorded kill sits within a millisecond of the log's "Killed process" stamp."""
    d, _, _, events = merged
    facts = (d / "facts.md").read_text()
    row = next(r for r in facts_table(facts, "## Kills in order") if r[0].isdigit())
    kill = next(e for e in events if e.kind == "oom_kill")
    assert abs(kill.ts_ns - round(float(row[3]) * 1e9)) < 1_000_000


def test_dropped_facts_keep_their_log_lines(merged):
    """The log's "Killed process" line is still in the trace, as a log event."""
    d, _, _, events = merged
    facts = (d / "facts.md").read_text()
    victims = [r[1] for r in facts_table(facts, "## Kills in order") if r[0].isdigit()]
    texts = [e.fields["text"] for e in events if e.kind == "log"]
    for pid in victims:
        assert any(f"Killed process {pid} " in t for t in texts)


_KILLED = ("Memory cgroup out of memory: Killed process 100 (oomr-x) total-vm:1000kB, anon-rss:500kB, "
           "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0")
_FTRACE = """# tracer: nop
#
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
#              | |         |   |||||     |         |
          oomr-x-100     [000] ...1.   100.050000: mark_victim: pid=100 comm=oomr-x total-vm=1000kB anon-rss=500kB \
file-rss:0kB shmem-rss:0kB uid=0 pgtables=4kB oom_score_adj=0
          oomr-x-100     [000] d..1.   100.050010: console: {killed}
          oomr-x-100     [000] d..1.   100.050020: console: oomreplay test line that only the console shows
"""


def test_console_lines_are_the_exact_anchor(tmp_path):
    """A ``printk:console`` line whose text is a line of the log gives the offset (the same printk seen by both
    clocks), ahead of the kill's (mark_victim comes a little before the printk)."""
    log = tmp_path / "dmesg.txt"
    log.write_text(f"[  100.040000] {_KILLED}\n[  100.040100] oom_reaper: nothing to see\n")
    rec = tmp_path / "ftrace.txt"
    rec.write_text(_FTRACE.format(killed=_KILLED))
    out = tmp_path / "m.oomtrace"
    report = convert([str(log), str(rec)], out)
    with open_trace(out) as trace:
        found = trace.meta["clock_offsets"][str(rec)]
        events = list(trace.events())
    assert found["basis"] == "console lines"
    assert found["offset_ns"] == -10_010_000
    assert any("-10.0 ms from 1 shared" in w for w in report.warnings), report.warnings
    kills = [e for e in events if e.kind == "oom_kill"]
    assert [e.pid for e in kills] == [100]
    assert kills[0].ts_ns == 100_039_990_000  # the recorded kill, moved onto the printk clock
    assert kills[0].fields.get("constraint") == "CONSTRAINT_MEMCG"  # what only the log said, kept
    ts = [e.ts_ns for e in events]
    assert ts == sorted(ts)


def test_nothing_shared_is_not_aligned(tmp_path):
    log = tmp_path / "dmesg.txt"
    log.write_text("[  100.040000] an unrelated line\n")
    rec = tmp_path / "ftrace.txt"
    rec.write_text(_FTRACE.format(killed="another unrelated line"))
    out = tmp_path / "m.oomtrace"
    report = convert([str(log), str(rec)], out)
    with open_trace(out) as trace:
        assert trace.meta["clock_offsets"] == {}
        assert [e.pid for e in trace.events() if e.kind == "oom_kill"] == [100]
    assert any(w.startswith("could not align") for w in report.warnings), report.warnings


def test_too_many_events_to_align_is_a_clear_error(tmp_path, monkeypatch):
    from oomreplay.ingest import align
    from oomreplay.ingest import ConvertError
    monkeypatch.setattr(align, "MAX_EVENTS", 2)
    log = tmp_path / "dmesg.txt"
    log.write_text(f"[  100.040000] {_KILLED}\n")
    rec = tmp_path / "ftrace.txt"
    rec.write_text(_FTRACE.format(killed=_KILLED))
    with pytest.raises(ConvertError, match="too many to align in memory"):
        convert([str(log), str(rec)], tmp_path / "m.oomtrace")
