"""The OOM killer's own lines, every historical variant (kernel-formats.md §1): header, dump_stack's CPU line,
kill lines, the one-line summary, the task table, the reaper, and the Android low-memory killers.

Each function takes a message (prefixes already gone, surrounding blanks stripped) and returns its fields, or None
when the line is not of that family. They hold no state; ``LogConverter`` ties lines together. Every pattern
accepts a line cut short (a pager, a paste): fields past the cut are simply absent.
"""

from __future__ import annotations

import re
from typing import Any

Fields = dict[str, Any]

#: Every message a function here accepts starts with one of ``STARTS`` or contains one of ``MARKS`` (the guards
#: each function tests first); ``LogConverter`` tries the families only on such messages.
STARTS = ("CPU: ", "Pid: ", "oom_reaper: ", "oom-kill:", "lowmemorykiller: ", "lmkd: ", "[")
MARKS = ("invoked oom-killer", "Kill process", "Killed process", "is already exiting", "pending SIGKILL",
         "no killable processes", "deadlocked on memory", "panic_on_oom is enabled")

_INVOKE = re.compile(r"(?P<comm>.*?) invoked oom-killer: gfp_mask=(?P<gfp>0x[0-9a-fA-F]+(?:\([^)]*\)?)?)?")
_ORDER = re.compile(r"\border=(-?\d+)")
_SCORE_ADJ = re.compile(r"\boom_score_adj=(-?\d+)")
_NODEMASK = re.compile(r"\bnodemask=([^,\s]*)")
#: a distro form prints "comm:pid invoked oom-killer"; kernel threads with ':' in their name all contain '/'
_COMM_PID = re.compile(r"([^/]+):(\d+)")
_CPU = re.compile(r"CPU: \d+ (?:UID: \d+ )?PID: (?P<pid>\d+) Comm: (?P<comm>.{1,20}?)"
                  r"(?: (?:Not tainted|Tainted:|Kdump:)|$)")
_OLD_PID = re.compile(r"Pid: (?P<pid>\d+), comm: (?P<comm>.{1,20}?)(?: (?:Not tainted|Tainted:)|$)")
_KERNEL_VERSION = re.compile(r"ainted(?::[^\d]*)?\s+(\d+\.\d+[\w.+~-]*)")
_CHOSEN = re.compile(r"(?:(?P<msg>.*?): )?Kill process (?P<pid>\d+) \((?P<comm>.*)\) score (?P<score>-?\d+)"
                     r" (?:or sacrifice child|and children)")
_SHARING = re.compile(r"Kill process (?P<pid>\d+) \((?P<comm>.*)\) sharing same memory")
_KILLED = re.compile(r"(?:(?P<msg>.*?): )?Killed process (?P<pid>\d+)"
                     r"(?: \((?P<comm>.*)\)(?:,? (?=total-vm|UID)|\.?\s*$))?")
_KILL_KB = re.compile(r"(total-vm|anon-rss|file-rss|shmem-rss|pgtables):(\d+)kB")
_KILL_UID = re.compile(r"\bUID[: ](\d+)")
_KILL_ADJ = re.compile(r"\boom_score_adj:(-?\d+)")
_KB_FIELD = {"total-vm": "total_vm_kb", "anon-rss": "anon_rss_kb", "file-rss": "file_rss_kb",
             "shmem-rss": "shmem_rss_kb", "pgtables": "pgtables_kb"}
