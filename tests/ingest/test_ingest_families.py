"""Each message family, in its historical variants and cut mid-field, through the native log reader."""

from __future__ import annotations

from oomreplay.model import Event

from .readers import read_log


def run(*lines: str) -> list[Event]:
    return read_log(lines)[0]


def kinds(events: list[Event], *wanted: str) -> list[Event]:
    return [e for e in events if e.kind in wanted]


def test_header_variants_and_invoker_pid_from_cpu_line():
    evs = run("[ 1.0] kworker/2:1 invoked oom-killer: gfp_mask=0xd0, order=0, oom_score_adj=0",
              "[ 1.1] kworker/2:1 cpuset=/ mems_allowed=0",
              "[ 1.2] CPU: 2 PID: 14808 Comm: kworker/2:1 Not tainted 3.10.0-693.el7.x86_64 #1")
    (inv,) = kinds(evs, "oom_invoke")
    assert (inv.pid, inv.get("comm"), inv.get("gfp"), inv.get("order"), inv.get("oom_score_adj")) == \
        (14808, "kworker/2:1", "0xd0(GFP_KERNEL)", 0, 0)
    assert "gfp" in inv.inferred  # a bare 3.x mask, named by deduction
    assert [e.src.line for e in evs] == [1, 2, 3], "held events keep line order"


def test_header_of_4_14_with_two_spaces_and_6_x_uid_cpu_line():
    evs = run("a.out invoked oom-killer: gfp_mask=0x14200ca(GFP_HIGHUSER_MOVABLE), nodemask=(null),  order=2, "
              "oom_score_adj=-900", "CPU: 10 UID: 1000 PID: 20957 Comm: a.out Not tainted 6.17.3 #1")
    (inv,) = kinds(evs, "oom_invoke")
    assert (inv.pid, inv.get("order"), inv.get("oom_score_adj")) == (20957, 2, -900)


def test_2_6_header_has_no_oom_score_adj_and_old_pid_line():
    evs = run("apt-check invoked oom-killer: gfp_mask=0x201da, order=0, oom_adj=0",
              "Pid: 23105, comm: apt-check Tainted: G    B   W  2.6.30 #11")
    (inv,) = kinds(evs, "oom_invoke")
    assert inv.pid == 23105 and inv.get("oom_score_adj") is None


def test_header_without_cpu_line_has_no_pid_and_header_cut_mid_field():
    evs = run("x invoked oom-killer: gfp_mask=0x24280ca(GFP_HIGHUSER_MOV", " oom_kill_process+0x188/0x190")
    (inv,) = kinds(evs, "oom_invoke")
    assert inv.pid is None and inv.get("gfp") == "0x24280ca(GFP_HIGHUSER_MOV" and inv.get("order") is None


def test_sacrifice_child_kills_the_child_with_its_parent():
    evs = run("Out of memory: Kill process 10553 (idle-priority) score 640 or sacrifice child",
              "Killed process 11527 (normal-priority) total-vm:4556kB, anon-rss:304kB, file-rss:4kB, shmem-rss:0kB")
    (kill,) = kinds(evs, "oom_kill")
    assert (kill.pid, kill.get("comm"), kill.get("parent"), kill.get("anon_rss_kb")) == \
        (11527, "normal-priority", 10553, 304)
    (memdie,) = kinds(evs, "flag_set")
    assert memdie.pid == 11527 and memdie.get("flag") == "TIF_MEMDIE" and memdie.inferred == {"flag"}


