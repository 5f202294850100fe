"""The ftrace text line, as tracefs ``trace`` / ``trace_pipe`` and ``trace-cmd report`` print it (recording.md
§2.3, §4; kernel-formats.md §5.6-5.7): ``[buffer: ]comm-pid [(tgid)] [cpu] [flags] ts: event: payload``.

Columns are not fixed: people trim the padding when they paste, comms hold blanks and ``-``, the flags column is
4 or 5 characters or absent, trace-cmd pads the event name and may put a buffer or file name in front. So the
line is matched by its anchors: the pid is the digits after the *last* ``-`` before the ``[cpu]`` column, the
timestamp is the number before ``": "``. Lines that are not events (the header, lost-event markers, stack
continuations, anything pasted around the trace) are told apart here and kept as text by the converter.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_EVENT = re.compile(
    r"(?:(?P<buffer>\S+):\s+)?"                      # trace-cmd: buffer name (-B) or input file name
    r"\s*(?P<comm>.*?)-(?P<pid>\d+)\s+"
    r"(?:\(\s*(?P<tgid>\d+|-+)\)\s+)?"               # options/record-tgid
    r"\[(?P<cpu>\d{1,4})\]\s+"
    r"(?:(?P<flags>[.a-zA-Z0-9]{4,6})\s+)?"          # irq-info: 4 chars (<=5.10), 5 (>=5.15), absent
    r"(?P<ts>\d+)(?:\.(?P<frac>\d{1,9}))?:\s+"       # sec.usec, sec.nsec (report -t) or a raw counter
    r"(?P<event>[A-Za-z_][\w:.-]*):\s*(?P<payload>.*)")
#: the start of an event line, to tell a line cut short (or mangled) from text that is not an event at all
_EVENT_START = re.compile(r"(?:\S+:\s+)?\s*.*?-\d+\s+(?:\(\s*(?:\d+|-+)\)\s+)?\[\d{1,4}\]")
_LOST = re.compile(r"(?:\S+:\s+)?CPU:\s*(?P<cpu>\d+) \[(?:LOST (?P<n>\d+) EVENTS|(?P<d>\d+)? ?EVENTS DROPPED)\]")
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


class Lost(NamedTuple):
    """``CPU:N [LOST M EVENTS]`` (tracefs) or ``CPU:N [M EVENTS DROPPED]`` (trace-cmd); ``count`` None: unknown."""

    cpu: int
    count: int | None


def unquote(line: str) -> str:
    """A line pasted into a mail keeps its ``> `` quoting; the trace under it is the same."""
    return _QUOTE.sub("", line, count=1) if line.startswith(">") else line


def parse_line(line: str) -> FtraceLine | None:
    """The columns of an event line, or None when ``line`` is not one."""
    m = _EVENT.match(line)
    if m is None:
        return None
    frac = m.group("frac")
    ts = int(m.group("ts")) * 1_000_000_000 + int(frac.ljust(9, "0")) if frac else int(m.group("ts"))
    tgid = m.group("tgid")
    return FtraceLine(m.group("comm").strip(), int(m.group("pid")),
                      int(tgid) if tgid and tgid[0] != "-" else None, int(m.group("cpu")), ts, m.group("event"),
                      m.group("payload").rstrip(), m.group("buffer"))


def looks_like_event(line: str) -> bool:
    """The line starts like an event line (task, pid, cpu): if it does not parse, it was cut or mangled."""
    return _EVENT_START.match(line) is not None


def lost_marker(line: str) -> Lost | None:
    """A lost-events marker, printed before the first event after the gap."""
    m = _LOST.match(line.strip())
    if m is None:
        return None
    n = m.group("n") or m.group("d")
    return Lost(int(m.group("cpu")), int(n) if n else None)


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
