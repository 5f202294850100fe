"""Telling an OOM report's lines from a log's chatter by the words they hold: the tests every line passes on its
way to the families (``may_be_family``, ``is_report``), and the bulk path's reading of a whole block at once
(``scan_block``, ``lines_to_feed``), which finds the few lines ``LogConverter.feed`` must see one by one."""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate
from typing import NamedTuple

from . import locks, memory, oom, tasks
from .prefix import DMESG_STAMP, SYSLOG_PREFIX, month

#: Only this much of a line is matched against the families (the source keeps all of it): no regex runs on a
#: 10 MB line of junk, and no kernel message is anywhere near this long.
MATCH_CHARS = 4096
#: What a message must start with or contain for any family to accept it: most lines of a log are other chatter,
#: and these two C-level tests turn them away before some twenty family guards would each look at them.
FAMILY_STARTS = oom.STARTS + memory.STARTS + locks.STARTS + tasks.STARTS
FAMILY_MARKS = oom.MARKS + memory.MARKS + locks.MARKS + tasks.MARKS
#: Words only an OOM report prints: a line holding one that no family understood is a variant to report. Every
#: one holds one of ``REPORT_WORDS``, which most lines (chatter) are turned away by.
REPORT_MARKS = ("invoked oom-killer", "Killed process", "Kill process", "oom_reaper:", "oom-kill:",
                "Out of memory", "page allocation failure", "page allocation stalls")
REPORT_WORDS = ("oom", "Kill", "Out of memory", "page allocation")
#: The bulk path (``feed_block``) reads a block's lines joined by newlines with one of two regexes: a dmesg line's
#: stamp (2 groups), the start of its message when a family may accept it or a journal's host follows the stamp
#: (1 group, else empty), the message (1); a syslog file's lines the same after ``SYSLOG_PREFIX`` (its groups: the
#: month's name, the tag, the pid) and the whole of what follows that prefix (1).
_START = r"([^\S\n]*(?:" + "|".join(map(re.escape, FAMILY_STARTS)) + r")|\S+ kernel: )?"
_DMESG_LINES = re.compile("^" + DMESG_STAMP + _START + "(.*)$", re.M)
_SYSLOG_LINES = re.compile("^(?:" + SYSLOG_PREFIX + ")?(" + DMESG_STAMP + _START + "(.*))$", re.M)
_SYSLOG_GROUPS = re.compile(SYSLOG_PREFIX).groups
#: Words that send a line to ``feed``: every family mark and report word, less those holding another (a line with
#: "Killed process" holds "Kill").
STOP_WORDS = sorted({w for w in (*FAMILY_MARKS, *REPORT_WORDS)
                     if not any(other != w and other in w for other in (*FAMILY_MARKS, *REPORT_WORDS))})


class Scan(NamedTuple):
    """A block's lines as the bulk path reads them, by column. The syslog columns are None for a block read as
    dmesg; in a syslog block, ``names`` is each line's month name (empty: no syslog prefix), ``tags`` and ``pids``
    say whether the kernel wrote it, ``rests`` is what follows the prefix."""

    secs: tuple[str, ...]
    fracs: tuple[str, ...]
    starts: tuple[str, ...]
    msgs: tuple[str, ...]
    names: tuple[str, ...] | None = None
    tags: tuple[str, ...] | None = None
    pids: tuple[str, ...] | None = None
    rests: tuple[str, ...] | None = None


def scan_block(text: str, syslog: bool) -> Scan:
    """The columns of a block's lines, read as dmesg or (``syslog``) as syslog lines."""
    if not syslog:
        return Scan(*zip(*_DMESG_LINES.findall(text)))
    cols = tuple(zip(*_SYSLOG_LINES.findall(text)))
    n = _SYSLOG_GROUPS
    return Scan(*cols[n + 1:n + 5], cols[0], cols[n - 2], cols[n - 1], cols[n])


def is_report(msg: str) -> bool:
    """Whether ``msg`` holds a word only an OOM report prints (plain loops: a generator costs more than the tests)."""
    for word in REPORT_WORDS:
        if word in msg:
            for mark in REPORT_MARKS:
                if mark in msg:
                    return True
            return False
    return False


def may_be_family(msg: str) -> bool:
    """False when no family can accept ``msg`` (see ``oom.STARTS``)."""
    if msg.startswith(FAMILY_STARTS):
        return True
    for mark in FAMILY_MARKS:
        if mark in msg:
            return True
    return False


def lines_to_feed(text: str, lines: list[str], scan: Scan, dmesg: bool, syslog: bool) -> list[int]:
    """The lines ``feed`` must see, in order, then ``len(lines)``: those with neither prefix the bulk path reads
    (``dmesg`` and ``syslog``: whether the format allows each), a kernel line without a dmesg stamp, a message that
    starts as a family's may, a line holding a ``STOP_WORDS`` word, a line longer than ``MATCH_CHARS`` (which
    ``feed`` cuts). Each test is a C-level pass over the whole block, but a loop over a syslog block's prefixes."""
    stops: set[int] = set()
    if scan.names is None or not any(scan.names):
        if not dmesg:
            stops.update(range(len(lines)))
        elif "" in scan.secs:
            stops.update(i for i, sec in enumerate(scan.secs) if not sec)
    else:
        assert scan.tags is not None and scan.pids is not None
        known = {name for name in set(scan.names) if name and month(name)} if syslog else set()
        for i, (name, tag, pid, sec) in enumerate(zip(scan.names, scan.tags, scan.pids, scan.secs)):
            if name:
                if name not in known or (tag == "kernel" and not pid and not sec):
                    stops.add(i)  # no syslog line after all, or the kernel's without a stamp
            elif not (dmesg and sec):
                stops.add(i)
    if any(scan.starts):
        stops.update(i for i, start in enumerate(scan.starts) if start)
    lengths = list(map(len, lines))
    if max(lengths) > MATCH_CHARS:
        stops.update(i for i, n in enumerate(lengths) if n > MATCH_CHARS)
    ends = list(accumulate(map((1).__add__, lengths)))  # where each line's successor starts in ``text``
    for word in STOP_WORDS:
        at = text.find(word)
        while at >= 0:
            line = bisect_right(ends, at)
            stops.add(line)
            at = text.find(word, ends[line])
    return [*sorted(stops), len(lines)]
