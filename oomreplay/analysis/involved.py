"""Who an OOM involves at one instant: the tasks every view lists first (the rest of a 10,000-task machine is
counted, not listed). The snapshot tables and the replay's "only involved" filter both ask here, so they agree."""

from __future__ import annotations

from ..model import State, Task


def involved_pids(state: State) -> set[int]:
    """Tasks an OOM analysis cares about: victims, invokers, lock holders and waiters, and those involved by their
    own record."""
    pids = other_involved(state)
    for lk in state.locks.values():
        pids.update(h.pid for h in lk.holders)
        pids.update(w.pid for w in lk.waiters)
    pids.update(t.pid for t in state.tasks.values() if task_is_involved(t))
    return pids


def task_is_involved(t: Task) -> bool:
    """Involved by its own record: flagged, in D state, or its last allocation stalled or failed."""
    return bool(t.flags or t.state == "D" or (t.alloc and t.alloc[2] in ("stall", "fail")))


def other_involved(state: State) -> set[int]:
    """The victims and the OOM invokers (lock holders and waiters are the third kind)."""
    pids: set[int] = set(state.victims.keys())
    pids.update(o.invoker for o in state.ooms.values() if o.invoker is not None)
    return pids
