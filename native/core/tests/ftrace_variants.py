"""Synthetic ftrace inputs for ``compare_ftrace.py``, made from the corpus with a fixed seed: the same recording
shuffled within the reorder window and beyond it, with a TGID column, as ``perf script`` prints it, with
lost-event markers, CRLF ends, invalid UTF-8, a 2 MB and a 17 MB line, lines cut short, Unicode digits and
blanks, mail quoting, mutated lines; and the inputs the Python tests write inline."""

from __future__ import annotations

import random
from pathlib import Path

from oomreplay.ingest.ftrace_line import parse_line

_SYSTEMS = {"rss_stat": "kmem", "mark_victim": "oom", "wake_reaper": "oom", "start_task_reaping": "oom",
            "finish_task_reaping": "oom", "skip_task_reaping": "oom", "oom_score_adj_update": "oom",
            "contention_begin": "lock", "contention_end": "lock", "console": "printk"}


def _line(comm: str, pid: int, cpu: int, ts: str, event: str, payload: str) -> str:
    return f"{comm:>16}-{pid:<7} [{cpu:03d}] .....  {ts}: {event}: {payload}"


_MARK = ("pid=42 comm=grow total-vm=10kB anon-rss=8kB file-rss:1kB shmem-rss:0kB uid=0 pgtables=4kB "
         "oom_score_adj=0")
_KILLED = ("Memory cgroup out of memory: Killed process 42 (grow) total-vm:10kB, anon-rss:8kB, file-rss:1kB, "
           "shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0")
