"""An ftrace recording (tracefs ``trace`` / ``trace_pipe`` text, ``trace-cmd report`` text, ``perf script``
tracepoint output) into events.

``FtraceConverter`` has ``LogConverter``'s interface (``sniff``, ``feed``, ``finish``, ``counts``, ``clock``,
``kernel``) so ``convert`` drives either. Each line becomes at least one event: the model events its tracepoint
means, or a ``log`` event with its text (headers, unknown events, stack lines, prose pasted around a trace).

Order: the per-CPU buffers are merged by timestamp when the trace is read, but a local clock is not coherent
across CPUs, and pasted or concatenated traces are not merged at all. Lines pass through a bounded reorder buffer
(``REORDER_LINES``) and come out sorted by time, which the inferences and the writer both need; a line later than
that is placed at the time of the last event emitted and reported.

Time is the trace clock, which is not the printk clock (on the recorded machine it runs 23.6 ms ahead): a
recording converted alone keeps its own clock. ``printk:console`` lines are parsed with the kernel-log families
and stamped with the trace clock; a kill or reaper outcome that the oom:* tracepoints already showed is kept as
text only, so each fact is counted once.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Iterator

from .. import _native
from ..model import Event, Src
from .converter import LineReader
from .ftrace_line import FtraceLine, is_ftrace, looks_like_event, lost_marker, overwritten, parse_line, unquote
from .ftrace_tracepoints import Tracepoints
from .kernel_log import LogConverter
from .log_scan import MATCH_CHARS
from .logrun import feed_each, log_event
from .sources import Probe

#: lines held to sort per-CPU disorder; a line more out of order than this is clamped and reported
REORDER_LINES = 4096
#: console lines remembered, to keep a line's text when the event parsed from it is dropped as a duplicate
_CONSOLE_KEPT = 64
_UNSEEN = object()


class FtraceConverter(Tracepoints):
    """Converts the lines of one ftrace text (file id ``file_id`` in the trace) into events, in time order."""

    recording = True

    def __init__(self, file_id: int = 0) -> None:
        super().__init__()
        self.file_id = file_id
        self.counts: Counter[str] = Counter()
        self.kernel: str | None = None
        self.clock = "trace"
        self.warnings: list[str] = []
        self.lost_events = 0                   # counted by lost-event markers
        self.lost_markers: list[int] = []      # their lines
        self.late: list[int] = []              # lines beyond the reorder window, clamped in time
        self.reordered = 0                     # lines sorted back into place
        self._heap: list[tuple[int, int, str, FtraceLine | None]] = []
        self._read_ts = -1                     # latest time read; -1: none yet (lines before it wait, below)
        self._first_ts: int | None = None      # earliest time read (the first, or an earlier one sorted back)
        self._last_ts = 0                      # latest time emitted
        self._last_lineno = 0
        self._console = LogConverter(file_id)
        self._console_text: dict[int, str] = {}
        self._handlers["console"] = self._console_line  # printk:console: the kernel log's families, below

    # -- driving ---------------------------------------------------------------------------------------------

    def sniff(self, head: Iterable[str]) -> None:
        """Nothing to pick: a recording has one clock, the trace clock, whatever its name on the machine."""

    def convert(self, lines: Iterable[str], first_line: int = 1) -> list[Event]:
        """All events of ``lines`` (tests, small inputs)."""
        out: list[Event] = []
        for n, line in enumerate(lines, first_line):
            out.extend(self.feed(n, line))
        out.extend(self.finish())
        return out

    def feed_block(self, first: int, lines: list[str]) -> list[Event]:
        """The events of the lines numbered from ``first`` (``feed``, line by line)."""
        return feed_each(self.feed, first, lines)

    def feed(self, lineno: int, line: str) -> list[Event]:
        """Take one line; returns the events that leave the reorder buffer (in time order). Every line of a
        recording comes through here: kept to a few operations, the buffer full in the steady state (one push,
        one pop)."""
        text = line[:MATCH_CHARS]
        if text[:1] == ">":
            text = unquote(text)
        rec = parse_line(text)
        self._last_lineno = lineno
        if rec is not None:
            ts = rec.ts_ns
            if ts < self._read_ts:
                self.reordered += 1
                if ts < self._first_ts:  # type: ignore[operator]
                    self._first_ts = ts
            else:
                if self._first_ts is None:
                    self._first_ts = ts
                self._read_ts = ts
        else:
            # a line without a time stays where it is, after the latest event read; before the first one (the
            # tracer's header, trace-cmd's cpus=N) it is -1 and takes the earliest event's time in ``_line``
            ts = self._read_ts
        heap = self._heap
        if len(heap) < REORDER_LINES:
            heapq.heappush(heap, (ts, lineno, text, rec))
            return []
        return self._line(*heapq.heappushpop(heap, (ts, lineno, text, rec)))

    def finish(self) -> list[Event]:
        """Everything still buffered, then the warnings about what the recording lost."""
        out: list[Event] = []
        while self._heap:
            out.extend(self._line(*heapq.heappop(self._heap)))
        held = self._console.finish()
        for ev in held:
            ev.ts_ns = self._last_ts
        held = self._deduplicated(held)
        self._count(held)
        self._warn()
        return out + held

    def _warn(self) -> None:
        if self.lost_markers:
            n = f"{self.lost_events:,} events" if self.lost_events else "events"
            self.warnings.append(f"{len(self.lost_markers)} lost-event marker(s) (first at line "
                                 f"{self.lost_markers[0]}): {n} missing from the recording")
        if self._last_lineno in self.rejects:  # a recording killed mid-write, or a paste cut short
            self.rejects.remove(self._last_lineno)
            self.warnings.append(f"line {self._last_lineno}: the last line is cut short; kept as text")
        if self.rejects:
            self.warnings.append(f"{len(self.rejects)} line(s) start like trace events but do not parse "
                                 f"(first at line {self.rejects[0]}); kept as text")
        if self.late:
            self.warnings.append(f"{len(self.late)} line(s) out of time order by more than {REORDER_LINES} "
                                 f"lines (first at line {self.late[0]}); placed at the time of the line before")

    def _count(self, events: list[Event]) -> None:
        for ev in events:
            self.counts[ev.kind] += 1

    def _line(self, ts: int, lineno: int, text: str, rec: FtraceLine | None) -> list[Event]:
        if ts < 0:
            # a header or comment line read before any event: a source line, not a moment of the incident, so it
            # is placed at the recording's first event (the earliest read so far: every event read is still in
            # the buffer, a header line sorting first), not at 0, which would stretch the trace back to boot
            ts = self._first_ts if self._first_ts is not None else 0
        if ts < self._last_ts:
            if rec is not None:
                self.late.append(lineno)
            ts = self._last_ts
        self._last_ts = ts
        src = Src.unchecked((self.file_id, lineno))
        events: list[Event] | None = None
        if rec is None:
            events = self._text(ts, lineno, text, src)
        else:
            handler = self._by_event.get(rec.event, _UNSEEN)
            if handler is _UNSEEN:
                handler = self._handler(rec.event)
            if handler is not None:
                events = handler(ts, rec, src)
            if rec.comm not in ("<...>", "<idle>"):
                self._comm.setdefault(rec.pid, rec.comm)
            if rec.tgid is not None:
                self.victims.tgid_of[rec.pid] = rec.tgid
        if not events:
            events = [log_event(ts, text, src)]
        self._count(events)
        return events

    def _text(self, ts: int, lineno: int, text: str, src: Src) -> list[Event] | None:
        """A line that is no event: a lost-events marker, the header, or text kept as it is."""
        lost = lost_marker(text)
        if lost is not None:
            self.lost_markers.append(lineno)
            self.lost_events += lost.count or 0
            n = f"{lost.count:,} events" if lost.count is not None else "events"
            where = f"CPU {lost.cpu}" if lost.cpu is not None else "the recording"
            return [Event(ts, "note", None, {"text": f"{where}: {n} lost here"}, src=src)]
        gone = overwritten(text)
        if gone:
            self.warnings.append(f"line {lineno}: the ring buffer overwrote {gone:,} events before it was read")
        elif looks_like_event(text):
            self.rejects.append(lineno)
        return None

    # -- the kernel log inside the trace ---------------------------------------------------------------------

    def _console_line(self, ts: int, rec: FtraceLine, src: Src) -> list[Event] | None:
        self._console_text[src[1]] = rec.payload
        if len(self._console_text) > _CONSOLE_KEPT:
            del self._console_text[next(iter(self._console_text))]
        events = self._console.feed(src[1], rec.payload)
        for ev in events:
            ev.ts_ns = ts  # the console line's own stamp, if any, is the printk clock: the trace clock rules here
        return self._deduplicated(events) or [log_event(ts, rec.payload, src)]

    def _deduplicated(self, events: list[Event]) -> list[Event]:
        """The console's events, less the facts the tracepoints already gave (each kept as its line's text)."""
        out: list[Event] = []
        dropped_kills: set[int] = set()
        for ev in events:
            v = self.victims.by_pid.get(ev.pid) if ev.pid is not None else None
            flag = ev.fields.get("flag")
            drop = False
            if ev.kind == "oom_kill":
                if v is not None and not v.gone:
                    drop = True
                    dropped_kills.add(ev.pid)
                else:
                    self.victims.add(ev.pid, ev.fields.get("comm"), {})
            elif ev.kind == "flag_set" and flag == "TIF_MEMDIE":
                drop = ev.pid in dropped_kills
            elif v is not None and ev.kind == "reaper_attempt":
                drop = v.reaper_seen
            elif v is not None and ev.kind == "reaper_done":
                drop, v.done = v.done, True
            elif v is not None and ev.kind == "flag_set" and flag == "MMF_OOM_SKIP":
                drop, v.oom_skip = v.oom_skip, True
            if not drop:
                out.append(ev)
            elif ev.src is not None and not any(e.src == ev.src for e in out):
                out.append(log_event(ev.ts_ns, self._console_text.get(ev.src.line, ""), ev.src))
        return out


class FtraceText:
    """The registry's ftrace text (tracefs, ``trace-cmd report``, ``perf script``), known by its head: a tracer
    header or more event lines than printk-stamped ones. An explicit ``--format`` names a kernel log's prefix, so
    only ``auto`` looks for it."""

    name = "ftrace text"
    alone = False

    def sniff(self, probe: Probe, fmt: str) -> bool:
        return fmt == "auto" and is_ftrace(probe.head)

    def lines(self, probe: Probe) -> Iterator[list[str]]:
        return probe.text()

    def reader(self, file_id: int, fmt: str) -> LineReader:
        """The native core's ftrace reader (``FtraceConverter``'s events, line for line)."""
        return _native.FtraceReader(file_id)
