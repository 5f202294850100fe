"""The ftrace text line, as tracefs ``trace`` / ``trace_pipe`` and ``trace-cmd report`` print it (recording.md
§2.3, §4; kernel-formats.md §5.6-5.7): ``[buffer: ]comm-pid [(tgid)] [cpu] [flags] ts: event: payload``; and as
``perf script`` prints a tracepoint sample (recording.md §5): ``comm [pid/]tid [cpu] ts: [period] system:event:
payload``, followed by indented call-chain lines when recorded with ``-g``. Both layouts give the same
``FtraceLine``, so the payload mapping (``ftrace_payload``, ``ftrace``) is one piece of code for both.

Columns are not fixed: people trim the padding when they paste, comms hold blanks and ``-``, the flags column is
4 or 5 characters or absent, trace-cmd pads the event name and may put a buffer or file name in front. So the
line is matched by its anchors: the pid is the digits after the *last* ``-`` before the ``[cpu]`` column, the
timestamp is the number before ``": "``. Lines that are not events (the header, lost-event markers, stack
continuations, anything pasted around the trace) are told apart here and kept as text by the converter.
"""

from __future__ import annotations

import re
from typing import NamedTuple

#: the columns after the comm: searched, not matched from the start, so the comm's extent costs no backtracking;
#: the leftmost ``-pid`` followed by the cpu column is the one the grammar means (the comm's last ``-``)
_EVENT = re.compile(
    r"-(?P<pid>\d+)\s+"
    r"(?:\(\s*(?P<tgid>\d+|-+)\)\s+)?"               # options/record-tgid
    r"\[(?P<cpu>\d{1,4})\]\s+"
    r"(?:[.a-zA-Z0-9]{4,6}\s+)?"                     # irq-info flags: 4 chars (<=5.10), 5 (>=5.15), absent
    r"(?P<ts>\d+)(?:\.(?P<frac>\d{1,9}))?:\s+"       # sec.usec, sec.nsec (report -t) or a raw counter
    r"(?P<event>[A-Za-z_][\w:.-]*):\s*")
#: before the comm, trace-cmd puts the buffer name (-B) or the input file name
_BUFFER = re.compile(r"\s*(\S+):\s+")
#: perf script: comm and tid split by blanks (the comm may hold blanks: the tid is the first number followed by
#: the cpu or the time), ``pid/tid`` with ``-F pid,tid``, no flags, the period before the event on some
#: versions, the event always ``system:event`` (right-aligned)
_PERF = re.compile(
    r"\s(?:(?P<tgid>\d+)/)?(?P<pid>\d+)\s+"
    r"(?:\[(?P<cpu>\d{1,4})\]\s+)?"
    r"(?P<ts>\d+)(?:\.(?P<frac>\d{1,9}))?:\s+"
    r"(?:\d+\s+)?"
    r"(?P<event>[A-Za-z_][\w.-]*:[A-Za-z_][\w.-]*):\s*")
#: the start of an event line, to tell a line cut short (or mangled) from text that is not an event at all
_EVENT_START = re.compile(r"(?:\S+:\s+)?\s*.*?-\d+\s+(?:\(\s*(?:\d+|-+)\)\s+)?\[\d{1,4}\]")
_PERF_START = re.compile(r"\s*\S.*?\s+(?:\d+/)?\d+\s+(?:\[\d{1,4}\]\s+\d|\d+\.\d{6})")
_LOST = re.compile(r"(?:\S+:\s+)?CPU:\s*(?P<cpu>\d+) \[(?:LOST (?P<n>\d+) EVENTS|(?P<d>\d+)? ?EVENTS DROPPED)\]")
#: perf: a PERF_RECORD_LOST record (``--show-lost-events``), or perf record's closing warning
_PERF_LOST = re.compile(r"(?:.*?\[(?P<cpu>\d{1,4})\].*?)?PERF_RECORD_LOST\w* lost (?P<n>\d+)"
                        r"|Processed \d+ (?:events|samples) and lost (?P<chunks>\d+) chunks")
