"""What every handler of ``apply`` shares: recording an anomaly, and writing a task's (or a zone's, a memcg's)
record back with the said fields changed, built as a tuple directly because this is the hottest path of every
replay. A handler is ``(state, seq, ts, pid, fields, inferred) -> None`` and changes the state in place (see
``apply.Handler``); the handlers live in ``apply_tasks``, ``apply_locks``, ``apply_memory`` and ``apply_oom``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .state import Anomaly, Memcg, State, Task, Zone, unchecked_record

Fields = Mapping[str, Any]


def anomaly(s: State, seq: int | None, kind: str, message: str) -> None:
    """Record what the event says that cannot be (``apply`` never raises on odd input)."""
    s.anomalies.set(len(s.anomalies), Anomaly(seq, kind, message))


def task_of(s: State, pid: int) -> Task:
    """The task's record, or a new one that knows only its pid."""
    t = s.tasks.get(pid)
    return t if t is not None else Task(pid)


#: Each field's position in the records ``updated`` writes.
INDEX = {rec: {name: i for i, name in enumerate(rec._fields)} for rec in (Task, Zone, Memcg)}


def updated(rec: Any, seq: int | None, changes: Fields) -> Any:
    """``rec`` with the said (not None) ``changes`` and ``since=seq``.

    Builds the tuple directly (``unchecked_record``) rather than through ``_replace``: this is the hottest path
    of every replay.
    """
    index = INDEX[type(rec)]
    values = list(rec)
    for name, value in changes.items():
        if value is not None:
            values[index[name]] = value
    values[index["since"]] = seq
    return unchecked_record(type(rec), values)


def update_task(s: State, seq: int | None, pid: int | None, **changes: Any) -> None:
    """Create or update a task; ``None`` values mean "not said" and keep what was known."""
    if pid is None:
        return
    t = s.tasks.get(pid)
    s.tasks.set(pid, updated(t if t is not None else Task(pid), seq, changes))


TASK_REST = list(Task(0))[1:]  # a new task's fields after its pid
TASK_SINCE = INDEX[Task]["since"]


def task_fields(s: State, seq: int | None, pid: int | None, f: Fields, pairs: tuple) -> None:
    """``update_task`` with each ``(field name in f, task field index)`` of ``pairs``: the replay's hot path,
    without building keyword arguments."""
    if pid is None:
        return
    tasks = s.tasks
    t = tasks.get(pid)
    values = list(t) if t is not None else [pid, *TASK_REST]
    get = f.get
    for name, i in pairs:
        value = get(name)
        if value is not None:
            values[i] = value
    values[TASK_SINCE] = seq
    tasks.set(pid, unchecked_record(Task, values))


def task_pairs(*names: str) -> tuple:
    """``(event field, task field index)`` pairs of fields named the same in both."""
    index = INDEX[Task]
    return tuple((n, index[n]) for n in names)
