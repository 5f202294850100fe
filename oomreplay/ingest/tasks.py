"""Task dumps: ``sched_show_task`` lines (SysRq-t, hung tasks, the reaper's "unable to reap") and the hung-task
warning (kernel-formats.md §4.2, §4.3). Each names a task and its scheduler state letter."""

from __future__ import annotations

import re
from typing import Any

Fields = dict[str, Any]

#: What every message a function here accepts starts with or contains (see ``oom.STARTS``).
STARTS = ("task:", "INFO: task ")
MARKS = (" 0x",)

#: 5.10+: ``task:%-15.15s state:%c … pid:%d``
_TASK_NEW = re.compile(r"task:(?P<comm>.{1,15}?) +state:(?P<state>\S)(?: +running task)?"
                       r" +stack: *\d+ +pid: *(?P<pid>\d+)")
#: ≤5.8: ``%-15.15s %c`` then a saved PC (≤4.8) or "running task", then ``%5lu %5d %6d 0x%08lx``
_TASK_OLD = re.compile(r"(?P<comm>.{15}) (?P<state>[A-Za-z])(?:  running task  |\s[0-9a-f]{8,16}\s)?"
                       r" *\d+ +(?P<pid>\d+) +(?P<ppid>\d+) 0x[0-9a-f]{8}")
_HUNG = re.compile(r"INFO: task (?P<comm>.*):(?P<pid>\d+) blocked for more than \d+ seconds")


def task_line(msg: str) -> Fields | None:
    """A ``sched_show_task`` header line: comm, state letter, pid."""
    if msg.startswith("task:"):
        m = _TASK_NEW.match(msg)
    else:
        m = _TASK_OLD.match(msg) if " 0x" in msg else None
    if m is None:
        return None
    return {"pid": int(m.group("pid")), "comm": m.group("comm").rstrip(), "state": m.group("state")}


def hung(msg: str) -> Fields | None:
    """``INFO: task comm:pid blocked for more than N seconds``: only D tasks are reported."""
    m = _HUNG.match(msg) if msg.startswith("INFO: task ") else None
    return {"pid": int(m.group("pid")), "comm": m.group("comm")} if m else None
