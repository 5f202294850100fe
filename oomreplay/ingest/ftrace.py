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
from collections.abc import Callable, Iterable

from ..model import Event, Src
from .ftrace_line import FtraceLine, is_ftrace, looks_like_event, lost_marker, overwritten, parse_line, unquote
from .ftrace_payload import contention, lockdep, number, pairs, sched_switch, task_state
from .ftrace_victims import Victim, Victims
from .kernel_log import MATCH_CHARS, LogConverter, feed_each, log_event

#: lines held to sort per-CPU disorder; a line more out of order than this is clamped and reported
REORDER_LINES = 4096
_RSS_FIELDS = {"MM_ANONPAGES": "anon_kb", "MM_FILEPAGES": "file_kb", "MM_SHMEMPAGES": "shmem_kb"}
_MARK_VICTIM_FIELDS = {"total-vm": "total_vm_kb", "anon-rss": "anon_rss_kb", "file-rss": "file_rss_kb",
                       "shmem-rss": "shmem_rss_kb", "pgtables": "pgtables_kb", "uid": "uid",
                       "oom_score_adj": "oom_score_adj"}
_RECLAIM_BEGIN = ("mm_vmscan_direct_reclaim_begin", "mm_vmscan_memcg_reclaim_begin",
                  "mm_vmscan_memcg_softlimit_reclaim_begin")
_RECLAIM_END = ("mm_vmscan_direct_reclaim_end", "mm_vmscan_memcg_reclaim_end",
                "mm_vmscan_memcg_softlimit_reclaim_end")
#: console lines remembered, to keep a line's text when the event parsed from it is dropped as a duplicate
_CONSOLE_KEPT = 64
#: event names whose handler is remembered (a recording has a few dozen)
_EVENT_NAMES_KEPT = 1024
_UNSEEN = object()


def sniff(head: list[str]) -> bool:
    """Whether ``convert`` should read this input with ``FtraceConverter``."""
    return is_ftrace(head)


