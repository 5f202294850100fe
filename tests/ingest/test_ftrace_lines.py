"""The ftrace line grammar and the converter's handling of damaged or unordered recordings: the traces-raw samples
parse without rejects, lost-event markers and a cut last line are reported, per-CPU disorder is sorted, a kill
seen both as ``mark_victim`` and as a ``printk:console`` line is counted once, and ``convert`` picks the parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from oomreplay import open_trace
from oomreplay.ingest import convert
from oomreplay.ingest.ftrace import FtraceConverter
from oomreplay.ingest.ftrace_line import parse_line

from ..conftest import CORPUS

RAW = CORPUS / "traces-raw"
SAMPLES = sorted(p for p in RAW.glob("*.txt") if "_tracefs_" in p.name or "_trace-cmd_" in p.name) \
    if RAW.is_dir() else []


def _line(comm: str, pid: int, cpu: int, ts: str, event: str, payload: str) -> str:
    return f"{comm:>16}-{pid:<7} [{cpu:03d}] .....  {ts}: {event}: {payload}"


@pytest.mark.skipif(not SAMPLES, reason=f"the traces-raw samples are not at {RAW}")
@pytest.mark.parametrize("sample", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_raw_samples_parse_without_rejects(sample: Path):
    lines = sample.read_text().splitlines()
    conv = FtraceConverter()
    events = conv.convert(lines)
    assert conv.rejects == [] and conv.warnings == []
    assert {ev.src.line for ev in events} == set(range(1, len(lines) + 1))
    assert sum(parse_line(line.lstrip("> ")) is not None for line in lines) > 0


@pytest.mark.parametrize("line, fields", [
    ("        allocate-502   [001] ....    91.836405: mark_victim: pid=502", ("allocate", 502, None, 1, "....")),
    ("stress-33431   [001] ..... 13223.617311: reclaim_retry_zone: node=0", ("stress", 33431, None, 1, ".....")),
    (" surfaceflinger-1155  ( 1155) [001] ...1 12839.528756: x: y", ("surfaceflinger", 1155, 1155, 1, "...1")),
    ("     Web Content-77 (-------) [002] d..2. 1.000001: x: y", ("Web Content", 77, None, 2, "d..2.")),
    ("buf-9:   oomr-dio-alloc-10921 [001]  1560.772700: mark_victim:    pid=1",
     ("oomr-dio-alloc", 10921, None, 1, None)),
])
def test_line_columns(line, fields):
    rec = parse_line(line)
    assert rec is not None
    assert (rec.comm, rec.pid, rec.tgid, rec.cpu) == fields[:4]


def test_lost_events_are_noted_and_reported():
    conv = FtraceConverter()
    events = conv.convert([_line("a", 1, 0, "1.000000", "sched_process_exit", "comm=a pid=1 prio=120"),
                           "CPU:1 [LOST 42 EVENTS]",
                           _line("b", 2, 1, "1.500000", "sched_process_exit", "comm=b pid=2 prio=120")])
    notes = [e for e in events if e.kind == "note"]
    assert len(notes) == 1 and "42 events" in notes[0].get("text") and notes[0].src.line == 2
    assert conv.lost_events == 42
    assert any("lost-event marker" in w and "line 2" in w for w in conv.warnings)


def test_truncated_last_line_is_kept_and_reported():
    lines = [_line("a", 1, 0, "1.000000", "sched_process_exit", "comm=a pid=1 prio=120"),
             "           a-1       [000] ..."]
    conv = FtraceConverter()
    events = conv.convert(lines)
    assert [e.kind for e in events] == ["task_exit", "log"]
    assert conv.rejects == [] and conv.warnings == ["line 2: the last line is cut short; kept as text"]


def test_per_cpu_disorder_is_sorted(tmp_path: Path):
    path = tmp_path / "trace.txt"
    path.write_text("\n".join([
        "# tracer: nop",
        _line("a", 10, 0, "5.000300", "sched_process_exit", "comm=a pid=10 prio=120"),
        _line("b", 11, 1, "5.000100", "sched_process_exit", "comm=b pid=11 prio=120"),
        _line("c", 12, 0, "5.000200", "sched_process_exit", "comm=c pid=12 prio=120"),
    ]) + "\n")
    report = convert([str(path)], tmp_path / "t.oomtrace")
    assert not [w for w in report.warnings if "out of time order" in w]
    with open_trace(tmp_path / "t.oomtrace") as trace:
        exits = list(trace.events(kind="task_exit"))
        assert [e.pid for e in exits] == [11, 12, 10]
        assert [e.ts_ns for e in exits] == sorted(e.ts_ns for e in exits)


def test_console_kill_is_counted_once():
    conv = FtraceConverter()
    events = conv.convert([
        _line("grow", 42, 0, "2.000000", "mark_victim", "pid=42 comm=grow total-vm=10kB anon-rss=8kB "
              "file-rss:1kB shmem-rss:0kB uid=0 pgtables=4kB oom_score_adj=0"),
        _line("grow", 42, 0, "2.000100", "console", "Memory cgroup out of memory: Killed process 42 (grow) "
              "total-vm:10kB, anon-rss:8kB, file-rss:1kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0"),
    ])
    assert [e.pid for e in events if e.kind == "oom_kill"] == [42]
    assert [e.get("flag") for e in events if e.kind == "flag_set"] == ["TIF_MEMDIE"]
    assert [e.src.line for e in events if e.kind == "log"] == [2]


def test_reaper_skips_after_the_mm_is_gone_are_not_lock_contention():
    conv = FtraceConverter()
    events = conv.convert([
        _line("alloc", 7, 0, "1.000000", "mark_victim", "pid=7"),
        _line("alloc", 7, 0, "1.000100", "sched_process_exit", "comm=alloc pid=7 prio=120 group_dead=true"),
        _line("oom_reaper", 33, 1, "3.000000", "skip_task_reaping", "pid=7"),
    ])
    assert [(e.get("n"), e.get("outcome")) for e in events if e.kind == "reaper_attempt"] == [(1, "skipped")]
    assert not [e for e in events if e.kind == "reaper_done"]


def test_convert_picks_the_parser(tmp_path: Path):
    trace = tmp_path / "ftrace.txt"
    trace.write_text(_line("a", 5, 0, "1.000000", "mark_victim", "pid=5") + "\n")
    log = tmp_path / "dmesg.txt"
    log.write_text("[    1.000000] Memory cgroup out of memory: Killed process 5 (a) total-vm:1kB\n")
    for path in (trace, log):
        report = convert([str(path)], tmp_path / "t.oomtrace")
        assert report.sources[0].clock == ("trace" if path is trace else "printk")
        with open_trace(tmp_path / "t.oomtrace") as t:
            assert [e.pid for e in t.events(kind="oom_kill")] == [5]


def test_event_names_are_mapped_with_or_without_their_system():
    """Handlers are remembered by the name as printed (``oom:mark_victim``, ``mark_victim``), up to a bound: a
    file of endless made-up names keeps them as text and does not grow the memory."""
    from oomreplay.ingest import ftrace_tracepoints

    lines = [f"a.out-42 [001] ..... {100 + i}.000000: sys{i}:made_up_{i}: x=1" for i in range(1500)]
    lines += ["a.out-42 [001] ..... 2000.000000: oom:mark_victim: pid=42",
              "a.out-42 [001] ..... 2001.000000: mark_victim: pid=43"]
    conv = FtraceConverter()
    events = conv.convert(lines)
    assert len(conv._by_event) == ftrace_tracepoints._EVENT_NAMES_KEPT
    assert [ev.kind for ev in events].count("log") == 1500
    assert [ev.pid for ev in events if ev.kind == "oom_kill"] == [42, 43]