_REAPED = re.compile(r"oom_reaper: reaped process (?P<pid>\d+) \((?P<comm>.*?)\)(?:, now |\s*$)")
_UNABLE = re.compile(r"oom_reaper: (?:unable to reap|giving up) pid:(?P<pid>\d+)(?: \((?P<comm>.*)\))?")
_NOW_KB = re.compile(r"(anon-rss|file-rss|shmem-rss):(\d+)kB")
_VICTIM_EXITING = re.compile(r"OOM victim (?P<pid>\d+) \((?P<comm>.*)\) is already exiting")
_PENDING_SIGKILL = re.compile(r"Current \((?P<pid>\d+)\) has a pending SIGKILL")
_LMK_KERNEL = re.compile(r"lowmemorykiller: Killing '(?P<comm>.*)' \((?P<pid>\d+)\)(?:, adj (?P<adj>-?\d+))?")
_LMKD = re.compile(r"(?:lowmemorykiller|lmkd): Kill '(?P<comm>.*)' \((?P<pid>\d+)\)(?:, uid (?P<uid>\d+))?"
                   r"(?:, oom_score_adj (?P<adj>-?\d+))?")
_PANIC = "Kernel panic - not syncing: "
_PANIC_ON_OOM = re.compile(r"Out of memory: (system-wide|compulsory) panic_on_oom is enabled")
TABLE_ROW = re.compile(r"\[\s*(\d+)\]\s+(.*)")
#: A stack frame: ``fn+0x1f/0x80`` after up to two addresses (x86 ``[<addr>]``, powerpc ``[sp] [pc]``, s390 in
#: parentheses), an ARM frame ``fn from caller+0x…`` (≥5.x; before, ``(fn+0x0/0x10c) from …`` or ``(fn) from …``),
#: or a frame decoded by decode_stacktrace.sh, ``fn (mm/oom_kill.c:462)``; ``?`` marks a guess of the unwinder.
_FRAME = re.compile(r"\(?(?:\[<?[0-9a-fA-F]+>?\]\s*){0,2}(?P<unsure>\?\s+)?\(?(?P<fn>[A-Za-z_][\w.$]*)"
                    r"(?:\+0x[0-9a-fA-F]+/0x[0-9a-fA-F]+|\)? from | \([^()\s]+\.[chS]:\d+)")
#: Register lines printed inside a dump (``r6:000200da r5:00000000``, ``RAX: 0000000000000000 RBX: …``).
_REGISTERS = re.compile(r"(?:[A-Za-z0-9]{1,4}: ?[0-9a-fA-F]{8,16}\s*){2,}")
#: Lines a stack dump prints around its frames.
_STACK_CONTEXT = ("Hardware name:", "Call Trace:", "Call trace:", "Backtrace:", "<TASK>", "</TASK>", "<IRQ>", "</IRQ>",
                  "Workqueue:", "RIP:", "RSP:", "RAX:", "RDX:", "RBP:", "R10:", "R13:", "Code:", "Exception stack",
                  "Stack:", "Function entered at")
#: task-table header column -> oom_candidate field (pages, except pgtables_bytes)
_COLUMNS = {"uid": "uid", "tgid": "tgid", "total_vm": "total_vm_pages", "rss": "rss_pages",
            "pgtables_bytes": "pgtables_bytes", "swapents": "swapents", "oom_score_adj": "oom_score_adj"}


def invoke(msg: str) -> Fields | None:
    """``"%s invoked oom-killer: gfp_mask=…, [nodemask=…,] order=%d, oom_score_adj=%hd"`` (2.6 prints oom_adj)."""
    if "invoked oom-killer" not in msg:
        return None
    m = _INVOKE.match(msg)
    if m is None:
        return None
    f: Fields = {"comm": m.group("comm"), "gfp": m.group("gfp")}
    rest = msg[m.end():]
    for name, rx in (("order", _ORDER), ("oom_score_adj", _SCORE_ADJ)):
        found = rx.search(rest)
        if found:
            f[name] = int(found.group(1))
    nodemask = _NODEMASK.search(rest)
    if nodemask:
        f["nodemask"] = nodemask.group(1)
    split = _COMM_PID.fullmatch(f["comm"])
    if split:
        f["comm"], f["pid"] = split.group(1), int(split.group(2))
    return f


