"""What the task events do (``task``, ``task_state``, ``task_exit``, ``fork``), and the flags, allocations and rss
that live on a task's (or its mm's) record."""

from __future__ import annotations

from .apply_records import INDEX, TASK_REST, TASK_SINCE, Fields, anomaly, task_fields, task_of, task_pairs, update_task
from .events import ALLOC_OUTCOMES
from .flags import flag_target
from .state import Mm, State, Task, unchecked_record

_TASK_PAIRS = task_pairs("tgid", "comm", "oom_score_adj")
_TASK_STATE_PAIRS = task_pairs("state", "site", "comm")
_RSS_PAIRS = task_pairs("anon_kb", "file_kb", "shmem_kb")
_ALLOC = INDEX[Task]["alloc"]


def on_task(s, seq, ts, pid, f, inferred):
    task_fields(s, seq, pid, f, _TASK_PAIRS)


def on_task_state(s, seq, ts, pid, f, inferred):
    task_fields(s, seq, pid, f, _TASK_STATE_PAIRS)


def on_task_exit(s, seq, ts, pid, f, inferred):
    update_task(s, seq, pid, state="X", exited=True, comm=f.get("comm"))
    v = s.victims.get(pid) if pid is not None else None
    if v is not None:
        s.victims.set(pid, v._replace(exited=True))


def on_fork(s, seq, ts, pid, f, inferred):
    child = f.get("child")
    if child is None:
        anomaly(s, seq, "fork", f"fork by {pid} names no child")
        return
    parent = s.tasks.get(pid) if pid is not None else None
    comm = f.get("comm") or (parent.comm if parent else None)
    update_task(s, seq, pid)
    update_task(s, seq, child, tgid=f.get("child_tgid") or child, comm=comm, state="R", exited=False)


def _with_flag(flags: tuple, inferred_flags: tuple, flag: str, on: bool, guessed: bool) -> tuple[tuple, tuple]:
    fl = set(flags)
    inf = set(inferred_flags)
    if on:
        fl.add(flag)
        if guessed:
            inf.add(flag)
        else:
            inf.discard(flag)
    else:
        fl.discard(flag)
        inf.discard(flag)
    return tuple(sorted(fl)), tuple(sorted(inf))


def _mm_id(s: State, pid: int | None, f: Fields) -> int | None:
    if f.get("mm") is not None:
        return f["mm"]
    if pid is None:
        return None
    t = s.tasks.get(pid)
    return t.tgid if t is not None and t.tgid is not None else pid


def _on_flag(s, seq, ts, pid, f, inferred, on: bool):
    kind = "flag_set" if on else "flag_clear"
    flag = f.get("flag")
    if not flag:
        anomaly(s, seq, kind, f"{kind} on {pid} names no flag")
        return
    guessed = "flag" in inferred
    if flag_target(flag, f.get("target")) == "mm":
        mm_id = _mm_id(s, pid, f)
        if mm_id is None:
            anomaly(s, seq, kind, f"{flag} on an unknown mm")
            return
        rec = s.mms.get(mm_id) or Mm(mm_id)
        if not on and flag not in rec.flags:
            anomaly(s, seq, kind, f"{flag} cleared on mm {mm_id}, where it was not set")
        flags, inf = _with_flag(rec.flags, rec.inferred_flags, flag, on, guessed)
        s.mms.set(mm_id, rec._replace(flags=flags, inferred_flags=inf))
        return
    if pid is None:
        anomaly(s, seq, kind, f"{flag} on no task")
        return
    t = task_of(s, pid)
    if not on and flag not in t.flags:
        anomaly(s, seq, kind, f"{flag} cleared on {pid}, where it was not set")
    flags, inf = _with_flag(t.flags, t.inferred_flags, flag, on, guessed)
    s.tasks.set(pid, t._replace(flags=flags, inferred_flags=inf, since=seq))


def on_flag_set(s, seq, ts, pid, f, inferred):
    _on_flag(s, seq, ts, pid, f, inferred, True)


def on_flag_clear(s, seq, ts, pid, f, inferred):
    _on_flag(s, seq, ts, pid, f, inferred, False)


def on_alloc(s, seq, ts, pid, f, inferred):
    outcome = f.get("outcome")
    if outcome is not None and outcome not in ALLOC_OUTCOMES:
        anomaly(s, seq, "alloc", f"allocation by {pid}: unknown outcome {outcome!r}")
    if pid is None:
        return
    tasks = s.tasks
    t = tasks.get(pid)
    values = list(t) if t is not None else [pid, *TASK_REST]
    values[_ALLOC] = (f.get("order"), f.get("gfp"), outcome, f.get("duration_ns"))
    values[TASK_SINCE] = seq
    tasks.set(pid, unchecked_record(Task, values))


def on_rss(s, seq, ts, pid, f, inferred):
    task_fields(s, seq, pid, f, _RSS_PAIRS)
