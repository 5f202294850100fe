"""``convert``: logs in, one trace out. The registry decides each input's format once (``registry.choose``); a
scenario is a whole trace on its own, and any other input becomes a source of the trace (every line stored) and a
stream of events; several inputs are merged by time. A single input never leaves the native core: its reader
cuts the bytes into lines, stores them and appends their events to the writer itself. Memory stays bounded:
input streams through a read (``sources.CHUNK``) at a time, only the head of each input (``SNIFF_LINES``) is read
ahead to pick its format and its clock. The exception: a kernel log merged with an ftrace recording is converted in memory first
(``align.MAX_EVENTS`` at most), to put the recording on the log's clock and keep each fact both report once (see
``align``).
"""

from __future__ import annotations

import heapq
import os
from bisect import bisect_left, bisect_right
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from itertools import chain
from typing import Any

from .._util.plural import count
from ..model import Event
from ..store import TraceWriter
from . import align
from .converter import LineConverter, LineReader, WholeConverter
from .errors import ConvertError, ScenarioError, SourceError
from .logrun import LogRun
from .prefix import FORMATS
from .registry import choose
from .report import ConvertReport, SourceReport
from .sources import Probe, probe

#: kinds that show an OOM report was found; without any, the input is kept but the user is warned
_OOM_KINDS = ("oom_invoke", "oom_kill", "oom_victim", "oom_end", "reaper_done", "oom_candidate", "alloc")
#: Inputs of at least this many bytes (files on disk, as stored) are converted with the trace writer's state
#: machine in a process of its own, on the other core: for a large recording it is a third of the work, while
#: for a small log the worker's start (about 0.1 s) would cost more than it saves.
PARALLEL_FROM_BYTES = 8 << 20


def _large(inputs: Sequence[str]) -> bool:
    size = 0
    for name in inputs:
        try:
            size += os.stat(name).st_size if name != "-" else 0
        except OSError:
            pass  # opening it says what is wrong with it
    return size >= PARALLEL_FROM_BYTES


#: Told how much input was read, block by block.
Progress = Callable[[int], None]


def _events(reader: LineReader, writer: TraceWriter, chunks: Iterator[bytes], head: list[str],
            report: SourceReport, progress: Progress | None = None, runs: bool = False,
            append: bool = False) -> Iterator[Event | LogRun]:
    """The events of one source, its lines stored as source text on the way, a read at a time; ``progress`` is
    told the bytes of each read. With ``runs``, stretches of chatter come as ``LogRun``s (for the writer's
    ``append_logs``), else as events. With ``append`` (the only input) the reader appends every event to the
    writer itself, in the core, and nothing comes back."""
    reader.sniff(head)
    native = writer.native
    for chunk in chunks:
        if progress is not None:
            progress(len(chunk))
        yield from _items(reader.read(chunk, native, append), runs)
    yield from _items(reader.end(native, append), runs)
    report.lines, report.clock, report.kernel, report.counts = reader.lines, reader.clock, reader.kernel, reader.counts
    report.warnings = [f"{report.name}: {w}" for w in reader.warnings]
    report.unparsed, report.unparsed_count = getattr(reader, "unparsed", []), getattr(reader, "unparsed_count", 0)


def _items(items: list[Event | LogRun], runs: bool) -> Iterator[Event | LogRun]:
    if runs:
        return iter(items)
    return chain.from_iterable(item.events() if type(item) is LogRun else (item,) for item in items)


def _merge(streams: list[Iterator[Event | LogRun]]) -> Iterator[Event | LogRun]:
    """The items of several sources in time order: what ``heapq.merge`` of their events by time gives (a tie goes
    to the earlier source), with each run of log lines cut only where another source's item falls inside it, so
    that rotated logs merged stay runs."""
    heap: list[tuple[int, int, Event | LogRun, Iterator[Event | LogRun]]] = []
    for i, stream in enumerate(streams):
        for item in stream:
            heap.append((_first_ts(item), i, item, stream))
            break
    heapq.heapify(heap)
    while heap:
        ts, i, item, stream = heap[0]
        if type(item) is LogRun and len(heap) > 1:
            other_ts, other = min(heap[1:3])[:2]  # the next item of another source: a child of the root
            cut = (bisect_right if i < other else bisect_left)(item.ts, other_ts)
            if cut < len(item.ts):
                first, rest = item.first_line, item.first_line + cut
                yield LogRun(item.ts[:cut], item.texts[:cut], item.file_id, first)
                item = LogRun(item.ts[cut:], item.texts[cut:], item.file_id, rest)
                heapq.heapreplace(heap, (item.ts[0], i, item, stream))
                continue
        yield item
        following = next(stream, None)
        if following is None:
            heapq.heappop(heap)
        else:
            heapq.heapreplace(heap, (_first_ts(following), i, following, stream))


def _first_ts(item: Event | LogRun) -> int:
    return item.ts[0] if type(item) is LogRun else item.ts_ns  # type: ignore[union-attr]


