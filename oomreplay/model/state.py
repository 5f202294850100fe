"""What the machine looked like at one instant: tasks, mms, locks, zones, memcgs, OOM invocations, victims.

Records are NamedTuples (immutable, compared by value, packed by msgpack as plain arrays). Every table is a
``Table`` so states share unchanged pages; ``State()`` is the empty state and states compare with ``==``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .table import Table, int_page, str_page, tuple_page


class Task(NamedTuple):
    pid: int
    tgid: int | None = None
    comm: str | None = None
    state: str | None = None  # R S D T Z X I, as the kernel letters them
    site: str | None = None  # what it was last seen doing (call site, wchan)
    flags: tuple[str, ...] = ()  # sorted TIF_* / PF_* names
    inferred_flags: tuple[str, ...] = ()  # the subset of flags a converter deduced
    anon_kb: int | None = None
    file_kb: int | None = None
    shmem_kb: int | None = None
    oom_score_adj: int | None = None
    alloc: tuple | None = None  # (order, gfp, outcome, duration_ns) of its last allocation report
    exited: bool = False
    since: int | None = None  # seq of the last event that changed this task


class Mm(NamedTuple):
    """An address space, identified by the tgid of the process owning it (what logs and tracepoints name)."""

    id: int
    flags: tuple[str, ...] = ()  # sorted MMF_* names
    inferred_flags: tuple[str, ...] = ()


class Holder(NamedTuple):
    pid: int
    mode: str | None  # "r" / "w"
    since: int | None  # seq of the acquisition (of the dump, for lock_held)
    site: str | None = None
    inferred: bool = False  # seen held in a lockdep dump: acquired at some unknown earlier time


class Lock(NamedTuple):
    name: str
    holders: tuple[Holder, ...] = ()
    waiters: tuple[Holder, ...] = ()
    mm: int | None = None  # whose mmap_lock, when known


class Zone(NamedTuple):
    node: int
    zone: str
    free_kb: int | None = None
    min_kb: int | None = None
    low_kb: int | None = None
    high_kb: int | None = None
    managed_kb: int | None = None
    lowmem_reserve_kb: tuple[int, ...] = ()
    since: int | None = None


def zone_key(fields: Any) -> tuple[int, str]:
    """How zone events name a zone: (node, zone name); a non-NUMA log says no node, which is node 0."""
    return (fields.get("node") or 0, fields.get("zone") or "?")


class Memcg(NamedTuple):
    path: str
    usage_kb: int | None = None
    limit_kb: int | None = None
    failcnt: int | None = None
    since: int | None = None


class MemInfo(NamedTuple):
    """The latest Mem-Info summary: ``(meminfo event field, kB)`` pairs in the order of ``KINDS["meminfo"]``.

    Pairs rather than one field per counter because each kernel version prints a different set (a counter it does
    not print is absent, not zero). Keyed by ``scope``: ``"global"`` for the summary show_free_areas prints first.
    """

    scope: str
    counters: tuple[tuple[str, int], ...] = ()
    since: int | None = None


class OomInvocation(NamedTuple):
    index: int
    seq: int | None
    ts_ns: int
    invoker: int | None
    gfp: str | None = None
    order: int | None = None
    constraint: str | None = None
    memcg: str | None = None
    candidates: int = 0
    victims: tuple[int, ...] = ()
    # appended after the fields above so records stored before them keep their positions
    outcome: str | None = None  # set when it ends without a kill: "no_killable" / "panic" (OOM_END_OUTCOMES)
    reason: str | None = None  # why (OOM_END_REASONS): e.g. "panic_on_oom", "deadlocked"


class Victim(NamedTuple):
    pid: int
    comm: str | None
    killed_seq: int | None
    killed_ts: int
    mm: int | None = None
    points: int | None = None
    woken_seq: int | None = None  # when the reaper was woken for it
    attempts: tuple[str, ...] = ()  # outcome of each reaper attempt, in order
    outcome: str | None = None  # "reaped" / "unable" once the reaper is done with it
    done_seq: int | None = None
    exited: bool = False


class Anomaly(NamedTuple):
    """Something the events say that cannot be true of a real kernel (or of a complete log)."""

    seq: int | None
    kind: str
    message: str


#: State tables: name -> (record type, page function). The store serialises exactly these.
TABLES: dict[str, tuple[type, Any]] = {
    "tasks": (Task, int_page),
    "mms": (Mm, int_page),
    "locks": (Lock, str_page),
    "zones": (Zone, tuple_page),
    "memcgs": (Memcg, str_page),
    "meminfo": (MemInfo, str_page),
    "ooms": (OomInvocation, int_page),
    "victims": (Victim, int_page),
    "anomalies": (Anomaly, int_page),
}

#: Nested records that a decoder must rebuild: table -> {field index: record type of each element}.
NESTED: dict[str, dict[int, type]] = {"locks": {1: Holder, 2: Holder}}

#: ``unchecked_record(Task, values)``: a record of one of these types from values already right (its width, nested
#: records built), made by ``tuple.__new__`` in C: what ``Task._make`` does without a Python call. The replay's
#: handlers and the store's page decoder make records by the million.
unchecked_record = tuple.__new__


class State:
    """The whole machine at one seq. Mutated in place only by ``apply`` on a copy it owns."""

    __slots__ = ("seq", "ts_ns", "tasks", "mms", "locks", "zones", "memcgs", "meminfo", "ooms", "victims",
                 "anomalies")

    def __init__(self) -> None:
        self.seq: int | None = None  # last event applied
        self.ts_ns: int | None = None
        self.tasks: Table[Task]
        self.mms: Table[Mm]
        self.locks: Table[Lock]
        self.zones: Table[Zone]
        self.memcgs: Table[Memcg]
        self.meminfo: Table[MemInfo]
        self.ooms: Table[OomInvocation]
        self.victims: Table[Victim]
        self.anomalies: Table[Anomaly]
        for name, (_, page_of) in TABLES.items():
            setattr(self, name, Table(page_of))

    def copy(self) -> State:
        other = State.__new__(State)
        other.seq = self.seq
        other.ts_ns = self.ts_ns
        for name in TABLES:
            setattr(other, name, getattr(self, name).copy())
        return other

    def tables(self) -> dict[str, Table]:
        return {name: getattr(self, name) for name in TABLES}

    def last_oom(self) -> OomInvocation | None:
        n = len(self.ooms)
        return self.ooms.get(n - 1) if n else None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, State):
            return NotImplemented
        return (self.seq, self.ts_ns) == (other.seq, other.ts_ns) and all(
            getattr(self, name) == getattr(other, name) for name in TABLES
        )

    def __repr__(self) -> str:
        return (f"State(seq={self.seq}, tasks={len(self.tasks)}, locks={len(self.locks)}, "
                f"victims={len(self.victims)}, anomalies={len(self.anomalies)})")