def cpu_line(msg: str) -> Fields | None:
    """dump_stack's ``CPU: n [UID: u] PID: p Comm: c …`` (2.6: ``Pid: p, comm: c``): who is running."""
    if not (msg.startswith("CPU: ") or msg.startswith("Pid: ")):
        return None
    m = _CPU.match(msg) or _OLD_PID.match(msg)
    if m is None:
        return None
    f: Fields = {"pid": int(m.group("pid")), "comm": m.group("comm")}
    version = _KERNEL_VERSION.search(msg, m.end("comm"))
    if version:
        f["kernel"] = version.group(1)
    return f


def stack_line(msg: str) -> str | None:
    """A line of a stack dump: the function of a reliable frame, ``""`` for a line of the dump without one (a
    header, a register line, a frame the unwinder only guessed, marked ``?``), None for a line after the dump."""
    if msg.startswith(_STACK_CONTEXT) or _REGISTERS.match(msg):
        return ""
    m = _FRAME.match(msg)
    if m is None:
        return None
    return "" if m.group("unsure") else m.group("fn")


def chosen(msg: str) -> Fields | None:
    """``"%s: Kill process %d (%s) score %u or sacrifice child"``: the victim picked; a child may die instead."""
    if "Kill process" not in msg:
        return None
    m = _CHOSEN.match(msg)
    if m is None:
        return None
    return {"pid": int(m.group("pid")), "comm": m.group("comm"), "points": int(m.group("score")),
            "message": m.group("msg")}


def sharing(msg: str) -> Fields | None:
    """3.x: ``"Kill process %d (%s) sharing same memory"``, another process killed with the victim."""
    m = _SHARING.match(msg) if "sharing same memory" in msg else None
    return {"pid": int(m.group("pid")), "comm": m.group("comm")} if m else None


def killed(msg: str) -> Fields | None:
    """Every ``Killed process`` form: 2.4 ``Out of Memory: Killed process N (c).``, 3.x-5.0 bare, 5.x+ with the
    message, RHEL 7 ``(c), UID n, total-vm…``. The comm may be missing (a line wrapped after the pid)."""
    if "Killed process" not in msg:
        return None
    m = _KILLED.match(msg)
    if m is None:
        return None
    f: Fields = {"pid": int(m.group("pid")), "comm": m.group("comm"), "message": m.group("msg")}
    rest = msg[m.end():]
    for key, value in _KILL_KB.findall(rest):
        f[_KB_FIELD[key]] = int(value)
    uid = _KILL_UID.search(rest)
    if uid:
        f["uid"] = int(uid.group(1))
    adj = _KILL_ADJ.search(rest)
    if adj:
        f["oom_score_adj"] = int(adj.group(1))
    return f


def reaper(msg: str) -> Fields | None:
    """``oom_reaper: reaped process …, now anon-rss:…`` / ``unable to reap pid:…`` (4.8: ``giving up pid:``)."""
    if not msg.startswith("oom_reaper: "):
        return None
    m = _REAPED.match(msg)
    if m:
        f: Fields = {"pid": int(m.group("pid")), "comm": m.group("comm"), "outcome": "reaped"}
        for key, value in _NOW_KB.findall(msg, m.end()):
            f[_KB_FIELD[key]] = int(value)
        return f
    m = _UNABLE.match(msg)
    if m:
        return {"pid": int(m.group("pid")), "comm": m.group("comm"), "outcome": "unable"}
    return None


def victim_without_kill(msg: str) -> Fields | None:
    """A task made a victim with no kill line: already exiting (≥5.10) or, on some distro kernels, current with
    a pending SIGKILL."""
    m = None
    if "is already exiting" in msg:
        m = _VICTIM_EXITING.search(msg)
    elif "pending SIGKILL" in msg:
        m = _PENDING_SIGKILL.search(msg)
    if m is None:
        return None
    return {"pid": int(m.group("pid")), "comm": m.groupdict().get("comm")}