def _aligned(streams: list[Iterator[Event]], readers: list[LineReader], result: ConvertReport,
             writer: TraceWriter) -> Iterator[Event]:
    """A kernel log and a recording (or more): converted in memory (at most ``align.MAX_EVENTS``), the
    recordings shifted onto the first printk-clocked log's clock, the facts both report kept once."""
    lists: list[list[Event]] = []
    kept: list[dict[int, str]] = []
    total = 0
    for s, stream, reader in zip(result.sources, streams, readers):
        events: list[Event] = []
        for ev in stream:
            events.append(ev)
            total += 1
            if total > align.MAX_EVENTS:
                raise ConvertError(f"{s.name}: more than {align.MAX_EVENTS:,} events in the merged inputs, too many "
                                   "to align in memory; convert the log and the recording separately")
        lists.append(events)
        kept.append(dict(reader.kept()))
    traces = [reader.recording for reader in readers]
    ref = next((i for i, t in enumerate(traces) if not t and result.sources[i].clock == "printk"), None)
    if ref is None:
        result.warnings.append("no kernel log with printk stamps among the inputs: the recordings keep the trace "
                               "clock, not aligned")
        return heapq.merge(*lists, key=lambda ev: ev.ts_ns)
    log, log_lines, log_name = lists[ref], kept[ref], result.sources[ref].name
    offsets = {}
    aligned = []
    for i, t in enumerate(traces):
        if not t:
            continue
        name = result.sources[i].name
        a = align.estimate(log, log_lines, lists[i], align.console_texts(kept[i]))
        if a.offset_ns is None:
            result.warnings.append(f"could not align {name} to {log_name}: no event seen by both; "
                                   f"{name} keeps the trace clock")
            continue
        align.shift(lists[i], a.offset_ns)
        aligned.append(lists[i])
        offsets[name] = {"to": log_name, "offset_ns": a.offset_ns, "anchors": a.anchors, "basis": a.basis}
        result.warnings.append(f"aligned {name} to {log_name}: {a.offset_ns / 1e6:+.1f} ms from {a.anchors} shared "
                               f"event(s) ({a.basis})")
    if aligned:
        lists[ref], dropped = align.deduplicate(log, log_lines, aligned)
        result.sources[ref].counts = Counter(ev.kind for ev in lists[ref])
        if dropped:
            result.warnings.append(f"{log_name}: {dropped} fact(s) also in the recording kept once (as recorded "
                                   "there); their lines stay as log events")
    writer.meta["clock_offsets"] = offsets
    return heapq.merge(*lists, key=lambda ev: ev.ts_ns)


def convert(inputs: Sequence[str], output: str | os.PathLike, fmt: str = "auto",
            progress: Progress | None = None, meta: dict[str, Any] | None = None) -> ConvertReport:
    """Convert ``inputs`` (paths, or ``-`` for stdin) into the trace ``output``; raises ``ConvertError``.
    ``progress`` is called with the size of each block of input read (in characters: about bytes). ``meta``: what
    the caller knows better than the inputs say, stored in the trace's meta over what the conversion found
    (``record`` knows the kernel it ran on, which a kernel log read from its end seldom names)."""
    if fmt not in FORMATS:
        raise ConvertError(f"unknown format {fmt!r}; formats are: {', '.join(FORMATS)}")
    if not inputs:
        raise ConvertError("no input given")
    if os.fspath(output) == "-":  # a trace is a file, made under a temporary name and renamed: never stdout
        raise ConvertError("-o -: a trace cannot be written to stdout; give the path of the trace to write")
    try:
        with ExitStack() as stack:
            probes = [stack.enter_context(probe(name)) for name in inputs]
            chosen = choose(probes, fmt)
            if chosen[0].alone:  # the only input: ``choose`` refuses one among others
                return _whole(chosen[0], probes[0], output)  # type: ignore[arg-type]
            return _merged(probes, chosen, output, fmt, progress, meta)  # type: ignore[arg-type]
    except SourceError as e:
        raise ConvertError(str(e)) from None


def _whole(converter: WholeConverter, source: Probe, output: str | os.PathLike) -> ConvertReport:
    """The trace of an input that is a whole trace on its own (a scenario)."""
    try:
        return converter.convert(source, output)
    except ScenarioError as e:
        raise ConvertError(str(e)) from None


def _merged(probes: list[Probe], chosen: list[LineConverter], output: str | os.PathLike, fmt: str,
            progress: Progress | None, meta: dict[str, Any] | None = None) -> ConvertReport:
    """The trace of inputs read line by line, merged by time (and aligned, a log with a recording)."""
    result = ConvertReport(str(output))
    with TraceWriter(output, meta={"converter": "oomreplay convert"},
                     parallel=_large([p.path for p in probes])) as writer:
        readers: list[LineReader] = []
        for source, converter in zip(probes, chosen):
            file_id = writer.add_source(source.display)
            result.sources.append(SourceReport(source.display))
            readers.append(converter.reader(file_id, fmt))
        traces = [reader.recording for reader in readers]
        mixed = any(traces) and not all(traces)  # a log and a recording: aligned, in memory
        alone = len(readers) == 1
        for reader in readers if mixed else ():
            reader.keep_lines()
        streams = [_events(reader, writer, converter.chunks(source), source.head, report, progress,
                           runs=not mixed, append=alone)
                   for reader, converter, source, report in zip(readers, chosen, probes, result.sources)]
        if alone:
            deque(streams[0], maxlen=0)  # runs the reader, which appends every event itself
        else:
            merged = _aligned(streams, readers, result, writer) if mixed else _merge(streams)
            append, append_logs = writer.append, writer.append_logs
            for item in merged:
                if type(item) is LogRun:
                    append_logs(*item)
                else:
                    append(item)
        if not any(s.lines for s in result.sources):
            raise ConvertError(f"{', '.join(s.name for s in result.sources)}: empty input, nothing to convert")
        kernels = sorted({s.kernel for s in result.sources if s.kernel})
        writer.meta.update({"kernel": ", ".join(kernels) or None,
                            "clock": ", ".join(sorted({s.clock for s in result.sources if s.clock}))})
        writer.meta.update(meta or {})
        result.events = len(writer)
    for s in result.sources:
        result.warnings.extend(s.warnings)
        if s.lines and not any(s.counts.get(k) for k in _OOM_KINDS):
            result.warnings.append(f"{s.name}: no OOM report found; its {count(s.lines, 'line')} "
                                   + ("is kept as a log event" if s.lines == 1 else "are kept as log events"))
    return result
