"""A kernel log line's prefixes (printk stamp, syslog, ``dmesg -T``, journal, ``/dev/kmsg``, logcat, console,
quoting, line numbers) taken off as the native log converter takes them off, for Python code that reads a line
the converter has read (the alignment of a log with a recording). Which prefixes exist is the core's knowledge
(``native/core/src/klog/prefix*.rs``); this module only gives its answer a name."""

from __future__ import annotations

from typing import NamedTuple

from .. import _native

#: every ``--format``: ``auto`` tries every prefix on every line, the others only their own
FORMATS: tuple[str, ...] = tuple(_native.FORMATS)


class Prefixed(NamedTuple):
    """One line with its prefixes taken off: the message and what the prefixes said."""

    text: str
    mono_ns: int | None = None
    wall_ns: int | None = None
    #: false for another program's line (a syslog line from dockerd): kept as text, never parsed
    kernel: bool = True
    #: the wall time had no year (syslog, logcat): the converter rolls it forward across New Year
    yearless: bool = False


def split_prefix(line: str, fmt: str = "auto") -> Prefixed:
    """``line`` (its first 4096 characters, as the converter reads it) without its prefixes."""
    return Prefixed(*_native.split_prefix(line, fmt))
