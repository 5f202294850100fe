"""Type stubs of ``oomreplay._native``, the Rust core (native/py) bound with PyO3.

``oomreplay.model`` and ``oomreplay.store`` import it for the events, the state and the store, ``oomreplay.ingest``
for the converters' readers; everything else uses their names.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from os import PathLike
from typing import Any, final

KINDS: list[tuple[str, list[str]]]
"""Every event kind and its ordered fields (the store's column order)."""
RECORDS: list[tuple[str, list[str], int]]
"""Every state record: its name, its fields in order, and how many leading fields have no default."""
TABLES: list[str]
"""The state's tables in their stored order."""
FORMAT_VERSION: int
MAX_OOM_REAP_RETRIES: int
LOCK_MODES: list[str]
ALLOC_OUTCOMES: list[str]
REAPER_ATTEMPT_OUTCOMES: list[str]
REAPER_DONE_OUTCOMES: list[str]
OOM_END_OUTCOMES: list[str]
OOM_END_REASONS: list[str]

class TraceError(Exception):
    """A trace file that cannot be read as asked; the message names the file and the place."""

class TraceVersionError(TraceError):
    """The file was written by a newer oomreplay."""

class TraceTruncated(TraceError):
    """No valid trailer: the writer never finished."""

class InputError(Exception):
    """Input that cannot be converted: one line naming the file and the place."""

def register_records(classes: Mapping[str, type], src: type) -> None:
    """The Python face's record NamedTuples (checked field by field against the core) and ``Src``."""

def flag_target(flag: str, target: str | None = None) -> str:
    """``"mm"`` or ``"task"``: explicit when the event says, otherwise by the kernel's naming (MMF_ = mm_struct)."""

class Event:
    """One thing that happened: ``(ts_ns, kind, pid, fields, src)`` plus its position ``seq`` once stored."""

    ts_ns: int
    kind: str
    pid: int | None
    seq: int | None
    src: Any
    inferred: frozenset[str]
    fields: dict[str, Any]

    def __init__(self, ts_ns: int, kind: str, pid: int | None = None, fields: Mapping[str, Any] | None = None,
                 src: tuple[int, int] | None = None, inferred: Iterable[str] | None = None,
                 seq: int | None = None) -> None: ...
    @staticmethod
    def unchecked(ts_ns: int, kind: str, pid: int | None = None, fields: Mapping[str, Any] | None = None,
                  src: tuple[int, int] | None = None, inferred: Iterable[str] | None = None,
                  seq: int | None = None) -> Event: ...
    def get(self, name: str, default: Any = None) -> Any: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Table:
    """One table of a state; records are made when read."""

    def get(self, key: Any, default: Any = None) -> Any: ...
    def __getitem__(self, key: Any) -> Any: ...
    def __contains__(self, key: object) -> bool: ...
    def __len__(self) -> int: ...
    def keys(self) -> list[Any]: ...
    def values(self) -> list[Any]: ...
    def items(self) -> list[tuple[Any, Any]]: ...

@final
class State:
    """The whole machine at one seq."""

    seq: int | None
    ts_ns: int | None
    @property
    def tasks(self) -> Table: ...
    @property
    def mms(self) -> Table: ...
    @property
    def locks(self) -> Table: ...
    @property
    def zones(self) -> Table: ...
    @property
    def memcgs(self) -> Table: ...
    @property
    def meminfo(self) -> Table: ...
    @property
    def ooms(self) -> Table: ...
    @property
    def victims(self) -> Table: ...
    @property
    def anomalies(self) -> Table: ...
    def __init__(self) -> None: ...
    def copy(self) -> State: ...
    def table(self, name: str) -> Table: ...
    def tables(self) -> dict[str, Table]: ...
    def last_oom(self) -> Any: ...
    def changed_keys(self, new: State, table: str) -> set[Any] | None: ...

def apply(state: State, event: Event) -> State:
    """The state after ``event``; ``state`` itself is left unchanged."""

def apply_fields(state: State, seq: int | None, ts: int, kind: str, pid: int | None, fields: Mapping[str, Any],
                 inferred: Iterable[str]) -> None:
    """Apply one event, given as its parts, to ``state`` in place."""

@final
class NativeTrace:
    version: int
    size: int
    meta: dict[str, Any]
    summary: dict[str, Any]
    first_ts: int | None
    last_ts: int | None
    sources: list[tuple[str, int]]
    block_seqs: list[int]
    def __init__(self, path: str | PathLike[str]) -> None: ...
    def close(self) -> None: ...
    def __len__(self) -> int: ...
    def event(self, seq: int) -> Event: ...
    def events_range(self, start: int, stop: int) -> list[Event]: ...
    def seq_at(self, ts_ns: int) -> int | None: ...
    def next(self, after_seq: int, kind: str | Iterable[str] | None = None, pid: int | None = None,
             entity: str | None = None) -> int | None: ...
    def prev(self, before_seq: int, kind: str | Iterable[str] | None = None, pid: int | None = None,
             entity: str | None = None) -> int | None: ...
    def state_at(self, seq: int) -> State: ...
    def source_lines(self, first: int, last: int, file: int = 0) -> list[str]: ...
    def overview(self, t0: int, t1: int, buckets: int) -> list[tuple[int, int, dict[str, int], int | None,
                                                                     int | None]]: ...

FORMATS: tuple[str, ...]
"""Every kernel log ``--format``."""

@final
class NativeWriter:
    def __init__(self, path: str | PathLike[str], meta: Mapping[str, Any], parallel: bool = False,
                 tuning: Mapping[str, int] | None = None) -> None: ...
    def __len__(self) -> int: ...
    def append(self, ev: Event) -> int: ...
    def extend(self, events: Iterable[Event]) -> None: ...
    def append_logs(self, ts: list[int], texts: list[str], file_id: int, first_line: int) -> None: ...
    def add_source(self, name: str) -> int: ...
    def add_source_lines(self, file_id: int, lines: list[str]) -> None: ...
    def close(self, meta: Mapping[str, Any]) -> None: ...
    def abort(self) -> None: ...

def verify(path: str | PathLike[str]) -> dict[str, Any]:
    """``{size, blocks, events, meta, problems: [(offset, message)], truncated_at, fixed}``."""

def repair(path: str | PathLike[str], out: str | PathLike[str]) -> dict[str, Any]:
    """Write ``out`` from every whole event block and source chunk of ``path``; the same dict as ``verify``."""

def is_trace(path: str | PathLike[str]) -> bool:
    """Whether the file starts with the oomtrace magic bytes."""

@final
class LogReader:
    """A kernel log's bytes into events (``klog::LogConverter``); runs of chatter as ``run_type(ts, texts, file_id,
    first_line)`` when given, else as their events. ``prefilter=False``: every message to every family."""

    file_id: int
    recording: bool
    clock: str | None
    kernel: str | None
    counts: Counter[str]
    lines: int
    unparsed: list[tuple[int, str]]
    unparsed_count: int
    overflow: list[int]
    warnings: list[str]
    def __init__(self, file_id: int = 0, fmt: str = "auto", run_type: Any = None, prefilter: bool = True) -> None: ...
    def sniff(self, head: Iterable[str]) -> None: ...
    def feed(self, lineno: int, line: str) -> list[Event]: ...
    def keep_lines(self) -> None: ...
    def count_runs(self) -> None:
        """From now on a run of chatter comes back as its number of lines, not as text."""
    def kept(self) -> list[tuple[int, str]]: ...
    def read(self, chunk: bytes, writer: NativeWriter | None = None, append: bool = False) -> list[Any]: ...
    def end(self, writer: NativeWriter | None = None, append: bool = False) -> list[Any]: ...

@final
class FtraceReader:
    """An ftrace text's bytes into events (``ftrace::FtraceConverter``), its console lines read as a log's."""

    file_id: int
    recording: bool
    clock: str
    kernel: str | None
    counts: Counter[str]
    lines: int
    warnings: list[str]
    rejects: list[int]
    lost_events: int
    def __init__(self, file_id: int = 0) -> None: ...
    @staticmethod
    def looks_like(head: Iterable[str]) -> bool: ...
    def sniff(self, head: Iterable[str]) -> None: ...
    def keep_lines(self) -> None: ...
    def count_runs(self) -> None:
        """From now on a run of chatter comes back as its number of lines, not as text."""
    def kept(self) -> list[tuple[int, str]]: ...
    def read(self, chunk: bytes, writer: NativeWriter | None = None, append: bool = False) -> list[Event]: ...
    def end(self, writer: NativeWriter | None = None, append: bool = False) -> list[Event]: ...

def split_prefix(line: str, fmt: str = "auto") -> tuple[str, int | None, int | None, bool, bool]:
    """A log line's prefixes taken off: ``(text, mono_ns, wall_ns, kernel, yearless)``."""

def console_line(line: str) -> tuple[int, str] | None:
    """``(trace ts, message)`` of an ftrace ``printk:console`` line."""

def explore(program: Mapping[str, Any], max_states: int, reduce: bool = True) -> dict[str, Any]:
    """Every outcome class of ``program``'s interleavings (``oomreplay.explore.program`` builds it), each with a
    shortest witness. The report: ``states`` (distinct, fingerprinted), ``transitions`` (moves made), ``paths``
    (complete interleavings explored), ``exhaustive`` (False when ``max_states`` stopped the search), ``seconds``
    and ``classes``: dicts with ``victims`` [(pid, status)], ``kills``, ``needless``, ``blocked`` (actor
    indexes), ``reaper_stuck``, ``anomaly`` (the first message or None), ``panic``, ``terminals``, ``paths`` and
    ``witness``: moves as dicts with ``actor`` (index, None for the reaper), ``what``, ``step``, ``victim``,
    ``events`` (``Event`` list). A bug in the search raises ``RuntimeError``, never crashes."""
