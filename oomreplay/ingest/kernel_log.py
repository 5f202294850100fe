"""One kernel log, line by line, into events: the clock, the chatter in bulk, and each kernel message handed to the
report state machine (``report_machine``), which ties a report's lines together. Every line yields at least one
event: the structured ones it means, or a ``log`` event with its text, so nothing is lost and the log view can show
every line.

Time: the printk stamp when the log has them (the kernel's clock, as the trace model wants), else the wall clock
of syslog / ``dmesg -T`` / journal (ns since the epoch). Lines without a stamp inherit the previous one, and a
stamp that goes backwards is clamped to the last time (the writer needs non-decreasing times); the stamp it
printed stays in the source text.

Most lines of a large log are chatter: ``feed_block`` takes a stretch of them, met while no report is open, as one
``LogRun`` with a few C-level operations (``log_scan``), the same events ``feed`` would make one line at a time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import accumulate

from .. import _native
from ..model import Event, Src
from .converter import LineReader
from . import prefix
from .log_scan import MATCH_CHARS, Scan, lines_to_feed, scan_block
from .logrun import LogRun, feed_each, log_event
from .prefix import Prefixed, split_prefix
from .report_machine import ReportMachine
from .sources import Probe

#: year-less wall times are placed in 2000 (a leap year, so Feb 29 exists); a year later is 366 days on,
#: exact for the first New Year a log crosses, a day off per further one
_YEAR_NS = 366 * 86_400 * 1_000_000_000
_HALF_YEAR_NS = _YEAR_NS // 2


class LogConverter(ReportMachine):
    """Converts the lines of one source (file id ``file_id`` in the trace) into events, in order."""

    recording = False

    def __init__(self, file_id: int = 0, fmt: str = "auto") -> None:
        super().__init__()
        self.file_id = file_id
        self.fmt = fmt
        self.counts: Counter[str] = Counter()  # events per kind, for --report
        self.clock: str | None = None          # "printk" or "wall", decided by ``sniff``
        self._last_ts = 0
        self._wall_year_ns = 0                 # added to year-less wall times; grows at each New Year
        self._last_wall: int | None = None

    # -- driving ---------------------------------------------------------------------------------------------

    def sniff(self, head: Iterable[str]) -> None:
        """Pick the clock from the first lines: printk stamps if any line has one, else wall time."""
        self.clock = "wall"
        for line in head:
            if split_prefix(line[:MATCH_CHARS], self.fmt).mono_ns is not None:
                self.clock = "printk"
                return

    def convert(self, lines: Iterable[str], first_line: int = 1) -> Iterator[Event]:
        """Events of ``lines`` (numbered from ``first_line``), then those still held at the end."""
        for n, line in enumerate(lines, first_line):
            yield from self.feed(n, line)
        yield from self.finish()

    def feed_block(self, first: int, lines: list[str]) -> list[Event | LogRun]:
        """The events of the lines numbered from ``first``: those ``feed`` makes line by line, except that each
        stretch of chatter met while no report is open comes as one ``LogRun``. Chatter, in a log with printk
        stamps: a line that starts with a dmesg stamp (six digits of fraction), or with a syslog prefix and then,
        if the kernel's, such a stamp; whose message starts as no family's may and holds no ``STOP_WORDS`` word;
        no longer than ``MATCH_CHARS``."""
        text = "\n".join(lines)
        dmesg, syslog = self.fmt in prefix.DMESG_FORMATS, self.fmt in prefix.SYSLOG_FORMATS
        if self.clock != "printk" or not (dmesg or syslog) or text.count("\n") != len(lines) - 1:
            return feed_each(self.feed, first, lines)  # (a line holding a newline would shift the lines found)
        # the dmesg regex (twice as fast) when most lines start as dmesg's: the others then go to ``feed``
        bracketed = text.startswith("[") + text.count("\n[")
        scan = scan_block(text, syslog and not (dmesg and 2 * bracketed > len(lines)))
        out: list[Event | LogRun] = []
        i = 0
        for stop in lines_to_feed(text, lines, scan, dmesg, syslog):
            while i < stop:
                if self._hold is None and self._meminfo is None and self._holder is None and self._columns is None:
                    out.append(self._run(first, scan, i, stop))
                    i = stop
                else:  # inside a report: its next line may continue it
                    out.extend(self.feed(first + i, lines[i]))
                    i += 1
            if i < len(lines):
                out.extend(self.feed(first + i, lines[i]))
                i += 1
        return out

    def _run(self, first: int, scan: Scan, a: int, b: int) -> LogRun:
        """Lines ``a`` to ``b - 1`` of the block (numbered from ``first``), chatter, as one run, clamped in time as
        ``_time`` would; a syslog line another program wrote keeps the last time and its whole message."""
        secs, fracs, texts = scan.secs[a:b], scan.fracs[a:b], scan.msgs[a:b]
        if scan.names is not None and any(scan.names[a:b]):
            assert scan.tags is not None and scan.pids is not None and scan.rests is not None
            other = [bool(name) and (tag != "kernel" or bool(pid))
                     for name, tag, pid in zip(scan.names[a:b], scan.tags[a:b], scan.pids[a:b])]
            stamps = [0 if o else int(sec) * 1_000_000_000 + int(us) * 1000 for o, sec, us in zip(other, secs, fracs)]
            texts = tuple(rest if o else msg for o, rest, msg in zip(other, scan.rests[a:b], texts))
        else:
            stamps = [sec * 1_000_000_000 + us * 1000 for sec, us in zip(map(int, secs), map(int, fracs))]
        ts = list(accumulate(stamps, max, initial=self._last_ts))
        del ts[0]
        self._last_ts = ts[-1]
        self.counts["log"] += len(ts)
        return LogRun(ts, list(texts), self.file_id, first + a)

    def feed(self, lineno: int, line: str) -> list[Event]:
        """The events of one line (possibly none yet, while an event is held, or several when one is released)."""
        p = split_prefix(line[:MATCH_CHARS], self.fmt)
        ts = self._time(p)
        src = Src.unchecked((self.file_id, lineno))
        out: list[Event] = []
        if not p.kernel:
            self._end_blocks()
            new = [log_event(ts, p.text, src)]
        else:
            msg = p.text.strip()
            if self._hold is not None:
                out, consumed = self._continue_hold(msg, ts, src)
                if consumed:
                    self._count(out)
                    return out
            new = self._parse(msg, p.text, ts, src)
        if self._hold is not None:
            # the events of an earlier line that this line completed (a Mem-Info summary) go before a hold it starts
            at = next((i for i, ev in enumerate(new) if ev is self._hold), None)
            if at is None:
                self._held.extend(new)
            else:
                out.extend(new[:at])
                self._held.extend(new[at + 1:])
        else:
            out.extend(new)
        self._count(out)
        return out

    def finish(self) -> list[Event]:
        """Release whatever is still held (the log ended inside a report)."""
        out = self._release() + self._end_meminfo()
        self._count(out)
        return out

    def _count(self, events: list[Event]) -> None:
        for ev in events:
            self.counts[ev.kind] += 1

    # -- time ------------------------------------------------------------------------------------------------

    def _time(self, p: Prefixed) -> int:
        if self.clock is None:
            self.clock = "printk" if p.mono_ns is not None else "wall"
        ts = p.mono_ns if self.clock == "printk" else p.wall_ns
        if ts is not None and p.yearless and self.clock == "wall":
            if self._last_wall is not None and ts + self._wall_year_ns < self._last_wall - _HALF_YEAR_NS:
                self._wall_year_ns += _YEAR_NS  # December -> January: syslog printed no year
            ts += self._wall_year_ns
            self._last_wall = ts
        if ts is None or ts < self._last_ts:
            return self._last_ts
        self._last_ts = ts
        return ts


class KernelLog:
    """The registry's kernel log (dmesg, syslog, journalctl, consoles, pasted excerpts): the format of last resort,
    it reads anything, every line it does not understand kept as a ``log`` event."""

    name = "kernel log"
    alone = False

    def sniff(self, probe: Probe, fmt: str) -> bool:
        return True

    def lines(self, probe: Probe) -> Iterator[list[str]]:
        return probe.text()

    def reader(self, file_id: int, fmt: str) -> LineReader:
        """The native core's log reader (the same events as ``LogConverter``, line for line; the corpus
        comparison in native/core/tests/compare_klog.py says so), at the speed of reading the log."""
        return _native.LogReader(file_id, fmt, LogRun)
