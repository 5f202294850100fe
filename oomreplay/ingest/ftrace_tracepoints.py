"""What each tracepoint of a recording means as events: the OOM killer's and the reaper's, the scheduler's, the
mmap_lock, lockdep and contention events, reclaim; and what the recording taught about tasks on the way (comms,
exits, whose mm an ``mm_id`` is, the victims). ``FtraceConverter`` drives it line by line, in time order."""

from __future__ import annotations

from collections.abc import Callable

from ..model import Event, Src
from .ftrace_line import FtraceLine
from .ftrace_payload import contention, lockdep, number, pairs, sched_switch, task_state
from .ftrace_victims import Victim, Victims

_RSS_FIELDS = {"MM_ANONPAGES": "anon_kb", "MM_FILEPAGES": "file_kb", "MM_SHMEMPAGES": "shmem_kb"}
_MARK_VICTIM_FIELDS = {"total-vm": "total_vm_kb", "anon-rss": "anon_rss_kb", "file-rss": "file_rss_kb",
                       "shmem-rss": "shmem_rss_kb", "pgtables": "pgtables_kb", "uid": "uid",
                       "oom_score_adj": "oom_score_adj"}
_RECLAIM_BEGIN = ("mm_vmscan_direct_reclaim_begin", "mm_vmscan_memcg_reclaim_begin",
                  "mm_vmscan_memcg_softlimit_reclaim_begin")
_RECLAIM_END = ("mm_vmscan_direct_reclaim_end", "mm_vmscan_memcg_reclaim_end",
                "mm_vmscan_memcg_softlimit_reclaim_end")
#: event names whose handler is remembered (a recording has a few dozen)
_EVENT_NAMES_KEPT = 1024


class Tracepoints:
    """The handlers of the tracepoints, by event name, and the state they keep; ``rejects`` collects the lines of
    records that should have parsed and did not."""

    def __init__(self) -> None:
        self.rejects: list[int] = []           # lines that start like an event line but do not parse
        self.victims = Victims()
        self._comm: dict[int, str] = {}        # pid -> comm, from payloads (the TASK column can be stale)
        self._exited: set[int] = set()
        self._mm_pid: dict[str, int] = {}      # rss_stat mm_id / mmap_lock mm pointer -> the pid it belongs to
        self._reclaim: dict[int, tuple[int, int | None, str | None]] = {}  # pid -> (start, order, gfp)
        self._handlers: dict[str, Callable[[int, FtraceLine, Src], list[Event] | None]] = {
            "mark_victim": self._mark_victim, "wake_reaper": self._wake_reaper,
            "start_task_reaping": self._start_reaping, "finish_task_reaping": self._finish_reaping,
            "skip_task_reaping": self._skip_reaping, "oom_score_adj_update": self._score_adj,
            "reclaim_retry_zone": self._retry_zone, "compact_retry": self._compact_retry,
            "sched_switch": self._switch, "sched_process_fork": self._fork, "sched_process_exit": self._exit,
            "sched_process_free": self._free, "signal_generate": self._signal, "rss_stat": self._rss,
            "mmap_lock_start_locking": self._mmap_lock, "mmap_lock_acquire_returned": self._mmap_lock,
            "mmap_lock_released": self._mmap_lock, "lock_acquire": self._lockdep, "lock_release": self._lockdep,
            "contention_begin": self._contention, "contention_end": self._contention,
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
