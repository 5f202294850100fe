"""The shortcuts of the native log reader must never change what a log converts to: the keyword prefilter in
front of the message families (every real log read with it and without it), and the bulk path that takes a
stretch of chatter as one run (every real log, and tricky lines, read in blocks of many sizes against ``feed``
line by line)."""

from __future__ import annotations

import importlib
from itertools import accumulate
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oomreplay import open_trace
from oomreplay.ingest import LogReader, convert
from oomreplay.ingest.logrun import LogRun
from oomreplay.ingest.sources import SNIFF_LINES

convert_module = importlib.import_module("oomreplay.ingest.convert")

from ..conftest import CORPUS
from .readers import as_bytes

INPUTS = (sorted((CORPUS / "logs").glob("*.log")) + sorted((CORPUS / "recorded").glob("*/dmesg.txt"))
          if CORPUS.is_dir() else [])


def _events(path: Path) -> list[dict]:
    with open_trace(path) as t:
        return [e.to_dict() for e in t.events()]


def _report(reader: LogReader) -> tuple:
    return reader.counts, reader.unparsed, reader.unparsed_count, reader.kernel, reader.clock


def _line_by_line(lines: list[str], fmt: str = "auto", prefilter: bool = True) -> tuple:
    reader = LogReader(3, fmt, None, prefilter)
    reader.sniff(lines[:SNIFF_LINES])
    events = [ev for n, line in enumerate(lines, 1) for ev in reader.feed(n, line)] + reader.end()
    return (events, *_report(reader))


def _in_blocks(lines: list[str], cuts: list[int], fmt: str = "auto") -> tuple:
    """``read`` over the bytes of ``lines`` cut at ``cuts`` (as a file's reads would be), runs made events."""
    reader = LogReader(3, fmt, LogRun)
    reader.sniff(lines[:SNIFF_LINES])
    events: list = []
    runs = 0
    bounds = [0, *sorted(c for c in cuts if 0 < c < len(lines)), len(lines)]
    for a, b in zip(bounds, bounds[1:]):
        for item in reader.read(as_bytes(lines[a:b])) if a < b else ():
            if isinstance(item, LogRun):
                runs += 1
                events += item.events()
            else:
                events.append(item)
    events += reader.end()
    return (events, *_report(reader)), runs