_ENTRIES = re.compile(r"#\s*entries-in-buffer/entries-written:\s*(\d+)/(\d+)")
_QUOTE = re.compile(r"(?:>[ \t]?)+")


class FtraceLine(NamedTuple):
    """One event line, split into its columns; ``ts_ns`` is the trace clock (a counter clock's raw value)."""

    comm: str
    pid: int
    tgid: int | None
    cpu: int
    ts_ns: int
    event: str
    payload: str
    buffer: str | None


_new = tuple.__new__
#: the multiplier that makes ``int(sec + frac)`` nanoseconds, by the length of ``frac``
_SCALE = [10 ** (9 - n) for n in range(10)]


class Lost(NamedTuple):
    """``CPU:N [LOST M EVENTS]`` (tracefs), ``CPU:N [M EVENTS DROPPED]`` (trace-cmd), ``PERF_RECORD_LOST lost M``
    or ``lost M chunks`` (perf); ``count`` None: unknown (perf's chunks are not events), ``cpu`` None: unknown."""

    cpu: int | None
    count: int | None


def unquote(line: str) -> str:
    """A line pasted into a mail keeps its ``> `` quoting; the trace under it is the same."""
    return _QUOTE.sub("", line, count=1) if line.startswith(">") else line


def parse_line(line: str) -> FtraceLine | None:
    """The columns of an event line (ftrace or perf script layout), or None when ``line`` is not one.

    The hot path of a conversion (every line of a recording comes through here): one regex search for the columns
    after the comm, the comm and buffer cut out of what precedes it."""
    m = _EVENT.search(line)
    buffer = None
    if m is not None:
        head = line[:m.start()]
        if ":" in head:
            b = _BUFFER.match(head)
            if b is not None:
                buffer, head = b.group(1), head[b.end():]
    else:
        m = _PERF.search(line)
        if m is None:
            return None
        head = line[:m.start()]
        if not head or head.isspace():
            return None
    pid, tgid, cpu, sec, frac, event = m.group("pid", "tgid", "cpu", "ts", "frac", "event")
    # tuple.__new__: the NamedTuple's own __new__ is a Python function, a third of this function's time
    return _new(FtraceLine, (head.strip(), int(pid), int(tgid) if tgid and tgid[0] != "-" else None,
                             int(cpu) if cpu else -1, int(sec + frac) * _SCALE[len(frac)] if frac else int(sec),
                             event, line[m.end():].rstrip(), buffer))


def looks_like_event(line: str) -> bool:
    """The line starts like an event line (task, pid, cpu): if it does not parse, it was cut or mangled."""
    return _EVENT_START.match(line) is not None or _PERF_START.match(line) is not None


def lost_marker(line: str) -> Lost | None:
    """A lost-events marker, printed before the first event after the gap."""
    m = _LOST.match(line.strip())
    if m is not None:
        n = m.group("n") or m.group("d")
        return Lost(int(m.group("cpu")), int(n) if n else None)
    m = _PERF_LOST.search(line) if "lost" in line else None
    if m is None:
        return None
    return Lost(int(m.group("cpu")) if m.group("cpu") else None, int(m.group("n")) if m.group("n") else None)


def overwritten(line: str) -> int | None:
    """From the ``trace`` header ``entries-in-buffer/entries-written: A/B``: B - A events were overwritten."""
    m = _ENTRIES.match(line)
    return int(m.group(2)) - int(m.group(1)) if m else None


def is_ftrace(head: list[str]) -> bool:
    """Whether the head of a file is an ftrace recording rather than a kernel log: a tracefs or trace-cmd header,
    or more event lines than printk-stamped ones (a trace pasted with a few log lines around it)."""
    events = stamped = 0
    for line in head:
        s = unquote(line)
        if s.startswith("# tracer:") or (s.startswith("cpus=") and s[5:].strip().isdigit()):
            return True
        if parse_line(s) is not None:
            events += 1
        elif s.lstrip().startswith("[") or s.startswith("<"):
            stamped += 1
    return events > 0 and events >= stamped