#: the inputs tests/test_ftrace_*.py write inline
INLINE = {
    "lost": [_line("a", 1, 0, "1.000000", "sched_process_exit", "comm=a pid=1 prio=120"), "CPU:1 [LOST 42 EVENTS]",
             _line("b", 2, 1, "1.500000", "sched_process_exit", "comm=b pid=2 prio=120")],
    "truncated": [_line("a", 1, 0, "1.000000", "sched_process_exit", "comm=a pid=1 prio=120"),
                  "           a-1       [000] ..."],
    "disorder": ["# tracer: nop", _line("a", 10, 0, "5.000300", "sched_process_exit", "comm=a pid=10 prio=120"),
                 _line("b", 11, 1, "5.000100", "sched_process_exit", "comm=b pid=11 prio=120"),
                 _line("c", 12, 0, "5.000200", "sched_process_exit", "comm=c pid=12 prio=120")],
    "console_kill": [_line("grow", 42, 0, "2.000000", "mark_victim", _MARK),
                     _line("grow", 42, 0, "2.000100", "console", _KILLED)],
    "reaper_skips_gone": [_line("alloc", 7, 0, "1.000000", "mark_victim", "pid=7"),
                          _line("alloc", 7, 0, "1.000100", "sched_process_exit",
                                "comm=alloc pid=7 prio=120 group_dead=true"),
                          _line("oom_reaper", 33, 1, "3.000000", "skip_task_reaping", "pid=7")],
    "made_up_names": [f"a.out-42 [001] ..... {100 + i}.000000: sys{i}:made_up_{i}: x=1" for i in range(1500)]
    + ["a.out-42 [001] ..... 2000.000000: oom:mark_victim: pid=42", "a.out-42 [001] ..... 2001.000000: mark_victim: pid=43"],
    "perf_columns": [
        "         python3 26878 [000] 12781.639293:          oom:mark_victim: pid=26878",
        "python3 26877/26878 [001] 12781.639276754:   signal:signal_generate: sig=9 pid=26878",
        "sched-messaging    3409 [001]  7152.904029: lock:contention_begin: 0xc00000c80904ef00 (flags=SPIN)",
        "     Web Content 77  12.000001:          1 sched:sched_process_exit: comm=x pid=77",
        "\tffffffff81595c4a mark_oom_victim+0xba ([kernel.kallsyms])", "                       0 [unknown] ([unknown])",
        "[ perf record: Captured and wrote 0.153 MB /tmp/oom2.perf (3 samples) ]",
        "[  123.456789] Memory cgroup out of memory: Killed process 5 (a) total-vm:1kB, anon-rss:1kB",
        f"            grow-42      [000] .....  2.000000: mark_victim: {_MARK}",
        f"            grow    42 [000]     2.000000:          oom:mark_victim: {_MARK}"],
    "perf_lost": ["            perf  1234 [001]  1.000000: sched:sched_process_exit: comm=a pid=7 prio=120",
                  "            perf  1234 [001]  1.100000: PERF_RECORD_LOST lost 17",
                  "Processed 2000 events and lost 3 chunks!",
                  "            perf  1234 [001]  1.200000: sched:sched_process_exit: comm=b pid=8 prio=120",
                  "            perf  1234 [001]  1.2000"],
    "merge_fixture": ["# tracer: nop", "#", "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION",
                      "#              | |         |   |||||     |         |",
                      "          oomr-x-100     [000] ...1.   100.050000: mark_victim: pid=100 comm=oomr-x "
                      "total-vm=1000kB anon-rss=500kB file-rss:0kB shmem-rss:0kB uid=0 pgtables=4kB oom_score_adj=0",
                      "          oomr-x-100     [000] d..1.   100.050010: console: " + _KILLED.replace("42", "100"),
                      "          oomr-x-100     [000] d..1.   100.050020: console: oomreplay test line that only "
                      "the console shows"],
    "line_forms": [
        "        allocate-502   [001] ....    91.836405: mark_victim: pid=502",
        "stress-33431   [001] ..... 13223.617311: reclaim_retry_zone: node=0",
        " surfaceflinger-1155  ( 1155) [001] ...1 12839.528756: x: y",
        "     Web Content-77 (-------) [002] d..2. 1.000001: x: y",
        "buf-9:   oomr-dio-alloc-10921 [001]  1560.772700: mark_victim:    pid=1",
        "CPU:0 [12 EVENTS DROPPED]", "buf: CPU:2 [LOST 7 EVENTS]", "CPU:3 [EVENTS DROPPED]", "CPU: 4 [LOST 1 EVENTS]",
        "# entries-in-buffer/entries-written: 100/1234567   #P:2",
        "  x-1 [000] 5.000000: sched_switch: a:1 [120] R ==> b:2 [120]",
        "  x-1 [000] 5.000001: lock_acquire: 0xffffffff85517f00 try read rcu_read_lock",
        "  x-1 [000] 5.000002: mmap_lock_start_locking: mm=00000000abcd memcg_path= write=true",
        "  x-1 [000] 5.000003: mmap_lock_acquire_returned: mm=00000000abcd memcg_path= write=true success=false",
        "  x-1 [000] 5.000004: mm_vmscan_direct_reclaim_begin: order=3 gfp_flags=GFP_KERNEL",
        "  x-1 [000] 5.000005: mm_vmscan_direct_reclaim_end: nr_reclaimed=12",
        "  x-1 [000] 5.000006: compact_retry: order=9 priority=COMPACT_PRIO_SYNC_LIGHT compaction_result=failed "
        "retries=0 max_retries=16 should_retry=0",
        "  x-1 [000] 5.000007: oom_score_adj_update: pid=1 comm=x oom_score_adj=-1000",
        "  x-1 [000] 5.000008: sched_process_fork: comm=x pid=1 child_comm=y child_pid=2",
        "  x-1 [000] 5.000009: sched_process_free: comm=z pid=3 prio=120",
        "  x-1 [000] 5.000010: rss_stat: mm_id=1 curr=1 type=MM_SHMEMPAGES size=-1B",
        "  x-1 [000] 5.000011: signal_generate: sig=9 errno=0 code=0 comm=y pid=2 grp=1 res=0",
        "  x-1 [000] 5.000012: rss_stat: mm_id=1 curr=1 type=MM_ANONPAGES"],
}


