"""Line prefixes: what dmesg, syslog, journalctl, logcat and people pasting logs put in front of a kernel message.

``split_prefix`` peels them off one line and says what they told: the printk stamp (``mono_ns``, the kernel's
clock since boot), a wall-clock time (``wall_ns``, ns since the Unix epoch; syslog without a year counts from the
year 2000 and ``LogConverter`` rolls the year forward), and whether the message is the kernel's at all (a syslog
line from ``dockerd`` is kept as text, never parsed as an OOM report). The layers are tried in the order they
nest: e-mail quoting, a pasted line number, then the tool's prefix, then the kernel's own stamp and caller id.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

#: Names accepted by ``--format``: ``auto`` tries every prefix on every line; the others only their own.
FORMATS = ("auto", "dmesg", "syslog", "journal", "kmsg", "logcat", "plain")
#: The formats whose lines may start with a printk stamp, and those whose lines may carry a syslog prefix.
DMESG_FORMATS = ("auto", "dmesg", "journal", "kmsg")
SYSLOG_FORMATS = ("auto", "syslog", "journal")

#: Month abbreviations as `date`/syslog print them in the locales people paste logs from (lower case, no dot).
_MONTHS: dict[str, int] = {}
for _i, _names in enumerate((
        "jan ene gen janv jän", "feb fev fév févr", "mar mär mrz mrt märz mars", "apr abr avr",
        "may mai mag mei", "jun jui juin giu", "jul juil lug", "aug ago aoû août", "sep set sept",
        "oct okt ott out", "nov", "dec dic dez déc"), start=1):
    for _n in _names.split():
        _MONTHS[_n] = _i

_QUOTE = re.compile(r"(?:>[ \t]?)+")
_LINENO = re.compile(r"\s*\d+[:.)]?\s+(?=[\[<]|[A-Za-zÀ-ÿ]{3,5}\.? +\d{1,2} \d\d:|\d{4}-\d\d-\d\d[T ]|kernel: )")
_LEVEL = re.compile(r"<(\d{1,3})>")
_KMSG = re.compile(r"(\d{1,3}),(\d+),(\d+),[^;]*;")
#: the kernel's own prefix, each part optional: printk stamp ``[ sec.frac]``, caller id ``[T123]``/``[C1]``; one
#: match for both, as most lines of most logs carry them
_KERNEL_STAMP = re.compile(r"(?:\[\s*(\d{1,12})\.(\d{1,9})\] ?)?(?:\[\s*[TC]\d{1,10}\] ?)?")
_JOURNAL_HOST = re.compile(r"\S+ kernel: ")
#: ``_KERNEL_STAMP`` as dmesg prints it (six digits of fraction), for many lines joined by newlines at once
#: (``[^\S\n]`` is ``\s`` kept to its line); it may match nothing (groups 1 and 2 empty). For a stamped line,
#: what follows it is ``split_prefix``'s text, but for a journal's host (``HOST kernel: ``) after a dmesg stamp.
#: tests/ingest/test_ingest_prefilter.py keeps this and ``SYSLOG_PREFIX`` in step with ``split_prefix``.
DMESG_STAMP = r"(?:\[[^\S\n]*(\d{1,12})\.(\d{6})\] ?(?:\[[^\S\n]*[TC]\d{1,10}\] ?)?)?"
_DMESG_T = re.compile(r"\[(?:[A-Za-z]{2,4}\.? )?([A-Za-zÀ-ÿ]{3,5})\.? +(\d{1,2}) (\d\d):(\d\d):(\d\d)"
                      r"(?:[.,](\d{1,9}))? (\d{4})\] ?")


def _bsd(group: str) -> str:
    """The BSD syslog prefix, ``group`` opening the groups of its day, time and host: ``(`` to capture them, ``(?:``
    not to. The month's name, the tag and the pid are always captured."""
    return (r"([A-Za-zÀ-ÿ]{3,5})\.? +" + group + r"\d{1,2}) " + group + r"\d\d):" + group + r"\d\d):" + group
            + r"\d\d)(?:\." + group + r"\d{1,9}))? " + group + r"\S+) ([^\s:\[]+)(\[\d+\])?: ?")


_BSD = re.compile(_bsd("("))
#: ``_BSD`` for the bulk path, capturing only the month's name (first), the tag and the pid (last): a syslog line is
#: the kernel's when its tag is ``kernel`` with no pid, and a syslog line at all only when ``month`` knows the name.
SYSLOG_PREFIX = _bsd("(?:")
_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?(Z|[+-]\d\d:?\d\d)?"
                  r" (\S+) ([^\s:\[]+)(\[\d+\])?: ?")
_LOGCAT = re.compile(r"(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3}) +\d+ +\d+ [VDIWEFA] ([^:]*?) *: ")
_BARE_KERNEL = re.compile(r"kernel: ")
#: logcat tags whose messages are kill reports (the in-kernel lowmemorykiller and its userspace successor lmkd)
_LMK_TAGS = ("lowmemorykiller", "lmkd")


class Prefixed(NamedTuple):
    """One line with its prefixes taken off: the message and what the prefixes said."""

    text: str
    mono_ns: int | None = None
    wall_ns: int | None = None
    kernel: bool = True
    #: the wall time had no year (syslog, logcat): the converter rolls it forward across New Year
    yearless: bool = False


def _frac_ns(frac: str | None) -> int:
    """A fraction of a second of at most 9 digits, in ns."""
    return int(frac) * 10 ** (9 - len(frac)) if frac else 0


def _wall(year: int, month: int, day: int, hh: str, mm: str, ss: str, frac: str | None,
          tz: timezone = timezone.utc) -> int | None:
    try:
        dt = datetime(year, month, day, int(hh), int(mm), int(ss), tzinfo=tz)
    except ValueError:
        return None
    return int(dt.timestamp()) * 1_000_000_000 + _frac_ns(frac)


def month(name: str) -> int | None:
    """The number of a month's name as syslog or ``dmesg -T`` print it, in the locales of ``_MONTHS``."""
    return _MONTHS.get(name.lower().rstrip("."))


def _tz(text: str | None) -> timezone:
    if not text or text == "Z":
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4])))