@pytest.mark.skipif(not INPUTS, reason=f"the shared corpus is not at {CORPUS}")
@pytest.mark.parametrize("log", INPUTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_prefilter_changes_nothing(log: Path):
    lines = log.read_text(errors="replace").splitlines()
    assert _line_by_line(lines) == _line_by_line(lines, prefilter=False)


CHATTER = ["usb 1-1: new high-speed USB device number 3 using xhci_hcd", "EXT4-fs (sda1): mounted filesystem",
           "systemd[1]: Started Session 4 of user root.", "", "   indented chatter", "a\rb\x00c\x1bd"]


def _interleaved(lines: list[str]) -> list[str]:
    """``lines`` with two stamped chatter lines after each, the stamps those of the line before (or none)."""
    out = []
    for i, line in enumerate(lines):
        out.append(line)
        stamp = line[:line.index("]") + 1] if line.startswith("[") and "]" in line else "[    1.000000]"
        out += [f"{stamp} {CHATTER[i % len(CHATTER)]}", f"{stamp} {CHATTER[(i + 1) % len(CHATTER)]}"]
    return out


def _as_syslog(lines: list[str]) -> list[str]:
    """``lines`` as rsyslog writes the kernel's (``kern.log``), with a daemon's line after each."""
    out = []
    for i, line in enumerate(lines):
        out += [f"Nov 27 10:{i // 60 % 60:02d}:{i % 60:02d} host kernel: {line}",
                f"Nov 27 10:{i // 60 % 60:02d}:{i % 60:02d} host systemd[1]: {CHATTER[i % len(CHATTER)]}"]
    return out


@pytest.mark.skipif(not INPUTS, reason=f"the shared corpus is not at {CORPUS}")
@pytest.mark.parametrize("log", INPUTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_chatter_in_bulk_changes_nothing(log: Path):
    """Every real log, as it is, with chatter between its lines and as a syslog file, cut into blocks of many
    sizes: the bulk path gives the events (times, fields, lines), counts and not-understood lines that ``feed``
    gives line by line."""
    lines = log.read_text(errors="replace").splitlines()
    for variant in (lines, _interleaved(lines), _as_syslog(_interleaved(lines))):
        expected = _line_by_line(variant)
        for size in (1, 7, 64, 100_000):
            got, runs = _in_blocks(variant, list(range(size, len(variant), size)))
            assert got == expected, size
            if size > 1 and variant is not lines and expected[-1] == "printk":
                assert runs, "no chatter went in bulk"


#: Lines that test each reason the bulk path must leave a line to ``feed``: no stamp or another prefix, a stamp
#: of other than six digits, a stamp going back, a family's start or mark, a report word, a journal host, a line
#: longer than ``MATCH_CHARS``, the parts of a report that continue over chatter.
TRICKY = [
    "[    5.000001] chatter one", "[    5.000002] [T12] chatter with a caller id", "[    4.000000] back in time",
    "[    5.1234567] seven digits", "[    6.000000]   \u2003 padded with an em space", "no stamp at all",
    "<6>[    6.5] level", "> [    6.600000] quoted", "  12: [    6.700000] numbered",
    "Nov 27 10:00:00 host kernel: [    6.800000] syslog", "[    6.900000] host kernel: journal host",
    "[    7.000000] [drm] chatter starting as a table row would", "[    7.100000] room for oom in a word",
    "[    7.200000] x" + "y" * 5000, "[    7.300000] " + "z" * 4090 + " oom",
    "[    8.000000] a.out invoked oom-killer: gfp_mask=0x6200ca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0",
    "[    8.000001] CPU: 1 PID: 4242 Comm: a.out Not tainted 6.1.0 #1",
    "[    8.000002] Call Trace:", "[    8.000003]  dump_stack+0x64/0x88",
    "[    8.000004] Mem-Info:", "[    8.000005] active_anon:100 inactive_anon:2 isolated_anon:0",
    "[    8.000006] [ pid ]   uid  tgid total_vm      rss nr_ptes swapents oom_score_adj name",
    "[    8.000007] [ 4242]     0  4242   100000    90000     200        0             0 a.out",
    "[    8.000008] 1 lock held by khugepaged/40:",
    "[    8.000009]  #0: ffff8880 (&mm->mmap_lock){++++}, at: x+0x1/0x2",
    "[    8.000010] Out of memory: Killed process 4242 (a.out) total-vm:400000kB, anon-rss:360000kB",
    "[    8.000011] oom_reaper: unable to reap pid:4242 (a.out)",
    "[    9.000000] Node 0 Normal free:1000kB min:800kB low:1000kB high:1200kB",
    "Nov 27 10:00:01 host systemd[1]: Started session 4.", "Nov 27 10:00:01 host dockerd[123]: oom in a daemon",
    "Nov 27 10:00:06.123456 host sshd: a daemon with no pid", "Nov 27 10:00:02 host kernel: a kernel line, no stamp",
    "Nov 27 10:00:03 host kernel: [    9.100000] [drm] starts as a table row would",
    "Xyz 27 10:00:03 host kernel: [    9.200000] no month", "Sept 27 10:00:03 host kernel: [    9.300000] sept",
    "nov 27 10:00:03 host kernel[12]: [    9.400000] the kernel with a pid",
    "Nov 27 10:00:04 host kernel: [    9.500000] host2 kernel: a journal's host inside",
    "Mär  3 10:00:05 host kernel: [    9.600000] März", "Nov 27 10:00:05 host kernel: [    8.500000] back in time",
    "Nov 27 10:00:05 host kernel: [    9.700000] a.out invoked oom-killer: gfp_mask=0x0, order=0",
]


@pytest.mark.parametrize("line", TRICKY)
def test_each_tricky_line_in_bulk_changes_nothing(line: str):
    lines = ["[    0.000000] Linux version 6.1.0", "[    1.000000] chatter", line, "[    9.500000] chatter after"]
    for fmt in ("auto", "dmesg", "kmsg", "syslog", "journal"):
        assert _in_blocks(lines, [], fmt)[0] == _line_by_line(lines, fmt), fmt
        syslog = ["Nov 27 10:00:00 host kernel: [    0.000000] Linux", "Nov 27 10:00:00 host x[1]: chatter", line,
                  "Nov 27 10:00:00 host kernel: [    9.900000] chatter after"]
        assert _in_blocks(syslog, [], fmt)[0] == _line_by_line(syslog, fmt), fmt


@settings(max_examples=150, deadline=None)
@given(picks=st.lists(st.sampled_from(TRICKY + CHATTER), max_size=80), cuts=st.lists(st.integers(0, 80), max_size=6),
       fmt=st.sampled_from(["auto", "dmesg", "kmsg", "syslog", "journal"]))
def test_tricky_lines_in_bulk_change_nothing(picks: list[str], cuts: list[int], fmt: str):
    lines = ["[    0.000000] Linux version 6.1.0", *picks]
    got, _ = _in_blocks(lines, cuts, fmt)
    assert got == _line_by_line(lines, fmt)


def test_stretches_of_chatter_go_in_bulk_and_times_are_clamped():
    lines = [f"[    {s}] chatter {i}" for i, s in enumerate(["1.000000", "3.000000", "2.000000", "4.000000"])]
    reader = LogReader(0, "auto", LogRun)
    reader.sniff(lines)
    (run,) = reader.read(as_bytes(lines))
    assert isinstance(run, LogRun)
    assert run.ts == [10**9, 3 * 10**9, 3 * 10**9, 4 * 10**9]  # the line stamped 2 s keeps the last time
    assert run.texts == [f"chatter {i}" for i in range(4)] and run.first_line == 1


def _expanded(items) -> list:
    return [ev for item in items for ev in (item.events() if isinstance(item, LogRun) else [item])]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.tuples(st.booleans(), st.lists(st.integers(0, 6), min_size=1, max_size=5)),
                         max_size=6), min_size=2, max_size=3))
