"""One kernel log, line by line, into events: the clock, the ties between lines, the inferences.

A report spreads one fact over several lines: the invoker's pid comes on the ``CPU:`` line after the header, a
killed child's parent on the ``Kill process`` line before it, a ≥5.0 memcg's path on the ``stats for`` line after
its usage, a 2.4 kill's comm sometimes on the next line (wrapped by a mail client). ``LogConverter`` keeps that
little state: at most one event *held* for the line that completes it (the events of the lines in between wait
behind it, so the output stays in line order), the open lockdep holder, the task table's columns, the chosen
victim, the ``oom-kill:`` summary, the last invocation (whose invoker an ending names) and the Mem-Info summary's
counters, until the line after its last. Every line yields at least one event: the structured ones it means, or a
``log`` event with its text, so nothing is lost and the log view can show every line.

Time: the printk stamp when the log has them (the kernel's clock, as the trace model wants), else the wall clock
of syslog / ``dmesg -T`` / journal (ns since the epoch). Lines without a stamp inherit the previous one, and a
stamp that goes backwards is clamped to the last time (the writer needs non-decreasing times); the stamp it
printed stays in the source text.

Most lines of a large log are chatter: ``feed_block`` takes a stretch of them, met while no report is open, as one
``LogRun`` with a few C-level operations, the same events ``feed`` would make one line at a time.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from itertools import accumulate
from typing import NamedTuple

from ..model import KINDS, Event, Src
from . import gfp, locks, memory, oom, tasks
from . import prefix
from .prefix import DMESG_STAMP, SYSLOG_PREFIX, Prefixed, month, split_prefix

#: Lines that may sit between an OOM header (or a warn_alloc line) and the ``CPU:`` line naming its task.
_BEFORE_CPU = ("COMPACTION is disabled", "cpuset=", "mems_allowed=")
#: Lines that may sit between a ≥5.0 memcg ``memory:`` line and its ``Memory cgroup stats for`` line.
_MEMCG_MATES = ("memory+swap:", "swap:", "kmem:", "Memory cgroup min protection")
#: A held event is released after this many lines at most, completed or not.
_HOLD_LINES = 16
#: Lines of a Call Trace (with its Hardware name, <TASK> and register lines) read into an invocation's stack.
_STACK_LINES = 96
#: Only this much of a line is matched against the families (the source keeps all of it): no regex runs on a
#: 10 MB line of junk, and no kernel message is anywhere near this long.
MATCH_CHARS = 4096
#: How far the head of a file is read to decide its clock (printk stamps, or wall time if none).
SNIFF_LINES = 2000
#: year-less wall times are placed in 2000 (a leap year, so Feb 29 exists); a year later is 366 days on,
#: exact for the first New Year a log crosses, a day off per further one
_YEAR_NS = 366 * 86_400 * 1_000_000_000
_HALF_YEAR_NS = _YEAR_NS // 2
#: What a message must start with or contain for any family to accept it: most lines of a log are other chatter,
#: and these two C-level tests turn them away before some twenty family guards would each look at them.
_FAMILY_STARTS = oom.STARTS + memory.STARTS + locks.STARTS + tasks.STARTS
_FAMILY_MARKS = oom.MARKS + memory.MARKS + locks.MARKS + tasks.MARKS
#: Words only an OOM report prints: a line holding one that no family understood is a variant to report. Every
#: one holds one of ``_REPORT_WORDS``, which most lines (chatter) are turned away by.
_REPORT_MARKS = ("invoked oom-killer", "Killed process", "Kill process", "oom_reaper:", "oom-kill:",
                 "Out of memory", "page allocation failure", "page allocation stalls")
_REPORT_WORDS = ("oom", "Kill", "Out of memory", "page allocation")
#: A lockdep ``#n:`` line, recognised by its shape when its parse fails (a task-table row: ``oom.TABLE_ROW``).
_LOCK_LINE = re.compile(r"#\d+:")
#: Not-understood lines kept for ``--report`` (all are counted).
UNPARSED_KEPT = 100
#: The Mem-Info summary counts pages; kB assume 4 KiB pages (the buddy lists that follow print the real size, but
#: only after the summary), so its fields are marked inferred.
_PAGE_KB = 4
_MEMINFO_FIELDS = frozenset(KINDS["meminfo"])
#: The bulk path (``feed_block``) reads a block's lines joined by newlines with one of two regexes: a dmesg line's
#: stamp (2 groups), the start of its message when a family may accept it or a journal's host follows the stamp
#: (1 group, else empty), the message (1); a syslog file's lines the same after ``SYSLOG_PREFIX`` (its groups: the
#: month's name, the tag, the pid) and the whole of what follows that prefix (1).
_START = r"([^\S\n]*(?:" + "|".join(map(re.escape, _FAMILY_STARTS)) + r")|\S+ kernel: )?"
_DMESG_LINES = re.compile("^" + DMESG_STAMP + _START + "(.*)$", re.M)
_SYSLOG_LINES = re.compile("^(?:" + SYSLOG_PREFIX + ")?(" + DMESG_STAMP + _START + "(.*))$", re.M)
_SYSLOG_GROUPS = re.compile(SYSLOG_PREFIX).groups
#: Words that send a line to ``feed``: every family mark and report word, less those holding another (a line with
#: "Killed process" holds "Kill").
_STOP_WORDS = sorted({w for w in (*_FAMILY_MARKS, *_REPORT_WORDS)
                      if not any(other != w and other in w for other in (*_FAMILY_MARKS, *_REPORT_WORDS))})


class _Scan(NamedTuple):
    """A block's lines as the bulk path reads them, by column. The syslog columns are None for a block read as
    dmesg; in a syslog block, ``names`` is each line's month name (empty: no syslog prefix), ``tags`` and ``pids``
    say whether the kernel wrote it, ``rests`` is what follows the prefix."""

    secs: tuple[str, ...]
    fracs: tuple[str, ...]
    starts: tuple[str, ...]
    msgs: tuple[str, ...]
    names: tuple[str, ...] | None = None
    tags: tuple[str, ...] | None = None
    pids: tuple[str, ...] | None = None
    rests: tuple[str, ...] | None = None


def _scan(text: str, syslog: bool) -> _Scan:
    if not syslog:
        return _Scan(*zip(*_DMESG_LINES.findall(text)))
    cols = tuple(zip(*_SYSLOG_LINES.findall(text)))
    n = _SYSLOG_GROUPS
    return _Scan(*cols[n + 1:n + 5], cols[0], cols[n - 2], cols[n - 1], cols[n])


def log_event(ts: int, text: str, src: Src) -> Event:
    """A ``log`` event: one per line that means nothing else (most lines)."""
    return Event.unchecked(ts, "log", None, {"text": text}, src)


class LogRun(NamedTuple):
    """``log`` events of consecutive source lines, in bulk (see ``TraceWriter.append_logs``)."""

    ts: list[int]
    texts: list[str]
    file_id: int
    first_line: int  # ``append_logs`` takes these four in this order

    def events(self) -> list[Event]:
        """The same events one by one, for where each must stand on its own (a merge by time)."""
        return [log_event(ts, text, Src(self.file_id, line))
                for line, ts, text in zip(range(self.first_line, self.first_line + len(self.ts)), self.ts, self.texts)]


def feed_each(feed: Callable[[int, str], list[Event]], first: int, lines: list[str]) -> list[Event]:
    """The events of ``feed`` over the lines numbered from ``first``, in one list."""
    out: list[Event] = []
    for n, line in enumerate(lines, first):
        events = feed(n, line)
        if events:  # most lines of a recording wait in its reorder buffer: skip the empty extend
            out.extend(events)
    return out


def _is_report(msg: str) -> bool:
    """Whether ``msg`` holds a word only an OOM report prints (plain loops: a generator costs more than the tests)."""
    for word in _REPORT_WORDS:
        if word in msg:
            for mark in _REPORT_MARKS:
                if mark in msg:
                    return True
            return False
    return False


def _may_be_family(msg: str) -> bool:
    """False when no family can accept ``msg`` (see ``oom.STARTS``)."""
    if msg.startswith(_FAMILY_STARTS):
        return True
    for mark in _FAMILY_MARKS:
        if mark in msg:
            return True
    return False


def _stops(text: str, lines: list[str], scan: _Scan, dmesg: bool, syslog: bool) -> list[int]:
    """The lines ``feed`` must see, in order, then ``len(lines)``: those with neither prefix the bulk path reads
    (``dmesg`` and ``syslog``: whether the format allows each), a kernel line without a dmesg stamp, a message that
    starts as a family's may, a line holding a ``_STOP_WORDS`` word, a line longer than ``MATCH_CHARS`` (which
    ``feed`` cuts). Each test is a C-level pass over the whole block, but a loop over a syslog block's prefixes."""
    stops: set[int] = set()
    if scan.names is None or not any(scan.names):
        if not dmesg:
            stops.update(range(len(lines)))
        elif "" in scan.secs:
            stops.update(i for i, sec in enumerate(scan.secs) if not sec)
    else:
        assert scan.tags is not None and scan.pids is not None
        known = {name for name in set(scan.names) if name and month(name)} if syslog else set()
        for i, (name, tag, pid, sec) in enumerate(zip(scan.names, scan.tags, scan.pids, scan.secs)):
            if name:
                if name not in known or (tag == "kernel" and not pid and not sec):
                    stops.add(i)  # no syslog line after all, or the kernel's without a stamp
            elif not (dmesg and sec):
                stops.add(i)
    if any(scan.starts):
        stops.update(i for i, start in enumerate(scan.starts) if start)
    lengths = list(map(len, lines))
    if max(lengths) > MATCH_CHARS:
        stops.update(i for i, n in enumerate(lengths) if n > MATCH_CHARS)
    ends = list(accumulate(map((1).__add__, lengths)))  # where each line's successor starts in ``text``
    for word in _STOP_WORDS:
        at = text.find(word)
        while at >= 0:
            line = bisect_right(ends, at)
            stops.add(line)
            at = text.find(word, ends[line])
    return [*sorted(stops), len(lines)]