def test_kill_line_variants():
    lines = ["Out of Memory: Killed process 475 (identd).",
             "Killed process 21945 (tidb-server), UID 1000, total-vm:33027492kB, anon-rss:31303276kB",
             "Out of memory: Killed process 348 (polkitd) total-vm:78084kB, anon-rss:2980kB, file-rss:8148kB, "
             "shmem-rss:0kB, UID:998 pgtables:64kB oom_score_adj:0",
             "Memory cgroup out of memory: Killed process 26865 (php-fpm7) total-vm:367860kB, anon-rss:177544kB",
             "Memory cgroup out of memory: Killed process 559437 (python3) total-vm:928840kB, shmem-rs>",
             "Killed process 7 (a (b)) total-vm:1kB"]
    kills = kinds(run(*lines), "oom_kill")
    assert [(k.pid, k.get("comm")) for k in kills] == [(475, "identd"), (21945, "tidb-server"), (348, "polkitd"),
                                                      (26865, "php-fpm7"), (559437, "python3"), (7, "a (b)")]
    assert kills[1].get("uid") == 1000 and kills[2].get("pgtables_kb") == 64 and kills[2].get("uid") == 998
    assert kills[3].get("constraint") == "CONSTRAINT_MEMCG" and "constraint" in kills[3].inferred


def test_kill_wrapped_after_the_pid_takes_its_comm_from_the_next_line():
    evs = run("Mar 11 18:24:30 monster kernel: Out of Memory: Killed process 11300", "(run-parts).")
    (kill,) = kinds(evs, "oom_kill")
    assert kill.get("comm") == "run-parts"
    assert sorted(e.src.line for e in evs) == [1, 1, 2]


def test_summary_line_gives_the_kill_its_memcg_and_constraint():
    evs = run("oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/job,"
              "task_memcg=/job/a,task=oomr,pid=5279,uid=0",
              "Memory cgroup out of memory: Killed process 5279 (oomr) total-vm:1kB")
    (kill,) = kinds(evs, "oom_kill")
    assert kill.get("memcg") == "/job" and kill.get("constraint") == "CONSTRAINT_MEMCG" and not kill.inferred


def test_reaper_lines():
    evs = run("oom_reaper: reaped process 348 (polkitd), now anon-rss:0kB, file-rss:0kB, shmem-rss:4kB",
              "oom_reaper: unable to reap pid:3163 (a.out)", "oom_reaper: reaped process 9 (cut), now anon-r")
    done = kinds(evs, "reaper_done")
    assert [(d.pid, d.get("outcome")) for d in done] == [(348, "reaped"), (3163, "unable"), (9, "reaped")]
    assert done[0].get("shmem_rss_kb") == 4
    attempts = kinds(evs, "reaper_attempt")
    # no kernel named: a failed round may be the mm lock or (from 4.19) an MMU notifier, and the flag the reaper
    # sets depends on the version (none on 4.6, MMF_OOM_REAPED on 4.7-4.8, MMF_OOM_SKIP from 4.9): none inferred
    assert [a.get("outcome") for a in attempts] == ["reaped", "failed", "reaped"]
    assert [a.get("n") for a in attempts][1] == 10 and "n" in attempts[1].inferred
    assert not [e for e in kinds(evs, "flag_set") if e.get("flag") == "MMF_OOM_SKIP"]


def test_lockdep_formats():
    evs = run("3 locks held by kworker/u128:31/387:",
              " #0:  (\"writeback\"){.+.+.+}, at: [<ffffffff9f08ddcc>] process_one_work+0x1fc/0x480",
              " #1:  ((&(&wb->dwork)->work)){+.+.+.}, at: [<ffffffff9f08ddcc>] process_one_work+0x1fc/0x480",
              " #2: 00000000b4432d13 (&mm->mmap_sem/1){+.+.}, at: copy_process.part.56+0x2408/0x6c80",
              "1 lock held by a.out/5:",
              " #0: ffff88807597afd8 (&mm->mmap_lock){++++}-{3:3}, at: vm_mmap_pgoff+0x158/0x3b0",
              " #1: ffff88807597afd8 (cut{++",
              "-> #0 (&mm->mmap_lock#2){++++}-{3:3}:")
    held = kinds(evs, "lock_held")
    assert [(h.pid, h.get("comm"), h.get("index"), h.get("lock")) for h in held] == [
        (387, "kworker/u128:31", 0, '"writeback"'), (387, "kworker/u128:31", 1, "(&(&wb->dwork)->work)"),
        (387, "kworker/u128:31", 2, "&mm->mmap_sem/1"), (5, "a.out", 0, "&mm->mmap_lock")]
    assert held[0].get("site") == "process_one_work+0x1fc/0x480"


