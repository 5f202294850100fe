"""The converter's handling of damaged or unordered recordings: the traces-raw samples
parse without rejects (the line grammar is tested in native/core/tests/ftrace_lines.rs), lost-event markers and a cut last line are reported, per-CPU disorder is sorted, a kill
seen both as ``mark_victim`` and as a ``printk:console`` line is counted once, and ``convert`` picks the parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from oomreplay import open_trace
from oomreplay.ingest import convert

from ..conftest import CORPUS
from .readers import read_ftrace

RAW = CORPUS / "traces-raw"
SAMPLES = sorted(p for p in RAW.glob("*.txt") if "_tracefs_" in p.name or "_trace-cmd_" in p.name) \
    if RAW.is_dir() else []


def _line(comm: str, pid: int, cpu: int, ts: str, event: str, payload: str) -> str:
    return f"{comm:>16}-{pid:<7} [{cpu:03d}] .....  {ts}: {event}: {payload}"


@pytest.mark.skipif(not SAMPLES, reason=f"the traces-raw samples are not at {RAW}")
@pytest.mark.parametrize("sample", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_raw_samples_parse_without_rejects(sample: Path):
    lines = sample.read_text().splitlines()
    events, conv = read_ftrace(lines)
    assert conv.rejects == [] and conv.warnings == []
    assert {ev.src.line for ev in events} == set(range(1, len(lines) + 1))
    assert any(ev.ts_ns > 0 for ev in events), "no line was read as an event (with its time)"


def test_lost_events_are_noted_and_reported():
    events, conv = read_ftrace([_line("a", 1, 0, "1.000000", "sched_process_exit", "comm=a pid=1 prio=120"),
                           "CPU:1 [LOST 42 EVENTS]",
                           _line("b", 2, 1, "1.500000", "sched_process_exit", "comm=b pid=2 prio=120")])
    notes = [e for e in events if e.kind == "note"]
    assert len(notes) == 1 and "42 events" in notes[0].get("text") and notes[0].src.line == 2
    assert conv.lost_events == 42
    assert any("lost-event marker" in w and "line 2" in w for w in conv.warnings)


def test_truncated_last_line_is_kept_and_reported():
    lines = [_line("a", 1, 0, "1.000000", "sched_process_exit", "comm=a pid=1 prio=120"),
             "           a-1       [000] ..."]
    events, conv = read_ftrace(lines)
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
    events, conv = read_ftrace([
        _line("grow", 42, 0, "2.000000", "mark_victim", "pid=42 comm=grow total-vm=10kB anon-rss=8kB "
              "file-rss:1kB shmem-rss:0kB uid=0 pgtables=4kB oom_score_adj=0"),
        _line("grow", 42, 0, "2.000100", "console", "Memory cgroup out of memory: Killed process 42 (grow) "
              "total-vm:10kB, anon-rss:8kB, file-rss:1kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0"),
    ])
    assert [e.pid for e in events if e.kind == "oom_kill"] == [42]
    assert [e.get("flag") for e in events if e.kind == "flag_set"] == ["TIF_MEMDIE"]
    assert [e.src.line for e in events if e.kind == "log"] == [2]


def test_reaper_skips_after_the_mm_is_gone_are_not_lock_contention():
    events, conv = read_ftrace([
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
    """An event is mapped by its name as printed (``oom:mark_victim``, ``mark_victim``); a file of endless
    made-up names keeps them as text."""
    lines = [f"a.out-42 [001] ..... {100 + i}.000000: sys{i}:made_up_{i}: x=1" for i in range(1500)]
    lines += ["a.out-42 [001] ..... 2000.000000: oom:mark_victim: pid=42",
              "a.out-42 [001] ..... 2001.000000: mark_victim: pid=43"]
    events, conv = read_ftrace(lines)
    assert [ev.kind for ev in events].count("log") == 1500
    assert [ev.pid for ev in events if ev.kind == "oom_kill"] == [42, 43]


@pytest.mark.parametrize("header", [
    ["# tracer: nop", "#", "# entries-in-buffer/entries-written: 3/3   #P:2", "#",
     "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION", "#              | |         |   |||||     |         |"],
    ["cpus=2"],  # trace-cmd report
])
def test_header_lines_take_the_first_events_time(tmp_path: Path, header: list[str]):
    """A tracer header is source text, not a moment of the incident: placed at 0 it made a 1 s recording taken
    1,350 s after boot report 1,350 s of duration. The earliest event's time rules, even one sorted back."""
    path = tmp_path / "trace.txt"
    path.write_text("\n".join(header + [
        _line("a", 10, 0, "1350.200000", "sched_process_exit", "comm=a pid=10 prio=120"),
        _line("b", 11, 1, "1350.100000", "sched_process_exit", "comm=b pid=11 prio=120"),
        _line("c", 12, 0, "1351.300000", "sched_process_exit", "comm=c pid=12 prio=120"),
    ]) + "\n")
    convert([str(path)], tmp_path / "t.oomtrace")
    with open_trace(tmp_path / "t.oomtrace") as trace:
        assert (trace.first_ts, trace.last_ts) == (1_350_100_000_000, 1_351_300_000_000)
        evs = list(trace.events())
        assert [e.src.line for e in evs[:len(header)]] == list(range(1, len(header) + 1))
        assert all(e.kind == "log" and e.ts_ns == 1_350_100_000_000 for e in evs[:len(header)])
        assert [e.ts_ns for e in evs] == sorted(e.ts_ns for e in evs)


def test_a_recording_with_no_event_keeps_its_header_at_zero():
    events, conv = read_ftrace(["# tracer: nop", "#"])
    assert [(e.kind, e.ts_ns) for e in events] == [("log", 0), ("log", 0)]


def test_the_callers_meta_is_stored_over_what_the_inputs_say(tmp_path: Path):
    """``record`` knows the kernel it ran on (``uname -r``); a recording and the end of a kernel log seldom name
    it, and the trace said ``kernel unknown``."""
    path = tmp_path / "trace.txt"
    path.write_text("# tracer: nop\n" + _line("a", 5, 0, "1.000000", "mark_victim", "pid=5") + "\n")
    convert([str(path)], tmp_path / "plain.oomtrace")
    convert([str(path)], tmp_path / "t.oomtrace", meta={"kernel": "6.8.0-test"})
    with open_trace(tmp_path / "plain.oomtrace") as plain, open_trace(tmp_path / "t.oomtrace") as t:
        assert plain.meta.get("kernel") is None and t.meta["kernel"] == "6.8.0-test"
        assert t.meta["converter"] == plain.meta["converter"] and t.meta["clock"] == plain.meta["clock"]