def test_runs_merged_by_time_as_their_events_would_be(sources: list):
    """Several sources' runs and events in time order, ties to the earlier source: the order ``heapq.merge`` gives
    their events one by one."""
    import heapq

    from oomreplay.model import Event, Src

    streams = []
    for file_id, items in enumerate(sources):
        out, t, line = [], 0, 1
        for as_run, steps in items:
            times = list(accumulate(steps, initial=t))[1:]
            t = times[-1]
            if as_run:
                out.append(LogRun(times, [f"{file_id}:{line + i}" for i in range(len(times))], file_id, line))
            else:
                out += [Event(ts, "note", None, {"text": f"{file_id}:{line + i}"}, src=Src(file_id, line + i))
                        for i, ts in enumerate(times)]
            line += len(times)
        streams.append(out)
    expected = list(heapq.merge(*map(_expanded, streams), key=lambda ev: ev.ts_ns))
    merged = list(convert_module._merge([iter(s) for s in streams]))
    assert _expanded(merged) == expected


def test_runs_of_logs_one_after_the_other_stay_whole():
    """Rotated logs: the second starts after the first ends, so no run is cut."""
    first = [LogRun([1, 2, 3], ["a", "b", "c"], 0, 1), LogRun([3, 4], ["d", "e"], 0, 5)]
    second = [LogRun([4, 9], ["f", "g"], 1, 1)]
    assert list(convert_module._merge([iter(first), iter(second)])) == first + second


@pytest.mark.skipif(not INPUTS, reason=f"the shared corpus is not at {CORPUS}")
def test_logs_merged_in_runs_give_the_trace_of_their_lines(tmp_path: Path):
    """Two logs with chatter, interleaved in time, converted together (their runs cut where the other's lines
    fall): the events of both logs' lines one by one, merged by time."""
    import heapq

    logs, expected = [], []
    for i, log in enumerate(p for p in INPUTS if p.name == "dmesg.txt"):
        path = tmp_path / f"{i}.log"
        lines = _interleaved(log.read_text(errors="replace").splitlines())
        path.write_text("\n".join(lines) + "\n")
        logs.append(str(path))
        reader = LogReader(i, "auto")
        reader.sniff(lines[:SNIFF_LINES])
        expected.append([ev for n, line in enumerate(lines, 1) for ev in reader.feed(n, line)] + reader.end())
    assert len(logs) >= 2
    convert(logs[:2], tmp_path / "runs.oomtrace")
    merged = [ev.to_dict() for ev in heapq.merge(*expected[:2], key=lambda ev: ev.ts_ns)]
    for seq, d in enumerate(merged):
        d["seq"] = seq
    assert _events(tmp_path / "runs.oomtrace") == merged


def test_a_block_is_read_as_most_of_its_lines_are_written():
    """A syslog block whose first line is a dmesg line still goes in bulk (and the other way round)."""
    syslog = [f"Nov 27 10:00:0{i} host kernel: [    {i}.000000] chatter {i}" for i in range(1, 9)]
    dmesg = [f"[    {i}.000000] chatter {i}" for i in range(1, 9)]
    for lines in (["[    0.500000] Linux version 6.1.0", *syslog], ["Nov 27 10:00:00 host kernel: [    0.500000] Linux",
                                                                   *dmesg]):
        got, runs = _in_blocks(lines, [])
        assert got == _line_by_line(lines)
        reader = LogReader(0, "auto", LogRun)
        reader.sniff(lines)
        items = reader.read(as_bytes(lines))
        assert sum(isinstance(item, LogRun) for item in items) == 1 and len(items) <= 2  # the odd line alone


@pytest.mark.skipif(not INPUTS, reason=f"the shared corpus is not at {CORPUS}")
@pytest.mark.parametrize("log", INPUTS[:12], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_counted_runs_are_the_runs_lengths(log: Path):
    """``count_runs`` (the fleet's extraction, which needs only the seqs of chatter) gives each run as its number of
    lines, in its place among the same events."""
    lines = _as_syslog(_interleaved(log.read_text(errors="replace").splitlines()))
    data = as_bytes(lines)

    def read(counted: bool) -> list:
        reader = LogReader(3, "auto", LogRun)
        if counted:
            reader.count_runs()
        reader.sniff(lines[:SNIFF_LINES])
        items = reader.read(data) + reader.end()
        return [(len(i.ts) if isinstance(i, LogRun) else i) if not counted else i for i in items]

    expected, got = read(False), read(True)
    assert any(isinstance(i, int) for i in expected), "no chatter went in bulk"
    assert got == expected