def test_zone_lines_and_lowmem_reserve():
    evs = run("Node 0 DMA32 free:3231692kB min:13988kB low:17484kB high:20980kB active_anon:22544kB "
              "present:3345344kB managed:3268396kB mlocked:0kB",
              "lowmem_reserve[]: 0 0 12511 12511",
              "Normal free:44684kB boost:0kB min:44696kB low:55868kB high:67040kB reserved_highatomic:0KB",
              "DMA free:8084kB min:35")
    zones = kinds(evs, "zone")
    assert zones[0].fields == {"node": 0, "zone": "DMA32", "free_kb": 3231692, "min_kb": 13988, "low_kb": 17484,
                               "high_kb": 20980, "managed_kb": 3268396}
    assert zones[1].get("lowmem_reserve_kb") == (0, 0, 50044, 50044) and "lowmem_reserve_kb" in zones[1].inferred
    assert zones[2].get("min_kb") == 44696 and zones[2].inferred == {"node"}
    assert zones[3].get("free_kb") == 8084 and zones[3].get("min_kb") is None


def test_memcg_v1_and_v2():
    v1 = run("Task in /a killed as a result of limit of /lim", "memory: usage 101716kB, limit 102400kB, failcnt 30881")
    assert kinds(v1, "memcg")[0].fields == {"path": "/lim", "usage_kb": 101716, "limit_kb": 102400, "failcnt": 30881}
    v2 = run("memory: usage 432kB, limit 0kB, failcnt 27", "swap: usage 0kB, limit 9007199254740988kB, failcnt 0",
             "Memory cgroup stats for /syz1:", "anon 122880")
    (cg,) = kinds(v2, "memcg")
    assert cg.get("path") == "/syz1" and [e.src.line for e in v2] == [1, 2, 3, 4]


def test_task_table_layouts():
    old = run("[ pid ]   uid  tgid total_vm      rss nr_ptes swapents oom_score_adj name",
              "[  411]     0   411     9499     2021      22        0             0 systemd-journal")
    new = run("[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents "
              "oom_score_adj name",
              "[    156]     0   156   153531   153345   153345        0         0  1269760        0     -5 DOM Worker",
              "[    157]     0   15")
    (a,) = kinds(old, "oom_candidate")
    assert (a.pid, a.get("rss_pages"), a.get("pgtables_bytes"), a.get("comm")) == (411, 2021, 22 * 4096,
                                                                                    "systemd-journal")
    assert "pgtables_bytes" in a.inferred
    (b,) = kinds(new, "oom_candidate")
    assert (b.pid, b.get("pgtables_bytes"), b.get("oom_score_adj"), b.get("comm")) == (156, 1269760, -5, "DOM Worker")
    assert new[-1].kind == "log"


def test_alloc_stall_and_failure():
    evs = run("DOM Worker: page allocation stalls for 10646ms, order:0, mode:0x24280ca(GFP_HIGHUSER_MOVABLE)",
              "CPU: 0 PID: 30909 Comm: DOM Worker Not tainted 4.9.13 #5",
              "kswapd0: page allocation failure: order:0, mode:0x820(GFP_ATOMIC), nodemask=(null)")
    a, b = kinds(evs, "alloc")
    assert (a.pid, a.get("outcome"), a.get("duration_ns"), a.get("order")) == (30909, "stall", 10_646_000_000, 0)
    assert (b.pid, b.get("outcome"), b.get("gfp")) == (None, "fail", "0x820(GFP_ATOMIC)")


