"""The kernel log (dmesg, syslog, journalctl, consoles, pasted excerpts) as the registry knows it: its lines go to
the native core's log converter (``native/core/src/klog``), which knows every prefix and every OOM report's
structure; every line it does not understand is kept as a ``log`` event, so nothing is lost.

Time: the printk stamp when the log has them (the kernel's clock, as the trace model wants), else the wall clock
of syslog / ``dmesg -T`` / journal (ns since the epoch). Lines without a stamp inherit the previous one, and a
stamp that goes backwards is clamped to the last time (the writer needs non-decreasing times); the stamp it
printed stays in the source text.
"""

from __future__ import annotations

from collections.abc import Iterator

from .. import _native
from .converter import LineReader
from .logrun import LogRun
from .sources import Probe


class KernelLog:
    """The registry's kernel log: the format of last resort, it reads anything."""

    name = "kernel log"
    alone = False

    def sniff(self, probe: Probe, fmt: str) -> bool:
        return True

    def chunks(self, probe: Probe) -> Iterator[bytes]:
        return probe.chunks()

    def reader(self, file_id: int, fmt: str) -> LineReader:
        return _native.LogReader(file_id, fmt, LogRun)