def _perf(line: str, fields: bool, rng: random.Random) -> str:
    rec = parse_line(line)
    if rec is None:
        return line
    ts = f"{rec.ts_ns // 10**9}.{rec.ts_ns % 10**9 // 1000:06d}" if not fields else \
        f"{rec.ts_ns // 10**9}.{rec.ts_ns % 10**9:09d}"
    event = rec.event if ":" in rec.event else f"{_SYSTEMS.get(rec.event, rec.event.split('_')[0])}:{rec.event}"
    period = f"{rng.randint(1, 9)} " if rng.random() < 0.1 else ""
    if fields:
        return f"{rec.comm} {rec.tgid or rec.pid}/{rec.pid} [{rec.cpu:03d}] {ts}: {period}{event:>30}: {rec.payload}"
    return f"{rec.comm:>16} {rec.pid:>6} [{rec.cpu:03d}] {ts}: {period}{event:>30}: {rec.payload}"


def _tgid(line: str, rng: random.Random) -> str:
    rec = parse_line(line)
    if rec is None:
        return line
    at = line.index(f"-{rec.pid}") + len(f"-{rec.pid}")
    column = "(-------)" if rng.random() < 0.2 else f"({rec.pid + rng.choice((0, 0, 1)):>7})"
    return line[:at] + " " + column + line[at:]


_PALETTE = [" ", "-", ":", "[", "]", "(", ")", ".", "0", "7", "a", "=", "\t", "\u0663", "\u3000", "\xa0", "\xb2",
            "\xe9", "\x1c", ">", "/", "kB", "B", "_", "|", "==>", "\ufffd", " prev_pid=", "curr=1 ", "lost "]


def _mutate(line: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 3)):
        op = rng.random()
        i = rng.randint(0, len(line))
        if op < 0.3 and line:
            line = line[:i] + line[i + 1:]
        elif op < 0.7:
            line = line[:i] + rng.choice(_PALETTE) + line[i:]
        elif op < 0.85 and line:
            j = rng.randint(i, min(len(line), i + 12))
            line = line[:i] + line[i:j] * 2 + line[j:]
        else:
            line = line[:i]
    return line


def _write(path: Path, lines: list[str], end: str = "\n") -> Path:
    path.write_text(end.join(lines) + end, encoding="utf-8", newline="")
    return path


