"""``perf script`` tracepoint output (its line layout, ``comm [pid/]tid [cpu] ts: [period] system:event: payload``,
call-chain lines and lost records, is tested in native/core/tests/ftrace_lines.rs): the same mapping as ftrace
text gives the same events; real recordings (``tests/data``, the traces-raw sample 013) convert without rejects, and ``convert``
recognises the layout on its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from oomreplay import open_trace
from oomreplay.ingest import convert
from oomreplay.ingest import FtraceReader

from ..conftest import CORPUS
from .readers import read_ftrace

DATA = Path(__file__).parents[1] / "data"
REAL = sorted(DATA.glob("perf-script-*.txt"))
SAMPLE_013 = CORPUS / "traces-raw" / "013_perf-script_lock-contention-callchain-2023.txt"


def test_the_same_event_in_both_layouts_maps_the_same():
    payload = ("pid=42 comm=grow total-vm=10kB anon-rss=8kB file-rss:1kB shmem-rss:0kB uid=0 pgtables=4kB "
               "oom_score_adj=300")
    ftrace = f"            grow-42      [000] .....  2.000000: mark_victim: {payload}"
    perf = f"            grow    42 [000]     2.000000:          oom:mark_victim: {payload}"
    a, b = read_ftrace([ftrace])[0], read_ftrace([perf])[0]
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
    assert FtraceReader.looks_like(lines)
    events, conv = read_ftrace(lines)
    assert conv.rejects == [] and conv.warnings == []
    contended = [(e.pid, e.get("lock"), e.get("mode")) for e in events if e.kind == "lock_contended"]
    assert contended == [(3409, "lock@0xc00000c80904ef00", "w"), (3408, "lock@0xc00000c80904ef00", "w")]


def test_perf_lost_records_are_noted_and_reported():
    lines = ["            perf  1234 [001]  1.000000: sched:sched_process_exit: comm=a pid=7 prio=120",
             "            perf  1234 [001]  1.100000: PERF_RECORD_LOST lost 17",
             "Processed 2000 events and lost 3 chunks!",
             "            perf  1234 [001]  1.200000: sched:sched_process_exit: comm=b pid=8 prio=120"]
    events, conv = read_ftrace(lines)
    assert [e.get("text") for e in events if e.kind == "note"] == ["CPU 1: 17 events lost here",
                                                                   "the recording: events lost here"]
    assert conv.lost_events == 17 and any("2 lost-event marker(s) (first at line 2)" in w for w in conv.warnings)


def test_a_perf_line_cut_short_is_reported():
    _, conv = read_ftrace(["            perf  1234 [001]  1.000000: sched:sched_process_exit: comm=a pid=7 prio=120",
                  "            perf  1234 [001]  1.1000"])
    assert conv.warnings == ["line 2: the last line is cut short; kept as text"]
