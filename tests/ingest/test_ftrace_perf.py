"""``perf script`` tracepoint output: its line layout (``comm [pid/]tid [cpu] ts: [period] system:event: payload``,
call-chain lines, lost records) read into the same ``FtraceLine`` as ftrace text, so the same mapping gives the
same events; real recordings (``tests/data``, the traces-raw sample 013) convert without rejects, and ``convert``
recognises the layout on its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from oomreplay import open_trace
from oomreplay.ingest import convert
from oomreplay.ingest.ftrace import FtraceConverter
from oomreplay.ingest.ftrace_line import is_ftrace, lost_marker, parse_line

from ..conftest import CORPUS

DATA = Path(__file__).parents[1] / "data"
REAL = sorted(DATA.glob("perf-script-*.txt"))
SAMPLE_013 = CORPUS / "traces-raw" / "013_perf-script_lock-contention-callchain-2023.txt"


@pytest.mark.parametrize("line, columns", [
    ("         python3 26878 [000] 12781.639293:          oom:mark_victim: pid=26878",
     ("python3", 26878, None, 0, 12781_639293000, "oom:mark_victim", "pid=26878")),
    ("python3 26877/26878 [001] 12781.639276754:   signal:signal_generate: sig=9 pid=26878",
     ("python3", 26878, 26877, 1, 12781_639276754, "signal:signal_generate", "sig=9 pid=26878")),
    ("sched-messaging    3409 [001]  7152.904029: lock:contention_begin: 0xc00000c80904ef00 (flags=SPIN)",
     ("sched-messaging", 3409, None, 1, 7152_904029000, "lock:contention_begin", "0xc00000c80904ef00 (flags=SPIN)")),
    ("     Web Content 77  12.000001:          1 sched:sched_process_exit: comm=x pid=77",  # no cpu, a period
     ("Web Content", 77, None, -1, 12_000001000, "sched:sched_process_exit", "comm=x pid=77")),
])
def test_perf_columns(line: str, columns: tuple):
    rec = parse_line(line)
    assert rec is not None
    assert (rec.comm, rec.pid, rec.tgid, rec.cpu, rec.ts_ns, rec.event, rec.payload) == columns


@pytest.mark.parametrize("line", [
    "\tffffffff81595c4a mark_oom_victim+0xba ([kernel.kallsyms])",
    "                       0 [unknown] ([unknown])",
    "[ perf record: Captured and wrote 0.153 MB /tmp/oom2.perf (3 samples) ]",
    "[  123.456789] Memory cgroup out of memory: Killed process 5 (a) total-vm:1kB, anon-rss:1kB",
])
def test_call_chains_and_logs_are_not_events(line: str):
    assert parse_line(line) is None


def test_the_same_event_in_both_layouts_maps_the_same():
    payload = ("pid=42 comm=grow total-vm=10kB anon-rss=8kB file-rss:1kB shmem-rss:0kB uid=0 pgtables=4kB "
               "oom_score_adj=300")
    ftrace = f"            grow-42      [000] .....  2.000000: mark_victim: {payload}"
    perf = f"            grow    42 [000]     2.000000:          oom:mark_victim: {payload}"
    a, b = FtraceConverter().convert([ftrace]), FtraceConverter().convert([perf])
    assert [(e.ts_ns, e.kind, e.pid, e.fields) for e in a] == [(e.ts_ns, e.kind, e.pid, e.fields) for e in b]
    assert [e.kind for e in a] == ["oom_kill", "flag_set"] and a[0].get("oom_score_adj") == 300


@pytest.mark.parametrize("path", REAL, ids=[p.stem for p in REAL])
def test_real_perf_recordings_convert(path: Path, tmp_path: Path):
    out = tmp_path / "t.oomtrace"
    report = convert([str(path)], out)
    assert report.sources[0].clock == "trace" and report.warnings == []
    lines = len(path.read_text().splitlines())
    with open_trace(out) as trace:
        kills = list(trace.events(kind="oom_kill"))
        assert [(e.pid, e.get("comm"), e.get("anon_rss_kb"), e.get("oom_score_adj")) for e in kills] == \
            [(26878, "python3", 65152, 0)]
        assert [e.pid for e in trace.events(kind="task_exit")] == [26878]
        assert [e.get("flag") for e in trace.events(kind="flag_set", pid=26878)] == ["TIF_MEMDIE", "MMF_OOM_SKIP"]
        assert [e.get("flag") for e in trace.events(kind="flag_clear", pid=26878)] == ["TIF_MEMDIE"]
        notes = [e.get("text") for e in trace.events(kind="note")]
        assert notes and "SIGKILL to 26878" in notes[0]
        covered = {ev.src.line for ev in trace.events(0, len(trace)) if ev.src is not None}
        assert covered == set(range(1, lines + 1))  # call chains and blank lines kept as log events


@pytest.mark.skipif(not SAMPLE_013.is_file(), reason=f"the traces-raw sample is not at {SAMPLE_013}")
def test_traces_raw_perf_sample_parses_without_rejects():
    lines = SAMPLE_013.read_text().splitlines()
    assert is_ftrace(lines)
    conv = FtraceConverter()
    events = conv.convert(lines)
    assert conv.rejects == [] and conv.warnings == []
    contended = [(e.pid, e.get("lock"), e.get("mode")) for e in events if e.kind == "lock_contended"]
    assert contended == [(3409, "lock@0xc00000c80904ef00", "w"), (3408, "lock@0xc00000c80904ef00", "w")]


def test_perf_lost_records_are_noted_and_reported():
    lines = ["            perf  1234 [001]  1.000000: sched:sched_process_exit: comm=a pid=7 prio=120",
             "            perf  1234 [001]  1.100000: PERF_RECORD_LOST lost 17",
             "Processed 2000 events and lost 3 chunks!",
             "            perf  1234 [001]  1.200000: sched:sched_process_exit: comm=b pid=8 prio=120"]
    assert lost_marker(lines[1]) == (1, 17) and lost_marker(lines[2]) == (None, None)
    conv = FtraceConverter()
    events = conv.convert(lines)
    assert [e.get("text") for e in events if e.kind == "note"] == ["CPU 1: 17 events lost here",
                                                                   "the recording: events lost here"]
    assert conv.lost_events == 17 and any("2 lost-event marker(s) (first at line 2)" in w for w in conv.warnings)


def test_a_perf_line_cut_short_is_reported():
    conv = FtraceConverter()
    conv.convert(["            perf  1234 [001]  1.000000: sched:sched_process_exit: comm=a pid=7 prio=120",
                  "            perf  1234 [001]  1.1000"])
    assert conv.warnings == ["line 2: the last line is cut short; kept as text"]