class LogConverter:
    """Converts the lines of one source (file id ``file_id`` in the trace) into events, in order."""

    def __init__(self, file_id: int = 0, fmt: str = "auto") -> None:
        self.file_id = file_id
        self.fmt = fmt
        self.counts: Counter[str] = Counter()  # events per kind, for --report
        self.kernel: str | None = None         # the kernel release, from a CPU: line
        self.clock: str | None = None          # "printk" or "wall", decided by ``sniff``
        self._last_ts = 0
        self._wall_year_ns = 0                 # added to year-less wall times; grows at each New Year
        self._last_wall: int | None = None
        self._hold: Event | None = None
        self._hold_kind = ""
        self._held: list[Event] = []
        self._hold_left = 0
        self._holder: tuple[int, str] | None = None  # lockdep: (pid, comm) whose #n: lines follow
        self._columns: list[str] | None = None       # task table layout while rows follow
        self._chosen: dict | None = None             # "Kill process … sacrifice child" waiting for its kill
        self._summary: dict | None = None            # "oom-kill:…" waiting for its kill
        self._memcg_path: str | None = None          # ≤4.20 "Task in … limit of PATH"
        self._zone: tuple[int | None, str] | None = None
        self._invocation: Event | None = None        # the last oom_invoke: its pid is the invoker, once known
        #: Mem-Info summary counters (pages by meminfo field) while its lines follow, and the time and line of the last
        self._meminfo: dict[str, int] | None = None
        self._meminfo_at: tuple[int, Src] | None = None
        #: Lines inside a recognised report or block that no parser understood (a variant we do not know yet):
        #: ``(line number, text)``, the first ``UNPARSED_KEPT`` of them, for ``--report``; all are counted.
        self.unparsed: list[tuple[int, str]] = []
        self.unparsed_count = 0

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
        if the kernel's, such a stamp; whose message starts as no family's may and holds no ``_STOP_WORDS`` word;
        no longer than ``MATCH_CHARS``."""
        text = "\n".join(lines)
        dmesg, syslog = self.fmt in prefix.DMESG_FORMATS, self.fmt in prefix.SYSLOG_FORMATS
        if self.clock != "printk" or not (dmesg or syslog) or text.count("\n") != len(lines) - 1:
            return feed_each(self.feed, first, lines)  # (a line holding a newline would shift the lines found)
        # the dmesg regex (twice as fast) when most lines start as dmesg's: the others then go to ``feed``
        bracketed = text.startswith("[") + text.count("\n[")
        scan = _scan(text, syslog and not (dmesg and 2 * bracketed > len(lines)))
        out: list[Event | LogRun] = []
        i = 0
        for stop in _stops(text, lines, scan, dmesg, syslog):
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

    def _run(self, first: int, scan: _Scan, a: int, b: int) -> LogRun:
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

    # -- holding an event for the line that completes it -----------------------------------------------------

    def _start_hold(self, ev: Event, kind: str) -> Event:
        self._hold, self._hold_kind, self._held, self._hold_left = ev, kind, [], _HOLD_LINES
        return ev

    def _release(self) -> list[Event]:
        if self._hold is None:
            return []
        out = [self._hold, *self._held]
        self._hold, self._hold_kind, self._held = None, "", []
        return out

    def _continue_hold(self, msg: str, ts: int, src: Src) -> tuple[list[Event], bool]:
        """Complete, keep or release the held event in view of the next line.

        Returns the events released and whether the line was used up (it completed the held event; its own
        ``log`` event then follows the released ones). A line that neither completes nor may precede the
        completing line releases the event as it is and is parsed as usual."""
        ev = self._hold
        assert ev is not None
        self._hold_left -= 1
        kind = self._hold_kind
        if kind == "stack":
            frame = oom.stack_line(msg)
            if frame is not None and self._hold_left > 0:
                if frame:
                    ev.fields["stack"] = (*ev.fields.get("stack", ()), frame)
                self._held.append(log_event(ts, msg, src))
                return [], True
        elif kind in ("invoke", "alloc", "panic"):
            who = oom.cpu_line(msg)
            if who is not None:
                self.kernel = self.kernel or who.get("kernel")
                if ev.fields.get("comm") in (who["comm"], None):
                    ev.pid = ev.pid if ev.pid is not None else who["pid"]
                    if kind == "panic" and ev.pid == who["pid"]:
                        ev.fields["comm"] = who["comm"]
                    if kind == "invoke":  # the Call Trace follows: keep the event for its frames
                        self._hold_kind, self._hold_left = "stack", _STACK_LINES
                        self._held.append(log_event(ts, msg, src))
                        return [], True
                    return self._release_with(log_event(ts, msg, src)), True
                return self._release(), False
            if self._hold_left > 0 and (not msg or any(s in msg for s in _BEFORE_CPU)):
                return [], False
            if kind == "invoke" and self._hold_left > 0 and oom.stack_line(msg) is not None:
                self._hold_kind, self._hold_left = "stack", _STACK_LINES  # a dump without a CPU line (2.6, ARM)
                return self._continue_hold(msg, ts, src)
        elif kind == "memcg":
            path = memory.stats_for(msg)
            if path is not None:
                ev.fields["path"] = path
                return self._release_with(log_event(ts, msg, src)), True
            if self._hold_left > 0 and msg.startswith(_MEMCG_MATES):
                return [], False
            ev.fields["path"] = "(unknown)"
        elif kind == "kill_comm":
            inner = msg.rstrip(".")
            if inner.startswith("(") and inner.endswith(")"):
                ev.fields["comm"] = inner[1:-1]
                return self._release_with(log_event(ts, msg, src)), True
        return self._release(), False

    def _release_with(self, ev: Event) -> list[Event]:
        self._held.append(ev)
        return self._release()

    # -- the families ----------------------------------------------------------------------------------------

    def _end_blocks(self) -> None:
        self._holder = None
        self._columns = None

    def _parse(self, msg: str, raw: str, ts: int, src: Src) -> list[Event]:
        """The events one kernel message means; a ``log`` event when it means none. A line that is not part of an
        open Mem-Info summary ends it: the summary's event comes first."""
        if self._meminfo is None:
            return self._parse_line(msg, raw, ts, src)
        if self._meminfo_line(msg, ts, src):
            return [log_event(ts, raw, src)]
        return self._end_meminfo() + self._parse_line(msg, raw, ts, src)

    def _meminfo_line(self, msg: str, ts: int, src: Src) -> bool:
        """Whether ``msg`` belongs to the open Mem-Info summary (its counters are taken)."""
        assert self._meminfo is not None
        found = memory.counters(msg)
        if found is not None:  # only the counters the vocabulary names: a hostile block cannot grow the dict
            self._meminfo.update((f"{name}_kb", pages) for name, pages in found.items()
                                 if f"{name}_kb" in _MEMINFO_FIELDS)
            self._meminfo_at = (ts, src)
            return True
        return not self._meminfo and memory.per_cpu(msg)  # ≤3.x prints per-cpu lists before the counters

    def _end_meminfo(self) -> list[Event]:
        """The ``meminfo`` event of the summary just ended, at its last line; none if it had no counters."""
        found, at = self._meminfo, self._meminfo_at
        self._meminfo = self._meminfo_at = None
        if not found or at is None:
            return []
        fields = {name: pages * _PAGE_KB for name, pages in found.items()}
        return [Event(at[0], "meminfo", None, fields, src=at[1], inferred=set(fields))]

    def _parse_line(self, msg: str, raw: str, ts: int, src: Src) -> list[Event]:
        """``_parse`` outside a Mem-Info summary."""
        if self._holder is not None:
            lock = locks.held_lock(msg)
            if lock is not None:
                pid, comm = self._holder
                return [Event(ts, "lock_held", pid, {"lock": lock["lock"], "site": lock["site"],
                                                     "index": lock["index"], "comm": comm}, src=src)]
            if _LOCK_LINE.match(msg):
                self._not_understood(src, msg)
            self._holder = None
        if self._columns is not None:
            row = oom.table_row(msg, self._columns)
            if row is not None:
                inferred = {"pgtables_bytes"} if "nr_ptes" in self._columns else set()
                pid = row.pop("pid")
                return [Event(ts, "oom_candidate", pid, row, src=src, inferred=inferred)]
            if oom.TABLE_ROW.match(msg):
                self._not_understood(src, msg)
            self._columns = None
        events = self._families(msg, ts, src) if _may_be_family(msg) else None
        if events is None and _is_report(msg):
            self._not_understood(src, msg)
        return events if events else [log_event(ts, raw, src)]

    def _not_understood(self, src: Src, msg: str) -> None:
        self.unparsed_count += 1
        if len(self.unparsed) < UNPARSED_KEPT:
            self.unparsed.append((src.line, msg))

    def _families(self, msg: str, ts: int, src: Src) -> list[Event] | None:
        """The events of a report line; ``[]`` for a line understood that completes a later event (the line
        stays a ``log`` event), None for a line no family understands."""
        f = oom.invoke(msg)
        if f is not None:
            self._chosen = self._summary = None
            pid = f.pop("pid", None)
            f["gfp"], guessed = gfp.decode(f.get("gfp"))
            # held for the CPU line (the invoker's pid) and the Call Trace after it (the stack)
            self._invocation = Event(ts, "oom_invoke", pid, f, src=src, inferred={"gfp"} if guessed else ())
            return [self._start_hold(self._invocation, "invoke")]
        f = oom.killed(msg)
        if f is not None:
            return self._kill(f, ts, src)
        f = oom.reaper(msg)
        if f is not None:
            pid, outcome = f.pop("pid"), f["outcome"]
            attempt = {"outcome": "reaped" if outcome == "reaped" else "lock_busy", "comm": f["comm"]}
            return [Event(ts, "reaper_attempt", pid, attempt, src=src, inferred={"outcome"}),
                    Event(ts, "reaper_done", pid, f, src=src),
                    Event(ts, "flag_set", pid, {"flag": "MMF_OOM_SKIP", "target": "mm"}, src=src,
                          inferred={"flag"})]
        f = oom.ending(msg)
        if f is not None:
            return self._ending(f, ts, src)
        if memory.mem_info(msg):
            self._meminfo, self._meminfo_at = {}, None
            return []
        f = locks.holder(msg)
        if f is not None:
            self._holder = (f["pid"], f["comm"])
            return [Event(ts, "task", f["pid"], {"comm": f["comm"]}, src=src)]
        columns = oom.table_header(msg)
        if columns is not None:
            self._columns = columns
            return []
        f = memory.zone(msg)
        if f is not None:
            inferred = set()
            if f["node"] is None:  # non-NUMA kernels print no "Node N"
                f["node"], inferred = 0, {"node"}
            self._zone = (f["node"], f["zone"])
            return [Event(ts, "zone", None, f, src=src, inferred=inferred)]
        reserve = memory.lowmem_reserve(msg)
        if reserve is not None and self._zone is not None:
            node, zone = self._zone
            self._zone = None
            # printed in pages; kB assumes 4 KiB pages, hence inferred
            return [Event(ts, "zone", None, {"node": node, "zone": zone,
                                             "lowmem_reserve_kb": [r * 4 for r in reserve]},
                          src=src, inferred={"lowmem_reserve_kb"})]
        f = oom.summary(msg)
        if f is not None:
            self._summary = f
            return []
        f = oom.chosen(msg)
        if f is not None:
            self._chosen = f
            return []
        f = oom.cpu_line(msg)
        if f is not None:
            self.kernel = self.kernel or f.get("kernel")
            return [Event(ts, "task", f["pid"], {"comm": f["comm"]}, src=src)]
        f = memory.usage(msg)
        if f is not None:
            if f["what"] != "memory":
                return []
            ev = Event(ts, "memcg", None, {"path": self._memcg_path, "usage_kb": f.get("usage"),
                                           "limit_kb": f.get("limit"), "failcnt": f.get("failcnt")}, src=src)
            if self._memcg_path is not None:
                self._memcg_path = None
                return [ev]
            return [self._start_hold(ev, "memcg")]
        path = memory.limited_memcg(msg)
        if path is not None:
            self._memcg_path = path
            return []
        f = memory.alloc(msg)
        if f is not None:
            f["gfp"], guessed = gfp.decode(f.get("gfp"))
            ev = Event(ts, "alloc", None, f, src=src, inferred={"gfp"} if guessed else ())
            return [self._start_hold(ev, "alloc")]
        f = oom.sharing(msg)
        if f is not None:
            pid = f.pop("pid")
            return [Event(ts, "oom_kill", pid, f, src=src), self._memdie(ts, pid, src)]
        f = oom.victim_without_kill(msg)
        if f is not None:
            pid = f.pop("pid")
            return [Event(ts, "oom_victim", pid, f, src=src), self._memdie(ts, pid, src)]
        f = oom.lmk_kill(msg)
        if f is not None:
            pid = f.pop("pid")
            return [Event(ts, "oom_kill", pid, {**f, "killer": "lowmemorykiller"}, src=src)]
        f = tasks.hung(msg)
        if f is not None:
            return [Event(ts, "task_state", f["pid"], {"state": "D", "comm": f["comm"]}, src=src,
                          inferred={"state"})]
        f = tasks.task_line(msg)
        if f is not None:
            return [Event(ts, "task_state", f["pid"], {"state": f["state"], "comm": f["comm"]}, src=src)]
        return None

    def _ending(self, f: dict, ts: int, src: Src) -> list[Event]:
        """An invocation ending without a kill, by its invoker; a panic is held for the CPU line of the dump_stack
        that panic() prints, which names the task when the log lost the report's header."""
        invoker = self._invocation.pid if self._invocation is not None else None
        ev = Event(ts, "oom_end", invoker, f, src=src)
        return [self._start_hold(ev, "panic") if f["outcome"] == "panic" else ev]

    @staticmethod
    def _memdie(ts: int, pid: int, src: Src) -> Event:
        """A victim's TIF_MEMDIE: set by mark_oom_victim, which prints nothing, so always inferred."""
        return Event(ts, "flag_set", pid, {"flag": "TIF_MEMDIE"}, src=src, inferred={"flag"})

    def _kill(self, f: dict, ts: int, src: Src) -> list[Event]:
        """One ``Killed process`` line: the oom_kill, with what the chosen and summary lines said about it."""
        pid = f.pop("pid")
        message = f.pop("message")
        inferred: set[str] = set()
        self._invocation = None  # it ended with this kill: a later ending names its own invoker
        chosen, self._chosen = self._chosen, None
        if chosen is not None:
            if chosen["pid"] == pid:
                f["points"] = chosen["points"]
            else:
                f["parent"] = chosen["pid"]  # a child was sacrificed in the chosen task's place
        summary, self._summary = self._summary, None
        if summary is not None and summary.get("pid") == pid:
            f["memcg"] = summary.get("oom_memcg") or summary.get("task_memcg")
            f["constraint"] = summary.get("constraint")
        elif message and message.startswith("Memory cgroup"):
            f["constraint"] = "CONSTRAINT_MEMCG"
            inferred.add("constraint")
        kill = Event(ts, "oom_kill", pid, f, src=src, inferred=inferred)
        if f.get("comm") is None:
            self._start_hold(kill, "kill_comm")
            self._held.append(self._memdie(ts, pid, src))
            return [kill]
        return [kill, self._memdie(ts, pid, src)]
