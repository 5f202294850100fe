"""What a recording shows of the OOM killer's victims, and what it leaves to be inferred (recording.md §3.1).

Three things have no tracepoint: the clearing of ``TIF_MEMDIE``, the setting of ``MMF_OOM_SKIP``, and whether a
reaper attempt succeeded. ``Victims`` keeps, per victim, what is needed to infer them as the events come in time
order, without looking ahead (so the converter streams): the reaper's attempts so far, whether its outcome is
known, whether the mm is gone, and the mm the victim's threads share, so that a dying thread marking itself a
victim is not taken for a second kill.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model.flags import MAX_OOM_REAP_RETRIES

#: mark_victim's counters that describe the mm, not the thread: equal counters mean the same mm
_MM_COUNTERS = ("total_vm_kb", "anon_rss_kb", "file_rss_kb", "shmem_rss_kb", "pgtables_kb")


@dataclass
class Victim:
    """One killed process, keyed by the pid ``mark_victim`` named."""

    pid: int
    comm: str | None
    counters: dict[str, int]
    mm: str | None                      # the rss_stat mm_id of the victim's mm, when the recording has one
    marked: set[int] = field(default_factory=set)  # threads with TIF_MEMDIE set (inferred)
    attempts: int = 0
    reaping: bool = False               # start_task_reaping seen, finish not yet
    reaper_seen: bool = False           # the recording has oom:* reaper events for it
    done: bool = False                  # reaper_done emitted (reaped or unable)
    oom_skip: bool = False              # MMF_OOM_SKIP set (inferred)
    gone: bool = False                  # the last thread exited: the mm is torn down


class Victims:
    """The victims of one recording, and the tasks' mms (from ``rss_stat``'s ``mm_id`` and the TGID column)."""

    def __init__(self) -> None:
        self.by_pid: dict[int, Victim] = {}
        self.mm_of: dict[int, str] = {}        # pid -> mm_id of its current mm (rss_stat with curr=1)
        self.tgid_of: dict[int, int] = {}      # pid -> tgid (record-tgid column)
        self.forked_by: dict[int, int] = {}    # child pid -> parent pid (sched_process_fork)

    def owner(self, pid: int, counters: dict[str, int]) -> Victim | None:
        """The live victim ``pid`` belongs to (itself, or a process whose mm it shares), or None: a new kill.

        Shared mm is known from ``rss_stat`` (threads report the same ``mm_id``) or the TGID column; failing both,
        from ``sched_process_fork`` ancestry together with identical mm counters in the extended mark_victim."""
        for v in self.by_pid.values():
            if v.gone:
                continue
            if pid == v.pid or pid in v.marked:
                return v
            mm = self.mm_of.get(pid)
            if mm is not None and mm == (v.mm if v.mm is not None else self.mm_of.get(v.pid)):
                return v
            tgid = self.tgid_of.get(pid)
            if tgid is not None and tgid == self.tgid_of.get(v.pid, v.pid):
                return v
            if counters and all(counters.get(k) == v.counters.get(k) for k in _MM_COUNTERS) \
                    and self._descends(pid, v.pid):
                return v
        return None

    def _descends(self, pid: int, ancestor: int) -> bool:
        seen = set()
        while pid in self.forked_by and pid not in seen:
            seen.add(pid)
            pid = self.forked_by[pid]
            if pid == ancestor:
                return True
        return False

    def add(self, pid: int, comm: str | None, counters: dict[str, int]) -> Victim:
        v = Victim(pid, comm, counters, self.mm_of.get(pid))
        v.marked.add(pid)
        self.by_pid[pid] = v
        return v

    def of_exiting(self, pid: int) -> Victim | None:
        """The live victim whose process ``pid`` (a thread of it, by mm or tgid, or the victim itself) is."""
        v = self.by_pid.get(pid)
        if v is not None and not v.gone:
            return v
        return self.owner(pid, {})

    @staticmethod
    def attempt(v: Victim, outcome: str) -> tuple[int, bool]:
        """Count one reaper attempt; returns its number and whether it was the last the kernel makes."""
        v.attempts += 1
        return v.attempts, outcome == "lock_busy" and v.attempts >= MAX_OOM_REAP_RETRIES