def test_task_dumps():
    evs = run("systemd-udevd   R  running task    27168   132    128 0x80100004",
              "kworker/u16:28  D10872   436      2 0x80000000",
              "task:kworker/u33:0   state:D stack:12680 pid:    7 ppid:     2 flags:0x00004000",
              "INFO: task kworker/u16:28:436 blocked for more than 120 seconds.")
    states = [(e.pid, e.get("comm"), e.get("state")) for e in kinds(evs, "task_state")]
    assert states == [(132, "systemd-udevd", "R"), (436, "kworker/u16:28", "D"), (7, "kworker/u33:0", "D"),
                      (436, "kworker/u16:28", "D")]


def test_android_low_memory_killers():
    evs = run("<6>lowmemorykiller: Killing 'd.play.games.ui' (2613), adj 1000,",
              "10-24 14:24:26.342   710   710 I lowmemorykiller: Kill 'com.google.android.gms.unstable' (17933), "
              "uid 10446, oom_score_adj 0 to free 140528kB rss")
    assert [(k.pid, k.get("comm")) for k in kinds(evs, "oom_kill")] == [
        (2613, "d.play.games.ui"), (17933, "com.google.android.gms.unstable")]


def test_victim_without_kill_line():
    """5.10+'s ``oom_kill_process`` on a task already exiting: it has no mm left, so nothing is marked (no
    TIF_MEMDIE, no victim pending): a skipped candidate."""
    evs = run("Out of memory: OOM victim 12 (x) is already exiting. Skip killing the task")
    assert [(e.kind, e.pid) for e in evs] == [("task", 12)]


def test_unknown_lines_are_log_events_with_their_text():
    evs = run("[ 1.0] eth0: link up", "random \x1b[31m text")
    assert [(e.kind, e.get("text")) for e in evs] == [("log", "eth0: link up"), ("log", "random \x1b[31m text")]


