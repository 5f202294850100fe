"""The event vocabulary: one record type, a fixed schema per kind.

Kinds and field names are public API (converters write them, scripts read them), so they are declared once here
and everything else (the store's column layout, the CLI's JSON, the views) derives from this table. Fields are
positional per kind so the store can write them without repeating names; a converter that needs a field the
schema lacks passes it anyway and it travels in an ``extra`` map.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any, NamedTuple


class Src(NamedTuple):
    """Where an event came from: a source file id (index into the trace's sources) and a 1-based line."""

    file: int
    line: int


#: ``Src.unchecked((file, line))``: a ``Src`` of two ints already right, made by ``tuple.__new__`` in C. A
#: NamedTuple's own constructor is a Python function, a call per line a converter reads that this skips.
Src.unchecked = partial(tuple.__new__, Src)  # type: ignore[attr-defined]


#: kind -> ordered field names. Order matters: it is the on-disk column order within a kind.
KINDS: dict[str, tuple[str, ...]] = {
    # tasks
    "task": ("tgid", "comm", "oom_score_adj"),
    "task_state": ("state", "site", "comm"),
    "task_exit": ("code", "comm"),
    "fork": ("child", "child_tgid", "comm"),
    # locks; `lock` is the lock's name as the kernel prints it, `mm` optionally says whose mmap_lock it is
    "lock_acquire": ("lock", "mode", "site", "mm"),
    "lock_contended": ("lock", "mode", "site", "mm"),
    "lock_release": ("lock", "mm"),
    "lock_held": ("lock", "mode", "site", "index", "comm"),
    # flags on a task (TIF_*, PF_*) or on an mm (MMF_*)
    "flag_set": ("flag", "target", "mm"),
    "flag_clear": ("flag", "target", "mm"),
    # memory
    "alloc": ("order", "gfp", "outcome", "duration_ns"),
    "zone": ("node", "zone", "free_kb", "min_kb", "low_kb", "high_kb", "managed_kb", "lowmem_reserve_kb"),
    "memcg": ("path", "usage_kb", "limit_kb", "failcnt"),
    "rss": ("anon_kb", "file_kb", "shmem_kb"),
    # the Mem-Info summary (show_free_areas), printed in pages and given in kB; which counters a kernel prints
    # depends on its version (kernel-formats.md §2.2), a counter it does not print is absent
    "meminfo": ("free_kb", "free_pcp_kb", "free_cma_kb", "active_anon_kb", "inactive_anon_kb", "isolated_anon_kb",
                "active_file_kb", "inactive_file_kb", "isolated_file_kb", "unevictable_kb", "dirty_kb",
                "writeback_kb", "unstable_kb", "slab_reclaimable_kb", "slab_unreclaimable_kb", "slab_kb",
                "mapped_kb", "shmem_kb", "pagetables_kb", "sec_pagetables_kb", "bounce_kb",
                "kernel_misc_reclaimable_kb"),
    # the OOM killer; for oom_kill / oom_victim / reaper_* the pid is the victim
    # stack: the reliable frames of the report's Call Trace, innermost first (what allocated is below the OOM path)
    "oom_invoke": ("gfp", "order", "oom_score_adj", "constraint", "memcg", "comm", "stack"),
    "oom_candidate": ("tgid", "uid", "total_vm_pages", "rss_pages", "pgtables_bytes", "swapents",
                      "oom_score_adj", "comm"),
    # constraint and memcg come from the "oom-kill:" summary, printed after the header: they complete the invocation
    "oom_kill": ("comm", "points", "total_vm_kb", "anon_rss_kb", "file_rss_kb", "shmem_rss_kb", "uid",
                 "pgtables_kb", "oom_score_adj", "memcg", "parent", "constraint"),
    "oom_victim": ("comm",),
    # an invocation that ends without a kill; the pid is its invoker when known
    "oom_end": ("outcome", "reason", "comm"),
    # the OOM reaper
    "reaper_wake": ("comm",),
    "reaper_attempt": ("n", "outcome", "comm"),
    "reaper_done": ("outcome", "anon_rss_kb", "file_rss_kb", "shmem_rss_kb", "comm"),
    # annotations and the rest
    "note": ("text",),
    "mark": ("title", "note"),
    "log": ("text",),
}

#: Values of enumerated fields; apply() records anything else as an anomaly rather than failing.
LOCK_MODES = ("r", "w")
ALLOC_OUTCOMES = ("ok", "fail", "stall")
REAPER_ATTEMPT_OUTCOMES = ("reaped", "lock_busy", "skipped")
REAPER_DONE_OUTCOMES = ("reaped", "unable")
#: How an OOM invocation ends without a kill: nothing it may kill (memcg, ≥4.19 global before the deadlock
#: panic, SysRq-f), or a panic.
OOM_END_OUTCOMES = ("no_killable", "panic")
#: Why: the ≤4.15 panic with no candidate, the ≥4.19 "System is deadlocked on memory" panic, and panic_on_oom
#: set to 1 ("system-wide", an unconstrained OOM) or 2 ("compulsory", any OOM).
OOM_END_REASONS = ("no_killable", "deadlocked", "panic_on_oom", "panic_on_oom_compulsory")

KIND_NAMES: tuple[str, ...] = tuple(KINDS)
KIND_IDS: dict[str, int] = {k: i for i, k in enumerate(KIND_NAMES)}


_NONE: frozenset[str] = frozenset()


def _plain(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Drop unsaid (None) fields and freeze lists, so an event equals itself after a trip through the store."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items() if v is not None}


class Event:
    """One thing that happened: ``(ts_ns, kind, pid, fields, src)`` plus its position ``seq`` once stored.

    ``inferred`` names the fields a converter deduced rather than read (``{"flag"}`` for a ``TIF_MEMDIE`` set
    because a kill implies it); the views show those differently. Events compare by value so tests can check
    round trips directly.
    """

    __slots__ = ("ts_ns", "kind", "pid", "fields", "src", "inferred", "seq")

    def __init__(
        self,
        ts_ns: int,
        kind: str,
        pid: int | None = None,
        fields: Mapping[str, Any] | None = None,
        src: Src | tuple[int, int] | None = None,
        inferred: Iterable[str] = (),
        seq: int | None = None,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown event kind {kind!r}")
        # converters make an event per line they read: what is already of the right type is kept as it is
        self.ts_ns = ts_ns if type(ts_ns) is int else int(ts_ns)
        self.kind = kind
        self.pid = pid
        self.fields = _plain(fields) if fields else {}
        self.src = src if src is None or type(src) is Src else Src(*src)
        self.inferred = inferred if type(inferred) is frozenset else frozenset(inferred) if inferred else _NONE
        self.seq = seq

    @staticmethod
    def unchecked(ts_ns: int, kind: str, pid: int | None, fields: dict[str, Any], src: Src | None,
                  inferred: frozenset[str] = _NONE, seq: int | None = None) -> Event:
        """An event set up without ``__init__``'s checks and copies, for the hot paths that make one per line read
        or per event decoded: ``kind`` must be a kind, ``fields`` a dict holding no None and no list, ``src`` a
        ``Src`` or None and ``inferred`` a frozenset, as ``__init__`` would make them."""
        ev = object.__new__(Event)
        ev.ts_ns, ev.kind, ev.pid, ev.fields, ev.src, ev.inferred, ev.seq = ts_ns, kind, pid, fields, src, inferred, seq
        return ev

    def get(self, name: str, default: Any = None) -> Any:
        """A field's value, or ``default`` when the event does not carry it."""
        return self.fields.get(name, default)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape shared by ``oomreplay events --format jsonl`` and exports."""
        out: dict[str, Any] = {"seq": self.seq, "ts_ns": self.ts_ns, "kind": self.kind, "pid": self.pid,
                               "fields": self.fields}
        if self.inferred:
            out["inferred"] = sorted(self.inferred)
        if self.src is not None:
            out["src"] = {"file": self.src.file, "line": self.src.line}
        return out

    def _key(self) -> tuple:
        return (self.ts_ns, self.kind, self.pid, self.fields, self.src, self.inferred)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Event) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash((self.ts_ns, self.kind, self.pid))

    def __repr__(self) -> str:
        seq = f"#{self.seq} " if self.seq is not None else ""
        return f"Event({seq}{self.ts_ns}ns {self.kind} pid={self.pid} {self.fields})"
