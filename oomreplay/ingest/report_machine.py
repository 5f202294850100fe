"""The OOM report's state machine: the lines of one report tied into the events they mean together.

A report spreads one fact over several lines: the invoker's pid comes on the ``CPU:`` line after the header, a
killed child's parent on the ``Kill process`` line before it, a ≥5.0 memcg's path on the ``stats for`` line after
its usage, a 2.4 kill's comm sometimes on the next line (wrapped by a mail client). ``ReportMachine`` keeps that
little state: at most one event *held* for the line that completes it (the events of the lines in between wait
behind it, so the output stays in line order), the open lockdep holder, the task table's columns, the chosen
victim, the ``oom-kill:`` summary, the last invocation (whose invoker an ending names) and the Mem-Info summary's
counters, until the line after its last. ``LogConverter`` feeds it the kernel's messages, line by line.
"""

from __future__ import annotations

import re

from ..model import KINDS, Event, Src
from . import gfp, locks, memory, oom, tasks
from .log_scan import is_report, may_be_family
from .logrun import log_event

#: Lines that may sit between an OOM header (or a warn_alloc line) and the ``CPU:`` line naming its task.
_BEFORE_CPU = ("COMPACTION is disabled", "cpuset=", "mems_allowed=")
#: Lines that may sit between a ≥5.0 memcg ``memory:`` line and its ``Memory cgroup stats for`` line.
_MEMCG_MATES = ("memory+swap:", "swap:", "kmem:", "Memory cgroup min protection")
#: A held event is released after this many lines at most, completed or not.
_HOLD_LINES = 16
#: Lines of a Call Trace (with its Hardware name, <TASK> and register lines) read into an invocation's stack.
_STACK_LINES = 96
#: A lockdep ``#n:`` line, recognised by its shape when its parse fails (a task-table row: ``oom.TABLE_ROW``).
_LOCK_LINE = re.compile(r"#\d+:")
#: Not-understood lines kept for ``--report`` (all are counted).
UNPARSED_KEPT = 100
#: The Mem-Info summary counts pages; kB assume 4 KiB pages (the buddy lists that follow print the real size, but
#: only after the summary), so its fields are marked inferred.
_PAGE_KB = 4
_MEMINFO_FIELDS = frozenset(KINDS["meminfo"])


class ReportMachine:
    """The state of the report being read, and what each kernel message means in it."""

    def __init__(self) -> None:
        self.kernel: str | None = None         # the kernel release, from a CPU: line
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
        events = self._families(msg, ts, src) if may_be_family(msg) else None
        if events is None and is_report(msg):
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
