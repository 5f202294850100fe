"""``apply(state, event) -> State``: the one definition of what an event does, shared by every layer.

The store's writer and reader run the same handlers in place on a state they own (``apply_fields``); ``apply``
wraps them on a copy so callers get a pure function. Nothing here raises on odd input: a trace of a real
incident is often incomplete (a log that starts mid-incident, a lock released that we never saw taken), so the
oddity is recorded as an ``Anomaly`` in the state, where the views and the invariant checks can show it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .apply_locks import on_lock_acquire, on_lock_contended, on_lock_held, on_lock_release
from .apply_memory import on_meminfo, on_memcg, on_zone
from .apply_oom import (on_oom_candidate, on_oom_end, on_oom_invoke, on_oom_kill, on_oom_victim, on_reaper_attempt,
                        on_reaper_done, on_reaper_wake)
from .apply_records import Fields
from .apply_tasks import (on_alloc, on_flag_clear, on_flag_set, on_fork, on_rss, on_task, on_task_exit,
                          on_task_state)
from .events import Event
from .state import State

Handler = Callable[[State, "int | None", int, "int | None", Fields, frozenset], None]


def apply(state: State, event: Event) -> State:
    """The state after ``event``; ``state`` itself is left unchanged."""
    new = state.copy()
    apply_fields(new, event.seq, event.ts_ns, event.kind, event.pid, event.fields, event.inferred)
    return new


def apply_fields(s: State, seq: int | None, ts: int, kind: str, pid: int | None, f: Fields,
                 inferred: frozenset) -> None:
    """Apply one event, given as its parts, to ``s`` in place."""
    s.seq = seq
    s.ts_ns = ts
    handler = HANDLERS.get(kind)
    if handler is not None:
        handler(s, seq, ts, pid, f, inferred)


#: What each kind does; kinds absent here (``note``, ``mark``, ``log``, …) change nothing.
HANDLERS: dict[str, Handler] = {
    "task": on_task,
    "task_state": on_task_state,
    "task_exit": on_task_exit,
    "fork": on_fork,
    "lock_acquire": on_lock_acquire,
    "lock_contended": on_lock_contended,
    "lock_release": on_lock_release,
    "lock_held": on_lock_held,
    "flag_set": on_flag_set,
    "flag_clear": on_flag_clear,
    "alloc": on_alloc,
    "zone": on_zone,
    "memcg": on_memcg,
    "meminfo": on_meminfo,
    "rss": on_rss,
    "oom_invoke": on_oom_invoke,
    "oom_candidate": on_oom_candidate,
    "oom_kill": on_oom_kill,
    "oom_victim": on_oom_victim,
    "oom_end": on_oom_end,
    "reaper_wake": on_reaper_wake,
    "reaper_attempt": on_reaper_attempt,
    "reaper_done": on_reaper_done,
}


def handlers_for(kinds: Any) -> list[Handler | None]:
    """The handler of each kind name, in order, for a caller applying many events in place: calling
    ``handler(s, seq, ts, pid, fields, inferred)`` and setting ``s.seq`` and ``s.ts_ns`` (no handler reads them,
    so once after many events will do) is exactly ``apply_fields`` without its lookup per event."""
    return [HANDLERS.get(kind) for kind in kinds]