def write_all(work: Path, recorded: list[Path], others: list[Path]) -> list[tuple[str, Path]]:
    rng = random.Random(16)
    out = [(f"inline/{name}", _write(work / f"inline_{name}.txt", lines)) for name, lines in INLINE.items()]
    base_path = next(p for p in recorded if "005_" in str(p))
    tracecmd = next(p for p in recorded if p.name == "trace-cmd-report.txt")
    base = base_path.read_text().splitlines()
    body = base[12:]

    shuffled = list(body)
    for start in range(0, len(shuffled), 64):
        window = shuffled[start:start + 64]
        rng.shuffle(window)
        shuffled[start:start + 64] = window
    out.append(("variant/shuffled_in_window", _write(work / "shuffled.txt", base[:12] + shuffled)))
    late = body[:200] + body[260:9000] + body[200:260] + body[9000:]
    out.append(("variant/out_of_order_beyond_window", _write(work / "late.txt", base[:12] + late)))
    out.append(("variant/tracefs_tgid", _write(work / "tgid.txt", [_tgid(x, rng) for x in base])))
    out.append(("variant/tracecmd_tgid", _write(work / "tracecmd_tgid.txt",
                                                [_tgid(x, rng) for x in tracecmd.read_text().splitlines()])))
    out.append(("variant/perf_default", _write(work / "perf_default.txt", [_perf(x, False, rng) for x in body])))
    out.append(("variant/perf_fields", _write(work / "perf_fields.txt", [_perf(x, True, rng) for x in body])))
    markers = ["CPU:1 [LOST 42 EVENTS]", "CPU:0 [12 EVENTS DROPPED]", "CPU:3 [EVENTS DROPPED]",
               "perf  1234 [001]  1.100000: PERF_RECORD_LOST lost 17", "Processed 2000 events and lost 3 chunks!",
               "buf: CPU:2 [LOST 7 EVENTS]", "  [002] PERF_RECORD_LOST_SAMPLES lost 99999999999999999999999"]
    lost = list(base)
    for k, marker in enumerate(markers):
        lost.insert(500 + 1000 * k, marker)
    out.append(("variant/lost_markers", _write(work / "lost.txt", lost)))
    out.append(("variant/crlf", _write(work / "crlf.txt", base, end="\r\n")))
    raw = bytearray()
    for k, x in enumerate(base):
        b = x.encode()
        if k % 97 == 13:
            at = rng.randint(0, len(b))
            b = b[:at] + rng.choice([b"\xff", b"\xe2\x82", b"\xc3", b"\xf0\x9f\x98", b"\x80\x80", b"\xed\xa0\x80"]) + b[at:]
        raw += b + (b"\r\n" if k % 5 == 0 else b"\n")
    raw += b"           a-1       [000] ...1.  9999.000000: rss_stat: mm_id=1 curr=1 type=MM_ANON\xe2\x82\r"
    (work / "utf8.txt").write_bytes(bytes(raw))
    out.append(("variant/invalid_utf8", work / "utf8.txt"))
    long = list(base)
    long.insert(3000, long[3000] + " junk=" + "x" * (2 << 20))
    long.insert(4000, "\u0663" * (1 << 20))
    out.append(("variant/2mb_lines", _write(work / "long.txt", long)))
    huge = base[:300] + ["y" * (17 << 20)] + base[300:600]
    (work / "huge.txt").write_bytes("\n".join(huge).encode())  # and no newline at the end
    out.append(("variant/17mb_line_cut", work / "huge.txt"))
    cut = [x[:rng.randint(0, len(x))] if rng.random() < 0.01 else x for x in base]
    cut[-1] = cut[-1][:40]
    out.append(("variant/truncated", _write(work / "cut.txt", cut)))
    uni = [x.replace("[000]", "[\u0660\u0660\u0660]").replace("  ", "\u3000 ", 1) if k % 7 == 0 else
           x.replace("-", "-\u0663", 1) if k % 11 == 0 else x.replace(" ", "\xa0", 2) if k % 13 == 0 else x
           for k, x in enumerate(base)]
    out.append(("variant/unicode_columns", _write(work / "unicode.txt", uni)))
    quoted = [("> " if k % 2 else ">>\t> ") + x for k, x in enumerate(base[:3000])]
    out.append(("variant/mail_quoted", _write(work / "quoted.txt", quoted)))
    pool = [x for p in [*recorded, *others] for x in p.read_text(errors="replace").splitlines()]
    pool += [x for lines in INLINE.values() for x in lines]
    mutated = [_mutate(rng.choice(pool)[:600], rng) for _ in range(30000)]
    out.append(("variant/mutated_lines", _write(work / "mutated.txt", mutated)))
    # every kernel log of the corpus printed on the console of the recording: reports the kernel-log parser reads
    logs = sorted(Path("/work/shared/corpus/logs").glob("*.log")) + [p.parent / "dmesg.txt" for p in recorded
                                                                     if (p.parent / "dmesg.txt").is_file()]
    for log in logs:
        text = log.read_text(errors="replace").splitlines()
        mixed, k = list(base[:12]), 0
        for n, x in enumerate(body[:3 * len(text) + 40]):
            mixed.append(x)
            rec = parse_line(x)
            if n % 3 == 2 and k < len(text) and rec is not None:
                mixed.append(_line("kworker/0:1", 17, 1, f"{rec.ts_ns // 1000 // 10**6}.{rec.ts_ns // 1000 % 10**6:06d}",
                                   "console", text[k]))
                k += 1
        out.append((f"console/{log.parent.name}/{log.name}", _write(work / f"console_{len(out)}.txt", mixed)))
    return out
