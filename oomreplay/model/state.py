"""What the machine looked like at one instant: tasks, mms, locks, zones, memcgs, OOM invocations, victims.

``State`` and its ``Table``s are the native core's: tables share unchanged pages between states and read them
from the file as they are used; ``State()`` is the empty state and states compare with ``==``. Records are the
NamedTuples below (immutable, compared by value), made by the core when a view reads one: their fields are
checked against the core's at import, so the two cannot drift apart.
"""

from __future__ import annotations

from typing import NamedTuple

from .. import _native
from .._native import State, Table
from .events import Src


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
    killed_seq: int | None  # None: killed before the trace starts (a reaper line without its kill), time unknown
    killed_ts: int | None
    mm: int | None = None
    points: int | None = None
    woken_seq: int | None = None  # when the reaper was woken for it
    attempts: tuple[str, ...] = ()  # outcome of each reaper attempt, in order
    outcome: str | None = None  # "reaped" / "unable" once the reaper is done with it
    done_seq: int | None = None
    exited: bool = False
    rounds: int = 0  # reaper rounds (oom_reap_task runs): more than one only on 4.6-4.8, which re-queue a victim
    unseen: int = 0  # attempts of this round that may have failed silently before the recorded ones ("reaped")
    implied: int = 0  # attempts of this round implied by a later one's number ("unable to reap" = ten), inferred
    marked: bool = False  # made a victim by mark_oom_victim with no kill seen (task_will_free_mem)


def attempts_text(v: Victim, limit: int = 10) -> str:
    """The current reaper round's attempts as the kernel allows them: "attempts 10/10 (inferred)" for a log's
    "unable to reap", "attempt 1–10/10" for a "reaped" line that may follow silent failures; never more than the
    kernel's ``limit`` per round (a trace claiming more says so)."""
    n = len(v.attempts)
    if v.unseen:
        text = f"attempt {n}–{min(n + v.unseen, limit)}/{limit}"
    else:
        text = f"attempts {min(n, limit)}/{limit}"
    if n > limit:
        text += f" (+{n - limit} beyond the kernel's limit)"
    if v.implied:
        text += " (inferred)"
    if v.rounds > 1:
        text += f", round {v.rounds}"
    return text


def reaper_status(v: Victim) -> str:
    """What the reaper column says of a victim: the reaper's outcome once it is done with it, else "exited" when
    the victim has exited (its exit frees the mm: nothing is left to reap and it no longer blocks another kill),
    else "pending". The one place views derive "pending" from, so none calls an exited victim pending."""
    if v.outcome:
        return v.outcome
    return "exited" if v.exited else "pending"


class Anomaly(NamedTuple):
    """Something the events say that cannot be true of a real kernel (or of a complete log)."""

    seq: int | None
    kind: str
    message: str


#: State tables in their stored order: name -> record type.
TABLES: dict[str, type] = {name: record for name, record in zip(_native.TABLES, (
    Task, Mm, Lock, Zone, Memcg, MemInfo, OomInvocation, Victim, Anomaly), strict=True)}

_native.register_records({cls.__name__: cls for cls in (
    Task, Mm, Holder, Lock, Zone, Memcg, MemInfo, OomInvocation, Victim, Anomaly)}, Src)

__all__ = ["TABLES", "Anomaly", "Holder", "Lock", "Memcg", "MemInfo", "Mm", "OomInvocation", "State", "Table", "Task",
           "Victim", "Zone", "attempts_text", "reaper_status"]