class FtraceConverter:
    """Converts the lines of one ftrace text (file id ``file_id`` in the trace) into events, in time order."""

    def __init__(self, file_id: int = 0) -> None:
        self.file_id = file_id
        self.counts: Counter[str] = Counter()
        self.kernel: str | None = None
        self.clock = "trace"
        self.warnings: list[str] = []
        self.rejects: list[int] = []           # lines that start like an event line but do not parse
        self.lost_events = 0                   # counted by lost-event markers
        self.lost_markers: list[int] = []      # their lines
        self.late: list[int] = []              # lines beyond the reorder window, clamped in time
        self.reordered = 0                     # lines sorted back into place
        self._heap: list[tuple[int, int, str, FtraceLine | None]] = []
        self._read_ts = 0                      # latest time read
        self._last_ts = 0                      # latest time emitted
        self._last_lineno = 0
        self.victims = Victims()
        self._comm: dict[int, str] = {}        # pid -> comm, from payloads (the TASK column can be stale)
        self._exited: set[int] = set()
        self._mm_pid: dict[str, int] = {}      # rss_stat mm_id / mmap_lock mm pointer -> the pid it belongs to
        self._reclaim: dict[int, tuple[int, int | None, str | None]] = {}  # pid -> (start, order, gfp)
        self._console = LogConverter(file_id)
        self._console_text: dict[int, str] = {}
        self._handlers: dict[str, Callable[[int, FtraceLine, Src], list[Event] | None]] = {
            "mark_victim": self._mark_victim, "wake_reaper": self._wake_reaper,
            "start_task_reaping": self._start_reaping, "finish_task_reaping": self._finish_reaping,
            "skip_task_reaping": self._skip_reaping, "oom_score_adj_update": self._score_adj,
            "reclaim_retry_zone": self._retry_zone, "compact_retry": self._compact_retry,
            "sched_switch": self._switch, "sched_process_fork": self._fork, "sched_process_exit": self._exit,
            "sched_process_free": self._free, "signal_generate": self._signal, "rss_stat": self._rss,
            "mmap_lock_start_locking": self._mmap_lock, "mmap_lock_acquire_returned": self._mmap_lock,
            "mmap_lock_released": self._mmap_lock, "lock_acquire": self._lockdep, "lock_release": self._lockdep,
            "contention_begin": self._contention, "contention_end": self._contention, "console": self._console_line,
            **{name: self._reclaim_begin for name in _RECLAIM_BEGIN},
            **{name: self._reclaim_end for name in _RECLAIM_END},
        }

        #: each event name as the recording prints it (``oom:mark_victim``, ``mark_victim``…) -> its handler or None
        self._by_event: dict[str, Callable[[int, FtraceLine, Src], list[Event] | None] | None] = {}

    def _handler(self, event: str) -> Callable[[int, FtraceLine, Src], list[Event] | None] | None:
        """The handler of an event name not met yet, remembered for the first ``_EVENT_NAMES_KEPT`` names (a
        hostile file's endless names cannot grow the memory)."""
        handler = self._handlers.get(event.rpartition(":")[2])
        if len(self._by_event) < _EVENT_NAMES_KEPT:
            self._by_event[event] = handler
        return handler

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
            else:
                self._read_ts = ts
        else:
            ts = self._read_ts  # a line without a time stays where it is, after the latest event read
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

    # -- the OOM killer and its reaper -----------------------------------------------------------------------

    def _pid(self, f: dict, src: Src) -> int | None:
        """The record's pid; a record that should name one and does not is a reject."""
        pid = number(f.get("pid"))
        if pid is None:
            self.rejects.append(src[1])
        return pid

    def _mark_victim(self, ts: int, rec: FtraceLine, src: Src) -> list[Event] | None:
        f = pairs(rec.payload)
        pid = self._pid(f, src)
        if pid is None:
            return None
        comm = f.get("comm") or self._comm.get(pid)
        fields = {name: number(f.get(key)) for key, name in _MARK_VICTIM_FIELDS.items()}
        counters = {k: v for k, v in fields.items() if v is not None}
        memdie = Event(ts, "flag_set", pid, {"flag": "TIF_MEMDIE"}, src=src, inferred={"flag"})
        owner = self.victims.owner(pid, counters)
        if owner is not None:  # a thread of a live victim marked itself: no new kill
            owner.marked.add(pid)
            return [Event(ts, "oom_victim", pid, {"comm": comm}, src=src), memdie]
        self.victims.add(pid, comm, counters)
        return [Event(ts, "oom_kill", pid, {"comm": comm, **fields}, src=src), memdie]

    def _reaped_victim(self, pid: int) -> Victim:
        v = self.victims.by_pid.get(pid)
        if v is None:  # the kill happened before the recording started
            v = self.victims.add(pid, self._comm.get(pid), {})
        v.reaper_seen = True
        return v

    def _wake_reaper(self, ts: int, rec: FtraceLine, src: Src) -> list[Event] | None:
        pid = self._pid(pairs(rec.payload), src)
        if pid is None:
            return None
        v = self._reaped_victim(pid)
        return [Event(ts, "reaper_wake", pid, {"comm": v.comm}, src=src)]

    def _start_reaping(self, ts: int, rec: FtraceLine, src: Src) -> list[Event] | None:
        pid = self._pid(pairs(rec.payload), src)
        if pid is not None:
            self._reaped_victim(pid).reaping = True
        return None  # kept as text: the attempt is counted when its outcome is known

    def _finish_reaping(self, ts: int, rec: FtraceLine, src: Src) -> list[Event] | None:
        pid = self._pid(pairs(rec.payload), src)
        if pid is None:
            return None
        v = self._reaped_victim(pid)
        v.reaping = False
        n, _ = Victims.attempt(v, "reaped")
        out = [Event(ts, "reaper_attempt", pid, {"n": n, "outcome": "reaped", "comm": v.comm}, src=src,
                     inferred={"outcome"})]
        return out + self._reaper_done(ts, v, "reaped", src)

    def _skip_reaping(self, ts: int, rec: FtraceLine, src: Src) -> list[Event] | None:
        pid = self._pid(pairs(rec.payload), src)
        if pid is None:
            return None
        v = self._reaped_victim(pid)
        # the trylock failed, unless the mm was already done with (MMF_OOM_SKIP): then there is nothing to reap
        outcome = "skipped" if v.done or v.gone or v.oom_skip else "lock_busy"
        n, last = Victims.attempt(v, outcome)
        out = [Event(ts, "reaper_attempt", pid, {"n": n, "outcome": outcome, "comm": v.comm}, src=src,
                     inferred={"outcome"})]
        return out + self._reaper_done(ts, v, "unable", src) if last else out

    def _reaper_done(self, ts: int, v: Victim, outcome: str, src: Src) -> list[Event]:
        out = []
        if not v.done:
            v.done = True
            out.append(Event(ts, "reaper_done", v.pid, {"outcome": outcome, "comm": v.comm}, src=src,
                             inferred={"outcome"}))
        return out + self._oom_skip(ts, v, src)

    @staticmethod
    def _oom_skip(ts: int, v: Victim, src: Src) -> list[Event]:
        """MMF_OOM_SKIP, set by the reaper when it is done and by exit_mmap: no tracepoint, so inferred, once."""
        if v.oom_skip:
            return []
        v.oom_skip = True
        return [Event(ts, "flag_set", v.pid, {"flag": "MMF_OOM_SKIP", "target": "mm"}, src=src, inferred={"flag"})]

    def _score_adj(self, ts: int, rec: FtraceLine, src: Src) -> list[Event] | None:
        f = pairs(rec.payload)
        pid, adj = number(f.get("pid")), number(f.get("oom_score_adj"))
        if pid is None or adj is None:
            self.rejects.append(src[1])
            return None
        if f.get("comm"):
            self._comm[pid] = f["comm"]
        # `task` has no oom_score_adj column: the value travels in the event's extra fields
        return [Event(ts, "task", pid, {"comm": f.get("comm"), "oom_score_adj": adj}, src=src)]

    def _retry_zone(self, ts: int, rec: FtraceLine, src: Src) -> list[Event] | None:
        f = pairs(rec.payload)
        node, zone, wmark = number(f.get("node")), f.get("zone"), number(f.get("min_wmark"))
        if node is None or not zone:
            self.rejects.append(src[1])
            return None
        # pages -> kB assumes 4 KiB pages, hence inferred
        return [Event(ts, "zone", None, {"node": node, "zone": zone, "min_kb": None if wmark is None else wmark * 4,
                                         "available_pages": number(f.get("available")),
                                         "reclaimable_pages": number(f.get("reclaimable")),
                                         "wmark_check": number(f.get("wmark_check")),
                                         "no_progress_loops": number(f.get("no_progress_loops"))},
                      src=src, inferred={"min_kb"})]

    def _compact_retry(self, ts: int, rec: FtraceLine, src: Src) -> list[Event] | None:
        f = pairs(rec.payload)
        return [Event(ts, "alloc", rec.pid, {"order": number(f.get("order")), "priority": f.get("priority"),
                                             "compaction_result": f.get("compaction_result"),
                                             "retries": number(f.get("retries")),
                                             "should_retry": number(f.get("should_retry"))}, src=src)]

    # -- tasks -----------------------------------------------------------------------------------------------

    def _switch(self, ts: int, rec: FtraceLine, src: Src) -> list[Event] | None:
        sw = sched_switch(rec.payload)
        if sw is None:
            self.rejects.append(src[1])
            return None
        prev_comm, prev_pid, prev_state, next_comm, next_pid = sw
        self._comm[prev_pid], self._comm[next_pid] = prev_comm, next_comm
        return [Event(ts, "task_state", prev_pid, {"state": task_state(prev_state), "comm": prev_comm}, src=src)]

    def _fork(self, ts: int, rec: FtraceLine, src: Src) -> list[Event] | None:
        f = pairs(rec.payload)
        parent, child = number(f.get("pid")), number(f.get("child_pid"))
        if parent is None or child is None:
            self.rejects.append(src[1])
            return None
        self.victims.forked_by[child] = parent
        self._exited.discard(child)
        if f.get("child_comm"):
            self._comm[child] = f["child_comm"]
        return [Event(ts, "fork", parent, {"child": child, "comm": f.get("child_comm")}, src=src)]

    def _exit(self, ts: int, rec: FtraceLine, src: Src) -> list[Event] | None:
        f = pairs(rec.payload)
        pid = self._pid(f, src)
        if pid is None:
            return None
        self._exited.add(pid)
        comm = f.get("comm") or self._comm.get(pid)
        out = [Event(ts, "task_exit", pid, {"comm": comm}, src=src)]
        v = self.victims.of_exiting(pid)
        if v is None:
            return out
        if pid in v.marked:  # exit_mm() -> exit_oom_victim(), no tracepoint
            v.marked.discard(pid)
            out.append(Event(ts, "flag_clear", pid, {"flag": "TIF_MEMDIE"}, src=src, inferred={"flag"}))
        group_dead = f.get("group_dead")
        if group_dead == "true" or (group_dead is None and pid == v.pid):
            v.gone = True  # the last thread: exit_mmap() tears the mm down and sets MMF_OOM_SKIP
            out.extend(self._oom_skip(ts, v, src))
        return out

    def _free(self, ts: int, rec: FtraceLine, src: Src) -> list[Event] | None:
        f = pairs(rec.payload)
        pid = number(f.get("pid"))
        if pid is None or pid in self._exited:
            return None  # the exit is already in the trace: the free is kept as text
        self._exited.add(pid)  # its exit was before the recording
        return [Event(ts, "task_exit", pid, {"comm": f.get("comm")}, src=src)]

    def _signal(self, ts: int, rec: FtraceLine, src: Src) -> list[Event] | None:
        f = pairs(rec.payload)
        pid = number(f.get("pid"))
        if number(f.get("sig")) != 9 or pid is None:
            return None
        text = f"SIGKILL to {pid} ({f.get('comm')}) from {rec.comm}-{rec.pid}, result {f.get('res')}"
        return [Event(ts, "note", pid, {"text": text}, src=src)]

    def _rss(self, ts: int, rec: FtraceLine, src: Src) -> list[Event] | None:
        f = pairs(rec.payload)
        mm, size, name = f.get("mm_id"), number(f.get("size")), _RSS_FIELDS.get(f.get("type", ""))
        if mm is None or size is None:
            self.rejects.append(src[1])
            return None
        if f.get("curr") == "1":
            self.victims.mm_of[rec.pid] = mm
            owner = self._mm_pid.get(mm)
            if owner is None or owner in self._exited:  # a new mm, or an mm_id hash reused
                self._mm_pid[mm] = rec.pid
        pid = self._mm_pid.get(mm)
        if pid is None or name is None:
            return None
        return [Event.unchecked(ts, "rss", pid, {name: size // 1024}, src)]

    # -- locks -----------------------------------------------------------------------------------------------

    def _mmap_lock(self, ts: int, rec: FtraceLine, src: Src) -> list[Event] | None:
        f = pairs(rec.payload)
        ptr = f.get("mm")
        if ptr is None:
            self.rejects.append(src[1])
            return None
        owner = self._mm_pid.setdefault("mm:" + ptr, rec.pid)  # the first task seen locking it: its own
        fields = {"lock": "mmap_lock", "mode": "w" if f.get("write") == "true" else "r", "mm": owner}
        event = rec.event.rpartition(":")[2]
        if event == "mmap_lock_start_locking":
            kind = "lock_contended"
        elif event == "mmap_lock_acquire_returned":
            kind = "lock_acquire" if f.get("success") == "true" else "lock_release"  # a failed try ends the wait
        else:
            kind = "lock_release"
        if kind == "lock_release":
            del fields["mode"]
        return [Event(ts, kind, rec.pid, fields, src=src)]

    def _lockdep(self, ts: int, rec: FtraceLine, src: Src) -> list[Event] | None:
        lock = lockdep(rec.payload)
        if lock is None:
            self.rejects.append(src[1])
            return None
        _, _, read, name = lock
        if rec.event.endswith("lock_release"):
            return [Event(ts, "lock_release", rec.pid, {"lock": name}, src=src)]
        return [Event(ts, "lock_acquire", rec.pid, {"lock": name, "mode": "r" if read else "w"}, src=src)]

    def _contention(self, ts: int, rec: FtraceLine, src: Src) -> list[Event] | None:
        c = contention(rec.payload)
        if c is None:
            self.rejects.append(src[1])
            return None
        addr, what = c
        name = f"lock@{addr}"  # contention events name no lock, only its (often hashed) address
        if rec.event.endswith("contention_end"):
            return [Event(ts, "lock_release", rec.pid, {"lock": name}, src=src)]  # the wait is over
        return [Event(ts, "lock_contended", rec.pid, {"lock": name, "mode": "r" if "READ" in what else "w"},
                      src=src)]

    # -- memory ----------------------------------------------------------------------------------------------

    def _reclaim_begin(self, ts: int, rec: FtraceLine, src: Src) -> list[Event] | None:
        f = pairs(rec.payload)
        self._reclaim[rec.pid] = (ts, number(f.get("order")), f.get("gfp_flags"))
        return None

    def _reclaim_end(self, ts: int, rec: FtraceLine, src: Src) -> list[Event] | None:
        begin = self._reclaim.pop(rec.pid, None)
        if begin is None:
            return None
        start, order, gfp = begin
        f = pairs(rec.payload)
        return [Event(ts, "alloc", rec.pid, {"order": order, "gfp": gfp, "outcome": "stall",
                                             "duration_ns": ts - start,
                                             "nr_reclaimed": number(f.get("nr_reclaimed"))}, src=src)]

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
