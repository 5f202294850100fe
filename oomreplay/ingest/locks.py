"""lockdep's held-lock dumps (kernel-formats.md §4.1), every format from 3.10 to 6.x.

``N lock(s) held by comm/pid:`` opens a holder; each `` #n: [instance] (name){usage}[-{a:b}], at: site`` line under
it is one lock. The comm may itself contain '/', so the pid is what follows the last one.
"""

from __future__ import annotations

import re
from typing import Any

Fields = dict[str, Any]

#: What every message a function here accepts starts with or contains (see ``oom.STARTS``).
STARTS = ("#",)
MARKS = (" held by ",)

_HOLDER = re.compile(r"(?P<n>\d+) locks? held by (?P<comm>.*)/(?P<pid>\d+):")
_LOCK = re.compile(r"#(?P<index>\d+): +(?:(?P<addr>[0-9a-fA-F]{8,16}) +)?\((?P<name>.*)\)\{(?P<usage>[^}]*)\}"
                   r"(?:-\{\d+:\d+\})?(?:, at: (?:\[<[0-9a-fA-F]+>\] )?(?P<site>.*))?")


def holder(msg: str) -> Fields | None:
    """The count line that starts one task's list."""
    if " held by " not in msg:
        return None
    m = _HOLDER.fullmatch(msg)
    return {"count": int(m.group("n")), "comm": m.group("comm"), "pid": int(m.group("pid"))} if m else None


def held_lock(msg: str) -> Fields | None:
    """One ``#n:`` line: index, lock name (with its ``#version`` and ``/subclass``), acquisition site."""
    if not msg.startswith("#"):
        return None
    m = _LOCK.match(msg)
    if m is None:
        return None
    return {"index": int(m.group("index")), "lock": m.group("name"), "site": m.group("site")}