def ending(msg: str) -> Fields | None:
    """An invocation ending without a kill (§1.8): ``Out of memory and no killable processes...`` (a panic up to
    4.15; ≥4.19 a warning, followed for a global OOM by the panic ``System is deadlocked on memory``) and the
    panic_on_oom panic, ``system-wide`` (sysctl 1, an unconstrained OOM) or ``compulsory`` (sysctl 2, any OOM).
    The panic's own prefix is optional for the messages only a panic prints (a console may cut it); the texts
    must be whole, so a wording the kernel never printed stays not understood, for ``--report``."""
    panic = msg.startswith(_PANIC)
    text = (msg[len(_PANIC):] if panic else msg).rstrip(". ")
    if text == "Out of memory and no killable processes":
        return {"outcome": "panic" if panic else "no_killable", "reason": "no_killable"}
    if text == "System is deadlocked on memory":
        return {"outcome": "panic", "reason": "deadlocked"}
    m = _PANIC_ON_OOM.fullmatch(text)
    if m is None:
        return None
    return {"outcome": "panic", "reason": "panic_on_oom" if m.group(1) == "system-wide" else "panic_on_oom_compulsory"}


def summary(msg: str) -> Fields | None:
    """≥5.0 ``oom-kill:constraint=…,nodemask=…[,cpuset=…],oom_memcg=…|global_oom,…,task=…,pid=…``."""
    if not msg.startswith("oom-kill:"):
        return None
    f: Fields = {}
    for part in msg[len("oom-kill:"):].split(","):
        key, sep, value = part.partition("=")
        if sep:
            f[key.strip()] = value
        elif part == "global_oom":
            f["global_oom"] = True
    if "pid" in f:
        try:
            f["pid"] = int(f["pid"])
        except ValueError:
            del f["pid"]
    return f


def lmk_kill(msg: str) -> Fields | None:
    """Android: the in-kernel lowmemorykiller's ``Killing '%s' (%d), adj %hd,`` and lmkd's ``Kill '%s' (%d), …``."""
    if not msg.startswith(("lowmemorykiller: ", "lmkd: ")):
        return None
    m = _LMK_KERNEL.match(msg) or _LMKD.match(msg)
    if m is None:
        return None
    f: Fields = {"pid": int(m.group("pid")), "comm": m.group("comm")}
    if m.group("adj") is not None:
        f["oom_score_adj"] = int(m.group("adj"))
    if m.groupdict().get("uid") is not None:
        f["uid"] = int(m.group("uid"))
    return f


def table_header(msg: str) -> list[str] | None:
    """The task table's column names after ``[ pid ]``, in any layout from 3.10 to 6.x (§1.5)."""
    if not msg.startswith("[") or "tgid" not in msg or "total_vm" not in msg:
        return None
    _, sep, rest = msg.partition("]")
    columns = rest.split()
    return columns if sep and columns and columns[-1] == "name" else None


def table_row(msg: str, columns: list[str]) -> Fields | None:
    """One task-table row under ``columns``; the name is the rest of the line (a comm may hold spaces)."""
    m = TABLE_ROW.match(msg)
    if m is None:
        return None
    numeric = len(columns) - 1
    parts = m.group(2).split(None, numeric)
    if len(parts) < numeric:
        return None
    values: dict[str, int] = {}
    for name, text in zip(columns[:numeric], parts):
        try:
            values[name] = int(text)
        except ValueError:
            return None
    f: Fields = {"pid": int(m.group(1)), "comm": parts[numeric] if len(parts) > numeric else None}
    for name, value in values.items():
        if name in _COLUMNS:
            f[_COLUMNS[name]] = value
    if "pgtables_bytes" not in f and "nr_ptes" in values:
        # ≤4.14 counts page-table pages; bytes assume 4 KiB pages, so the field is marked inferred
        f["pgtables_bytes"] = (values["nr_ptes"] + values.get("nr_pmds", 0)) * 4096
    return f