def _kernel_stamp(s: str, wall_ns: int | None, yearless: bool) -> Prefixed:
    """The part after a tool's prefix: an optional printk stamp, an optional caller id, the message."""
    m = _KERNEL_STAMP.match(s)
    seconds = m.group(1)
    mono = None if seconds is None else int(seconds) * 1_000_000_000 + _frac_ns(m.group(2))
    return Prefixed(s[m.end():], mono, wall_ns, True, yearless)


def _json_record(s: str) -> Prefixed | None:
    """``journalctl -o json``: the message and the monotonic time of a kernel record."""
    try:
        rec = json.loads(s)
    except ValueError:
        return None
    if not isinstance(rec, dict) or "MESSAGE" not in rec:
        return None
    msg = rec["MESSAGE"]
    if isinstance(msg, list):  # journald stores non-UTF-8 messages as byte arrays
        msg = bytes(b for b in msg if isinstance(b, int) and 0 <= b < 256).decode("utf-8", "replace")
    mono = rec.get("_SOURCE_MONOTONIC_TIMESTAMP") or rec.get("__MONOTONIC_TIMESTAMP")
    wall = rec.get("_SOURCE_REALTIME_TIMESTAMP") or rec.get("__REALTIME_TIMESTAMP")
    try:
        mono_ns = int(mono) * 1000 if mono is not None else None
        wall_ns = int(wall) * 1000 if wall is not None else None
    except (TypeError, ValueError):
        mono_ns = wall_ns = None
    kernel = rec.get("_TRANSPORT") in (None, "kernel") and rec.get("SYSLOG_IDENTIFIER") in (None, "kernel")
    return Prefixed(str(msg), mono_ns, wall_ns, kernel)


def split_prefix(line: str, fmt: str = "auto") -> Prefixed:
    """Take every prefix off ``line``. Lines with no prefix come back whole, as kernel text with no time."""
    s = line
    if s.startswith(">"):
        s = _QUOTE.sub("", s, count=1)
    if s[:1].isspace() or s[:1].isdigit():
        m = _LINENO.match(s)
        if m:
            s = s[m.end():]
    auto = fmt == "auto"
    first = s[:1]
    if first == "<" and (auto or fmt in ("kmsg", "dmesg")):
        m = _LEVEL.match(s)
        if m:
            s = s[m.end():]
            first = s[:1]
    if first == "[":
        if fmt in DMESG_FORMATS:
            p = _kernel_stamp(s, None, False)
            if p.mono_ns is not None:
                h = _JOURNAL_HOST.match(p.text) if "kernel: " in p.text else None  # journalctl -o short-monotonic
                return p._replace(text=p.text[h.end():]) if h else p
        if auto or fmt == "dmesg":
            m = _DMESG_T.match(s)
            if m and (month_no := month(m.group(1))):
                wall = _wall(int(m.group(7)), month_no, int(m.group(2)), m.group(3), m.group(4), m.group(5),
                             m.group(6))
                return _kernel_stamp(s[m.end():], wall, False)
    elif first.isdigit():
        if auto or fmt == "kmsg":
            m = _KMSG.match(s)
            if m:
                return Prefixed(s[m.end():], int(m.group(3)) * 1000, None, True)
        if fmt in SYSLOG_FORMATS:
            m = _ISO.match(s)
            if m:
                wall = _wall(int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4), m.group(5),
                             m.group(6), m.group(7), _tz(m.group(8)))
                if m.group(10) != "kernel" or m.group(11):
                    return Prefixed(s[m.end():], None, wall, False)
                return _kernel_stamp(s[m.end():], wall, False)
        if auto or fmt == "logcat":
            m = _LOGCAT.match(s)
            if m:
                wall = _wall(2000, int(m.group(1)), int(m.group(2)), m.group(3), m.group(4), m.group(5), m.group(6))
                tag = m.group(7)
                return Prefixed(f"{tag}: {s[m.end():]}", None, wall, tag in _LMK_TAGS, True)
    elif first.isalpha():
        if fmt in SYSLOG_FORMATS:
            m = _BSD.match(s)
            if m and (month_no := month(m.group(1))):
                wall = _wall(2000, month_no, int(m.group(2)), m.group(3), m.group(4), m.group(5), m.group(6))
                if m.group(8) != "kernel" or m.group(9):
                    return Prefixed(s[m.end():], None, wall, False, True)
                return _kernel_stamp(s[m.end():], wall, True)
            m = _BARE_KERNEL.match(s)
            if m:
                return _kernel_stamp(s[m.end():], None, False)
    elif first == "{" and (auto or fmt == "journal"):
        p = _json_record(s)
        if p is not None:
            return p
    return Prefixed(s)
