"""The "kernel context" of an event: which kernel function it comes from and what that function does.

Data only, from shared/research/kernel-formats.md (§1 mm/oom_kill.c, §2 show_mem and warn_alloc, §4 lockdep, §5
tracepoints, §6 flags), with the version notes that change what an event means. Presentation mode shows it under
a chapter's title and the story export beside each mark, so an audience that does not read mm/ knows what it is
looking at. A test fails when a kind is added to ``model.KINDS`` or a flag to a converter without an entry here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from .._util.safetext import visible


class Entry(NamedTuple):
    """``where``: the kernel file and function (``mm/oom_kill.c: oom_reap_task``); ``what``: one sentence."""

    where: str
    what: str


#: One entry per event kind of ``oomreplay.model.KINDS``.
KIND_GLOSSARY: dict[str, Entry] = {
    "task": Entry(
        "kernel/fork.c: copy_process; seen in mm/oom_kill.c: dump_tasks, lockdep dumps, trace lines",
        "A task the trace saw: its pid, thread-group id and comm (the 15-character name set at exec)."),
    "task_state": Entry(
        "kernel/sched/core.c: __schedule (sched_switch) / sched_show_task",
        "The task's scheduler state: R running, S sleeping, D uninterruptible (what a hung task or a victim stuck "
        "on a lock shows), T stopped, Z/X exiting."),
    "task_exit": Entry(
        "kernel/exit.c: do_exit (sched_process_exit)",
        "The task exits: exit_signals sets PF_EXITING, exit_mm drops its mm and, for a victim, exit_oom_victim "
        "clears TIF_MEMDIE; the memory is freed when the mm's last user lets go."),
    "fork": Entry(
        "kernel/fork.c: copy_process (sched_process_fork)",
        "The task created a child, which shares its mm when created with CLONE_VM (threads, vfork)."),
    "lock_acquire": Entry(
        "kernel/locking/lockdep.c: lock_acquire (lock:lock_acquire tracepoint, CONFIG_LOCKDEP)",
        "The task took the lock, for read or for write; while it holds the victim's mmap lock for write the "
        "reaper's trylock fails."),
    "lock_contended": Entry(
        "kernel/locking/lockdep.c: lock_contended (CONFIG_LOCK_STAT); ≥5.19 also contention_begin",
        "The task found the lock taken and starts waiting for it (a trylock, like the reaper's, never waits)."),
    "lock_release": Entry(
        "kernel/locking/lockdep.c: lock_release (lock:lock_release tracepoint)",
        "The task released the lock; the next waiter, or the reaper's next trylock, can take it."),
    "lock_held": Entry(
        "kernel/locking/lockdep.c: debug_show_all_locks → lockdep_print_held_locks",
        "The lock is listed as held in a lockdep dump (printed after 'oom_reaper: unable to reap', by the hung "
        "task detector or SysRq-d); when it was taken is unknown, so the holding is inferred."),
    "flag_set": Entry(
        "mm/oom_kill.c: mark_oom_victim / oom_reap_task and others (the flag's entry says which)",
        "A flag is set on a task (TIF_*, PF_*) or on its mm (MMF_*); the flag's own entry says who sets it and "
        "what it changes."),
    "flag_clear": Entry(
        "kernel/exit.c: exit_mm → exit_oom_victim and others (the flag's entry says which)",
        "A flag is cleared; most OOM flags are never cleared, TIF_MEMDIE is by exit_oom_victim (and by the 4.6–4.8 "
        "reaper)."),
    "alloc": Entry(
        "mm/page_alloc.c: __alloc_pages_slowpath → warn_alloc (kmem:mm_page_alloc tracepoint)",
        "An allocation of 2^order pages with this gfp mask and how it ended: ok, a stall ('page allocation stalls "
        "for …ms', some 4.x kernels) or a failure ('page allocation failure: order:…')."),
    "zone": Entry(
        "mm/show_mem.c: show_free_areas (lib/show_mem.c and mm/page_alloc.c up to 6.3)",
        "A zone's free memory against its min/low/high watermarks (Mem-Info block): an allocation needs free above "
        "min + lowmem_reserve, and only tasks with access to reserves (OOM victims, PF_MEMALLOC) go below min."),
    "memcg": Entry(
        "mm/memcontrol.c: mem_cgroup_print_oom_meminfo (mem_cgroup_print_oom_info before 5.0)",
        "A memory cgroup's usage against its limit and how often the limit was hit (failcnt); a charge that "
        "reclaim cannot fit under the limit invokes a memcg OOM."),
    "meminfo": Entry(
        "mm/show_mem.c: __show_mem → show_free_areas (lib/show_mem.c and mm/page_alloc.c up to 6.3)",
        "The Mem-Info summary after 'Mem-Info:': the whole machine's free, LRU, slab, page-table and dirty memory, "
        "printed in pages (kB here, assuming 4 KiB pages); the counters vary by version (unstable gone in 5.10, "
        "sec_pagetables from 6.1)."),
    "rss": Entry(
        "mm/oom_kill.c: __oom_kill_process / oom_reap_task ('Killed process …', 'now anon-rss:…')",
        "The task's resident memory by type (anon, file, shmem); the reaper frees the anonymous part."),
    "oom_invoke": Entry(
        "mm/oom_kill.c: out_of_memory → dump_header",
        "Reclaim made no progress, so the allocating task ('… invoked oom-killer: gfp_mask=…, order=…') enters the "
        "OOM killer; the report is rate-limited and may be missing."),
    "oom_candidate": Entry(
        "mm/oom_kill.c: dump_tasks",
        "One row of the OOM task table: a process the killer could choose, with its rss, page tables, swap entries "
        "(pages) and oom_score_adj; kernel threads and init are never listed."),
    "oom_kill": Entry(
        "mm/oom_kill.c: oom_kill_process → __oom_kill_process",
        "The killer sends SIGKILL to the task with the highest oom_badness (rss + swap + page tables + "
        "oom_score_adj share) and prints 'Killed process …'; up to 5.0 it may sacrifice a child of the chosen "
        "task instead."),
    "oom_victim": Entry(
        "mm/oom_kill.c: mark_oom_victim (mark_victim tracepoint, ≥4.13)",
        "The task becomes an OOM victim: TIF_MEMDIE is set and (≥4.9) signal->oom_mm is recorded, so every "
        "later OOM waits for this victim instead of killing another, until MMF_OOM_SKIP is set on its mm."),
    "oom_end": Entry(
        "mm/oom_kill.c: out_of_memory / check_panic_on_oom",
        "The invocation ended without a kill: no task could be killed ('Out of memory and no killable "
        "processes...', a panic up to 4.15, ≥4.19 a warning then, for a global OOM, a panic), or panic_on_oom "
        "panicked the machine."),
    "reaper_wake": Entry(
        "mm/oom_kill.c: wake_oom_reaper / queue_oom_reaper (wake_reaper tracepoint, ≥4.13)",
        "The victim is queued for the oom_reaper kthread (≥4.6); ≥5.0 MMF_OOM_REAP_QUEUED queues each mm once, "
        "and ≥5.18 the reaper is woken only after a 2 s timer, unless the victim exited by then."),
    "reaper_attempt": Entry(
        "mm/oom_kill.c: oom_reap_task → oom_reap_task_mm",
        "One of up to 10 tries, 100 ms apart, to take the victim's mmap lock for read without waiting "
        "(down_read_trylock(&mm->mmap_sem), mmap_read_trylock ≥5.8) and unmap its private memory; a busy lock "
        "fails the try (skip_task_reaping)."),
    "reaper_done": Entry(
        "mm/oom_kill.c: oom_reap_task",
        "The reaper is done with the victim: 'reaped process …, now anon-rss:…', or after 10 failed tries 'unable "
        "to reap pid:…' and a lock dump; ≥4.9 it sets MMF_OOM_SKIP either way, so the next OOM may pick another "
        "victim."),
    "note": Entry(
        "oomreplay (not the kernel)",
        "A free-text note in the trace, from a scenario file or a person, not from the kernel."),
    "mark": Entry(
        "oomreplay (not the kernel)",
        "A titled mark in the trace (a scenario step's mark), a chapter of the story; not from the kernel."),
    "log": Entry(
        "kernel/printk/printk.c: printk (the source log)",
        "A line of the source log with no structured meaning to oomreplay, kept so the log view shows it."),
}

#: The values of ``oom_end``'s outcome and reason (``model.events.OOM_END_OUTCOMES``, ``OOM_END_REASONS``).
OOM_END_GLOSSARY: dict[str, Entry] = {
    "no_killable": Entry(
        "mm/oom_kill.c: out_of_memory ('Out of memory and no killable processes...')",
        "No candidate was found by select_bad_process (only kernel threads, init, oom_score_adj -1000 tasks or mms "
        "already MMF_OOM_SKIP); a global OOM panics, ≤4.15 with this text, ≥4.19 after it as a warning; a memcg "
        "OOM or SysRq-f returns (≥4.19 warns first)."),
    "panic": Entry(
        "kernel/panic.c: panic ('Kernel panic - not syncing: …')",
        "The machine stopped: panic() prints its reason and a stack dump of the current task, then reboots or "
        "hangs (kdump may save a crash dump); nothing after it in the log is the same boot."),
    "deadlocked": Entry(
        "mm/oom_kill.c: out_of_memory (≥4.19)",
        "No killable task in a global OOM (not SysRq-f, not a memcg): the kernel panics with 'System is "
        "deadlocked on memory', as nothing can free memory any more."),
    "panic_on_oom": Entry(
        "mm/oom_kill.c: check_panic_on_oom (vm.panic_on_oom = 1)",
        "With panic_on_oom=1 the kernel panics on an unconstrained OOM instead of killing ('system-wide "
        "panic_on_oom is enabled'); an OOM constrained by a cpuset, mempolicy or memcg still kills."),
    "panic_on_oom_compulsory": Entry(
        "mm/oom_kill.c: check_panic_on_oom (vm.panic_on_oom = 2)",
        "With panic_on_oom=2 the kernel panics on every OOM, memcg and cpuset ones included ('compulsory "
        "panic_on_oom is enabled')."),
}

#: Task and mm flags that matter to the OOM killer and the reaper (kernel-formats.md §6).
FLAG_GLOSSARY: dict[str, Entry] = {
    "TIF_MEMDIE": Entry(
        "mm/oom_kill.c: mark_oom_victim (oom_kill_process in 3.x)",
        "The thread is terminating because of the OOM killer; up to 4.13 it may use all memory reserves and, while "
        "set, no other victim is chosen; ≥4.14 only a marker (reserves go through signal->oom_mm); cleared by "
        "exit_oom_victim at exit (and by the 4.6–4.8 reaper)."),
    "MMF_OOM_SKIP": Entry(
        "mm/oom_kill.c: oom_reap_task; also mm/mmap.c: exit_mmap, __oom_kill_process",
        "≥4.9: the mm is of no more interest to the OOM killer, so its victim no longer blocks the choice of a new "
        "one; set when the reaper is done or gives up, at exit (exit_mmap; __mmput in 4.10–4.13), or when init "
        "shares the mm; never cleared."),
    "MMF_UNSTABLE": Entry(
        "mm/oom_kill.c: __oom_reap_task_mm",
        "≥4.9: set just before the reaper unmaps the victim's memory, so later faults on the mm get SIGBUS rather "
        "than silently zeroed pages (check_stable_address_space ≥4.14)."),
    "MMF_OOM_REAP_QUEUED": Entry(
        "mm/oom_kill.c: wake_oom_reaper / queue_oom_reaper",
        "≥5.0 (backported to 4.14.177 and 4.19.78): the mm is already on the reaper's list, so killing another "
        "thread of the same mm does not queue it twice."),
    "MMF_OOM_VICTIM": Entry(
        "mm/oom_kill.c: mark_oom_victim",
        "4.15–6.0 (backported to 4.14.177): the mm belongs to an OOM victim, so exit_mmap sets MMF_OOM_SKIP "
        "itself (4.19–6.0 after reaping its own mm) and cycles the mmap lock so a running reaper finishes first."),
    "MMF_OOM_REAPED": Entry(
        "mm/oom_kill.c: oom_reap_task (4.8 only)",
        "4.8 only: the reaper reaped the mm, or gave up on it a second time ('giving up pid:…'); the victim is then "
        "skipped. Replaced by MMF_OOM_SKIP in 4.9."),
    "MMF_OOM_NOT_REAPABLE": Entry(
        "mm/oom_kill.c: oom_reap_task (4.8 only)",
        "4.8 only: the reaper failed once on this mm; the next failure gives up and sets MMF_OOM_REAPED. Gone "
        "in 4.9."),
    "MMF_MULTIPROCESS": Entry(
        "kernel/fork.c: copy_process (CLONE_VM without CLONE_THREAD)",
        "The mm is shared by several processes (vfork, CLONE_VM), which the OOM killer must all kill before the "
        "memory can go."),
    "PF_EXITING": Entry(
        "kernel/signal.c: exit_signals (from do_exit)",
        "The task is exiting; task_will_free_mem treats it as about to free its memory, so the killer marks it a "
        "victim without killing anything else (3.x: any exiting task stops the choice of a victim)."),
    "PF_MEMALLOC": Entry(
        "include/linux/sched/mm.h: memalloc_noreclaim_save (direct reclaim, kswapd)",
        "The task is reclaiming memory: its allocations ignore the watermarks (all reserves) unless "
        "__GFP_NOMEMALLOC, and it never recurses into direct reclaim."),
    "PF_MEMALLOC_NOFS": Entry(
        "include/linux/sched/mm.h: memalloc_nofs_save (≥4.12)",
        "Allocations in this scope behave as GFP_NOFS; a global OOM is not invoked for them (out_of_memory "
        "returns early without __GFP_FS)."),
    "PF_MEMALLOC_NOIO": Entry(
        "include/linux/sched/mm.h: memalloc_noio_save",
        "Allocations in this scope behave as GFP_NOIO: reclaim may not start I/O, so it frees less."),
    "PF_KTHREAD": Entry(
        "kernel/kthread.c: kthread",
        "A kernel thread: never an OOM victim (oom_unkillable_task) and never in the task table."),
    "PF_POSTCOREDUMP": Entry(
        "fs/coredump.c: coredump_finish (≥5.17)",
        "The task's core dump is done; 6.19's hung-task report says 'Blocked by coredump.'"),
    "SIGNAL_GROUP_COREDUMP": Entry(
        "fs/coredump.c: zap_threads (≤5.16; signal->core_state after)",
        "The process is dumping core; task_will_free_mem says no, because the dumper may hold its memory a long "
        "time."),
    "SIGNAL_GROUP_EXIT": Entry(
        "kernel/signal.c: complete_signal / do_group_exit",
        "The whole process is exiting (a fatal signal); task_will_free_mem counts on its memory being freed."),
}


def context(kind: str, fields: Mapping[str, Any] | None = None) -> str:
    """The "kernel context" line for an event: ``where — what``; for a flag event, the flag's entry, for an OOM
    ending, its reason's. Plain text (any name taken from the trace passes through ``visible``), empty for an
    unknown kind."""
    if kind == "oom_end":
        reason = OOM_END_GLOSSARY.get(str((fields or {}).get("reason")))
        if reason is not None:
            return f"{reason.where} — {reason.what}"
    flag = (fields or {}).get("flag") if kind in ("flag_set", "flag_clear") else None
    if flag is not None:
        entry = FLAG_GLOSSARY.get(str(flag))
        if entry is not None:
            return f"{entry.where} — {flag}: {entry.what}"
        generic = KIND_GLOSSARY[kind]
        return f"{generic.where} — {visible(flag)}: not in oomreplay's glossary."
    entry = KIND_GLOSSARY.get(kind)
    return "" if entry is None else f"{entry.where} — {entry.what}"
