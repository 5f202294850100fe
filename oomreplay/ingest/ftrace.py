"""An ftrace recording (tracefs ``trace`` / ``trace_pipe`` text, ``trace-cmd report`` text, ``perf script``
tracepoint output) as the registry knows it: its lines go to the native core's ftrace converter
(``native/core/src/ftrace``). Each line becomes at least one event: the model events its tracepoint means, or a
``log`` event with its text (headers, unknown events, stack lines, prose pasted around a trace).

Order: the per-CPU buffers are merged by timestamp when the trace is read, but a local clock is not coherent
across CPUs, and pasted or concatenated traces are not merged at all. Lines pass through a bounded reorder buffer
and come out sorted by time, which the inferences and the writer both need; a line later than that is placed at
the time of the last event emitted and reported.

Time is the trace clock, which is not the printk clock (on the recorded machine it runs 23.6 ms ahead): a
recording converted alone keeps its own clock. ``printk:console`` lines are parsed with the kernel-log families
and stamped with the trace clock; a kill or reaper outcome that the oom:* tracepoints already showed is kept as
text only, so each fact is counted once.
"""

from __future__ import annotations

from collections.abc import Iterator

from .. import _native
from .converter import LineReader
from .sources import Probe


class FtraceText:
    """The registry's ftrace text (tracefs, ``trace-cmd report``, ``perf script``), known by its head: a tracer
    header or more event lines than printk-stamped ones. An explicit ``--format`` names a kernel log's prefix, so
    only ``auto`` looks for it."""

    name = "ftrace text"
    alone = False

    def sniff(self, probe: Probe, fmt: str) -> bool:
        return fmt == "auto" and _native.FtraceReader.looks_like(probe.head)

    def chunks(self, probe: Probe) -> Iterator[bytes]:
        return probe.chunks()

    def reader(self, file_id: int, fmt: str) -> LineReader:
        return _native.FtraceReader(file_id)
