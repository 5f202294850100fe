"""Event payloads: the ``TP_printk`` text of each tracepoint (recording.md §3, kernel-formats.md §5).

Most payloads are ``key=value`` pairs, but not all of them: 6.x ``mark_victim`` mixes in ``key:value``
(``file-rss:…kB``), ``%-8s`` pads values (``zone=Normal   order=0``), a NULL pointer prints as ``page= (null)``,
``sched_switch`` has a kernel form and a trace-cmd plugin form, the lock events are positional. Unknown pairs are
kept: a vendor kernel adds fields (``nr_free=``) and a converter should not choke on them.
"""

from __future__ import annotations

import re

_PAIR = re.compile(r"([A-Za-z_][\w-]*)(?:=|:(?=\S))( ?\([^)]*\)|\S*)")
_KEY = re.compile(r"[A-Za-z_][\w-]*\Z").match
_KEYS_SEEN: set[str] = set()
_UNIT = re.compile(r"(-?\d+)(?:kB|B)?")
_SWITCH = re.compile(r"prev_comm=(?P<pc>.*?) prev_pid=(?P<pp>-?\d+) prev_prio=-?\d+ prev_state=(?P<ps>\S+)"
                     r" ==> next_comm=(?P<nc>.*?) next_pid=(?P<np>-?\d+)")
_SWITCH_PLUGIN = re.compile(r"(?P<pc>.*?):(?P<pp>-?\d+) \[-?\d+\] (?P<ps>\S+) ==> (?P<nc>.*?):(?P<np>-?\d+)")
_LOCKDEP = re.compile(r"(?P<addr>\S+) (?P<try>try )?(?P<read>read )?(?P<name>.+)")
_CONTENTION = re.compile(r"(?P<addr>\S+) \((?:flags|ret)=(?P<what>[^)]*)\)")


def pairs(payload: str) -> dict[str, str]:
    """Every ``key=value`` / ``key:value`` of a payload; the last value of a repeated key wins.

    Most payloads are plain ``key=value`` words (``rss_stat``, every line of most recordings): those are split
    with str methods; anything else (``key:value``, ``key= (null)``, a word that is no pair) takes the regex."""
    if ":" not in payload and "(" not in payload:
        out = {}
        for word in payload.split():
            key, eq, value = word.partition("=")
            if not eq or (key not in _KEYS_SEEN and not _new_key(key)):
                break
            out[key] = value
        else:
            return out
    return {k: v.strip() for k, v in _PAIR.findall(payload)}


def _new_key(key: str) -> bool:
    """Whether ``key`` is a field name (remembered: a recording repeats a few dozen names millions of times)."""
    if _KEY(key) is None:
        return False
    if len(_KEYS_SEEN) < 4096:
        _KEYS_SEEN.add(key)
    return True


def number(value: str | None) -> int | None:
    """An integer field, with its unit suffix (``kB``, ``B``) dropped; None when absent or not a number."""
    if value is None:
        return None
    digits = value[:-2] if value.endswith("kB") else value[:-1] if value.endswith("B") else value
    if digits.isdigit() and digits.isascii():  # the common case, without the regex
        return int(digits)
    m = _UNIT.fullmatch(value)
    return int(m.group(1)) if m else None


def sched_switch(payload: str) -> tuple[str, int, str, str, int] | None:
    """``(prev_comm, prev_pid, prev_state, next_comm, next_pid)`` from either rendering."""
    m = _SWITCH.match(payload) or _SWITCH_PLUGIN.match(payload)
    if m is None:
        return None
    return m.group("pc"), int(m.group("pp")), m.group("ps"), m.group("nc"), int(m.group("np"))


def task_state(prev_state: str) -> str:
    """The model's one-letter state from ``prev_state``: ``R+`` (preempted) is R, a combination such as
    ``D|K`` (TASK_KILLABLE) or ``D|N`` (TASK_IDLE) keeps its first letter."""
    return prev_state.split("|", 1)[0].rstrip("+")[:1] or "R"


def lockdep(payload: str) -> tuple[str, bool, bool, str] | None:
    """``lock_acquire``'s ``%p [try ][read ]name`` (``lock_release`` and the LOCK_STAT events: ``%p name``):
    ``(address, try, read, name)``."""
    m = _LOCKDEP.match(payload)
    if m is None:
        return None
    return m.group("addr"), bool(m.group("try")), bool(m.group("read")), m.group("name").strip()


def contention(payload: str) -> tuple[str, str] | None:
    """``contention_begin``'s ``%p (flags=…)`` / ``contention_end``'s ``%p (ret=…)``: ``(address, flags or ret)``."""
    m = _CONTENTION.match(payload)
    return (m.group("addr"), m.group("what")) if m else None