def test_call_trace_frames_are_attached_to_the_invocation():
    """The reliable frames of every stack layout, ``?`` guesses and register lines left out, in order."""
    x86 = run("[ 9.0] cc1 invoked oom-killer: gfp_mask=0x6200ca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0",
              "[ 9.1] CPU: 1 PID: 77 Comm: cc1 Not tainted 4.19.0 #1",
              "[ 9.1] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996)",
              "[ 9.1] Call Trace:",
              "[ 9.1]  dump_stack+0x5c/0x80",
              "[ 9.1]  ? ___ratelimit+0x1d1/0x3c5",
              "[ 9.1]  out_of_memory+0x287/0x800",
              "[ 9.1]  __alloc_pages_slowpath+0xaf4/0xba0",
              "[ 9.1]  handle_mm_fault+0xc0/0x104",
              "[ 9.1] RIP: 0033:0x7f1e",
              "[ 9.1] RAX: 0000000000000000 RBX: 00007ffd1234abcd RCX: 0000000000000001",
              "[ 9.2] Mem-Info:")
    (inv,) = kinds(x86, "oom_invoke")
    assert inv.pid == 77
    assert inv.get("stack") == ("dump_stack", "out_of_memory", "__alloc_pages_slowpath", "handle_mm_fault")
    assert [e.src.line for e in x86] == list(range(1, 13)), "every line once, in order"
    old = run("[ 1.0] a.out invoked oom-killer: gfp_mask=0x201da, order=0, oom_score_adj=0",
              "[ 1.0] Pid: 3163, comm: a.out Not tainted 2.6.32 #1",
              "[ 1.0] Call Trace:",
              "[ 1.0]  [<ffffffff810b984e>] oom_kill_process+0x17e/0x290",
              "[ 1.0]  [<ffffffff810b9e0b>] ? select_bad_process+0x8b/0x110",
              "[ 1.0]  [<ffffffff810bc5a3>] __alloc_pages_nodemask+0x623/0x640",
              "[ 1.0] Mem-Info:")
    assert kinds(old, "oom_invoke")[0].get("stack") == ("oom_kill_process", "__alloc_pages_nodemask")
    arm = run("[ 5.0] osmcore invoked oom-killer: gfp_mask=0x200da, order=0, oom_adj=-17, oom_score_adj=-1000",
              "[ 5.0] Backtrace: ",
              "[ 5.0] [<c005c174>] (dump_backtrace+0x0/0x10c) from [<c05d4624>] (dump_stack+0x18/0x1c)",
              "[ 5.0]  r6:000200da r5:00000000 r4:c3ada000 r3:00000000",
              "[ 5.0] [<c0104540>] (out_of_memory+0x0/0x348) from [<c0107dbc>] (__alloc_pages_nodemask+0x748/0x76c)",
              "[ 5.1] Mem-info:")
    assert kinds(arm, "oom_invoke")[0].get("stack") == ("dump_backtrace", "out_of_memory")
    decoded = run("[ 7.0] trinity invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, "
                  "oom_score_adj=500",
                  "[ 7.0] CPU: 0 PID: 1269 Comm: trinity Not tainted 5.10.0-rc1 #1",
                  "[ 7.0] Call Trace:",
                  "[ 7.0] dump_stack (lib/dump_stack.c:120) ",
                  "[ 7.0] ? oom_badness (mm/oom_kill.c:514) ",
                  "[ 7.0] out_of_memory (mm/oom_kill.c:1115 mm/oom_kill.c:1047) ",
                  "[ 7.1] Tasks state (memory values in pages):")
    assert kinds(decoded, "oom_invoke")[0].get("stack") == ("dump_stack", "out_of_memory")
    modern_arm = run("[ 3.0] stress invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
                     "[ 3.0] CPU: 0 PID: 91 Comm: stress Not tainted 6.1.0 #1",
                     "[ 3.0]  unwind_backtrace from show_stack+0x10/0x14",
                     "[ 3.0]  oom_kill_process from out_of_memory+0x218/0x34c",
                     "[ 3.0] [<c010c1c4>] (__alloc_pages) from [<c0109a3c>] (do_page_fault+0x10/0x14)",
                     "[ 3.1] Mem-Info:")
    assert kinds(modern_arm, "oom_invoke")[0].get("stack") == ("unwind_backtrace", "oom_kill_process", "__alloc_pages")
    other = run("[ 4.0] dd invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
                "[ 4.0] Call Trace:",
                "[ 4.0] [c0000000fe5e3a10] [c000000000b6c3d8] dump_stack+0xc4/0x114 (unreliable)",  # powerpc
                "[ 4.0] ([<000000000011410e>] show_stack+0x8e/0xd0)",  # s390
                "[ 4.1] Mem-Info:")
    assert kinds(other, "oom_invoke")[0].get("stack") == ("dump_stack", "show_stack")


def test_report_lines_not_understood_are_collected_for_the_report():
    """A variant no family knows, inside an OOM report or a block, is kept as a log line and listed for --report;
    lines a family understood without an event of their own (the chosen victim, the task table's header) are not."""
    lines = ["[ 1.0] Out of memory: Kill process 7 (a.out) score 900 or sacrifice child",
             "[ 1.0] Killed process 7 (a.out) total-vm:100kB, anon-rss:50kB, file-rss:0kB, shmem-rss:0kB",
             "[ 1.1] [ pid ]   uid  tgid total_vm      rss nr_ptes swapents oom_score_adj name",
             "[ 1.1] [  7]     0     7      100       50       3        0             0 a.out",
             "[ 1.1] [  8]  broken row",
             "[ 1.2] 1 lock held by khugepaged/63:",
             "[ 1.2]  #0: garbled",
             "[ 1.3] Out of memory and no killable processes, in a wording from the future",
             "[ 1.4] an ordinary line"]
    evs, conv = read_log(lines)
    assert conv.unparsed == [(5, "[  8]  broken row"), (7, "#0: garbled"),
                             (8, "Out of memory and no killable processes, in a wording from the future")]
    assert conv.unparsed_count == 3
    assert [e.src.line for e in evs if e.kind == "log"][-4:] == [5, 7, 8, 9], "still kept as log lines"
