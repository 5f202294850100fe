"""The story of an incident: the few events that say what happened, each with the role of the task it is about,
in a form two incidents can be compared by.

Two runs of the same workload never share a pid or a timestamp, and a log and a recording of one incident do not
even share their event kinds one for one (a log says "unable to reap" once where a recording has ten reaper
attempts). So a story event keeps what *means* something: its kind, the role of its task (the invoker, a victim,
a holder of a victim's mm lock, the tasks stalling in the allocator), names with their pids and numeric suffixes
normalised away (``kworker/1:2`` → ``kworker/#:#``), the fields that decide the outcome (``fields``) apart from
amounts that always vary between runs (``minor``: stall counts, rss, delays). A field a side does not record is
``None``: not knowing is not a difference (``diff`` reports it only with ``--all``).

Two kinds are runs rather than single events, because their counts are noise while their presence is not: the
allocation stalls (and failures) between two OOM invocations are one story event, placed just before the next
invocation (or at the end), whatever the race made their first one land; a victim's reaper attempts are one
event with their count and the outcomes seen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..model import Event, State
from ..store import Trace
from .reaper import MM_LOCK

#: The event kinds a story is read from (one pass over each kind's change list).
STORY_SOURCES: tuple[str, ...] = ("oom_invoke", "oom_kill", "oom_victim", "oom_end", "reaper_wake", "reaper_attempt",
                                  "reaper_done", "flag_set", "alloc", "task_exit", "lock_acquire", "lock_contended",
                                  "lock_held")

#: The trace event kinds each story kind is made of: a side with none of them cannot tell that part of the story.
SOURCE_KINDS: dict[str, tuple[str, ...]] = {
    "invoke": ("oom_invoke",), "kill": ("oom_kill",), "victim_mark": ("oom_victim",), "oom_end": ("oom_end",),
    "victim_exit": ("task_exit",), "reaper_wake": ("reaper_wake",), "reaper_attempts": ("reaper_attempt",),
    "reaper_done": ("reaper_done",), "oom_skip": ("flag_set",), "stalls": ("alloc",), "alloc_fails": ("alloc",),
    "mm_lock": ("lock_acquire", "lock_contended", "lock_held"),
}

#: Story kinds, in the words the reports use.
KIND_TITLES: dict[str, str] = {
    "invoke": "OOM invocation", "kill": "kill", "victim_mark": "victim mark", "oom_end": "OOM ends without a kill",
    "victim_exit": "victim exits", "reaper_wake": "reaper wakes", "reaper_attempts": "reaper attempts",
    "reaper_done": "reaper done", "oom_skip": "MMF_OOM_SKIP", "stalls": "allocation stalls",
    "alloc_fails": "allocation failures", "mm_lock": "victim's mm lock",
}

#: a digit run that is not part of a word: a pid, a CPU or worker number (``kworker/1:2``, ``oomr-dio-4214``)
_NUMBER = re.compile(r"(?:(?<=[^A-Za-z0-9])|^)\d+")


def normalise(name: object) -> str | None:
    """A comm or a path with its pids and numeric suffixes replaced by ``#``: what stays the same between runs."""
    return None if name is None else _NUMBER.sub("#", str(name))


@dataclass(frozen=True)
class StoryEvent:
    """One step of the story. ``seq``..``last_seq`` are the trace events it stands for (one, or a run);
    ``fields`` and ``minor`` are ``(name, value)`` pairs, names normalised; ``inferred`` names the fields a
    converter deduced rather than read."""

    kind: str
    role: str  # invoker, victim, reaper, holder, allocator
    seq: int
    last_seq: int
    ts_ns: int
    pid: int | None
    name: str | None  # the task's comm as the trace gives it (untrusted text)
    fields: tuple[tuple[str, Any], ...]
    minor: tuple[tuple[str, Any], ...] = ()
    inferred: frozenset[str] = frozenset()

    @property
    def title(self) -> str:
        return KIND_TITLES.get(self.kind, self.kind)

    def value(self, name: str) -> Any:
        """A field's value, major or minor; None when absent."""
        return dict(self.fields + self.minor).get(name)

    @property
    def signature(self) -> tuple:
        """What two story events must share to be the same step: kind, role and every major field."""
        return (self.kind, self.role, self.fields)


@dataclass
class _Draft:
    """A story event being built (runs grow as their events come)."""

    kind: str
    role: str
    ev: Event
    fields: dict[str, Any]
    minor: dict[str, Any] = field(default_factory=dict)
    inferred: set[str] = field(default_factory=set)
    last_seq: int = -1
    name: str | None = None

    def freeze(self) -> StoryEvent:
        assert self.ev.seq is not None
        return StoryEvent(self.kind, self.role, self.ev.seq, max(self.last_seq, self.ev.seq), self.ev.ts_ns,
                          self.ev.pid, self.name, tuple(self.fields.items()), tuple(self.minor.items()),
                          frozenset(self.inferred))


@dataclass
class _VictimInfo:
    name: str | None
    mm: int | None
    killed_ts: int
    attempts: _Draft | None = None
    exited: bool = False


def _ms(ns: int | None) -> float | None:
    return None if ns is None else round(ns / 1e6, 1)


class _Reader:
    """Reads the story in one pass over the story kinds, in seq order."""

    def __init__(self, trace: Trace, end: State | None) -> None:
        self.trace = trace
        self.tasks = end.tasks if end is not None else {}
        #: the invocations by seq: their constraint and memcg are read from the report after the header line
        self.ooms = {o.seq: o for o in end.ooms.values()} if end is not None else {}
        self.out: list[_Draft] = []
        self.victims: dict[int, _VictimInfo] = {}  # by pid
        self.by_mm: dict[int, int] = {}  # victim mm -> victim pid
        self.runs: dict[str, _Draft] = {}  # pending stall / failure runs

    def comm(self, pid: int | None, ev: Event | None = None) -> str | None:
        if ev is not None and ev.get("comm") is not None:
            return str(ev.get("comm"))
        t = self.tasks.get(pid) if pid is not None else None
        return t.comm if t is not None else None

    def add(self, kind: str, role: str, ev: Event, fields: dict[str, Any], minor: dict[str, Any] | None = None,
            name: str | None = None) -> _Draft:
        inferred = {k for k in (ev.inferred or ()) if k in fields or k in (minor or {})}
        d = _Draft(kind, role, ev, fields, minor or {}, inferred, ev.seq or 0, name)
        self.out.append(d)
        return d

    def victim_of(self, ev: Event) -> tuple[int, _VictimInfo] | None:
        if ev.pid in self.victims:
            return ev.pid, self.victims[ev.pid]
        mm = ev.get("mm")
        if mm is not None and mm in self.by_mm:
            return self.by_mm[mm], self.victims[self.by_mm[mm]]
        return None

    def flush_runs(self) -> None:
        for kind in ("stalls", "alloc_fails"):
            run = self.runs.pop(kind, None)
            if run is not None:
                run.fields["tasks"] = tuple(sorted({n for n in run.fields["tasks"] if n is not None}))
                self.out.append(run)

    def read(self) -> list[StoryEvent]:
        for ev in self.trace.events(kind=list(STORY_SOURCES)):
            getattr(self, f"_on_{ev.kind}")(ev)
        self.flush_runs()
        return [d.freeze() for d in self.out]

    def _on_oom_invoke(self, ev: Event) -> None:
        self.flush_runs()
        name = self.comm(ev.pid, ev)
        oom = self.ooms.get(ev.seq)
        self.add("invoke", "invoker", ev, {"task": normalise(name), "gfp": ev.get("gfp"), "order": ev.get("order"),
                                           "constraint": oom.constraint if oom else None,
                                           "memcg": normalise(oom.memcg if oom else None)},
                 {"oom_score_adj": ev.get("oom_score_adj")}, name)

    def _on_oom_kill(self, ev: Event) -> None:
        name = self.comm(ev.pid, ev)
        mm = ev.pid
        self.victims[ev.pid] = _VictimInfo(name, mm, ev.ts_ns)
        if mm is not None:
            self.by_mm[mm] = ev.pid
        self.add("kill", "victim", ev, {"victim": normalise(name), "oom_score_adj": ev.get("oom_score_adj"),
                                        "constraint": ev.get("constraint"), "memcg": normalise(ev.get("memcg"))},
                 {"points": ev.get("points"), "anon_rss_kb": ev.get("anon_rss_kb"),
                  "total_vm_kb": ev.get("total_vm_kb")}, name)

    def _on_oom_victim(self, ev: Event) -> None:
        if ev.pid in self.victims:  # the kill's own mark: already told
            return
        name = self.comm(ev.pid, ev)
        self.add("victim_mark", "victim", ev, {"task": normalise(name)}, name=name)

    def _on_oom_end(self, ev: Event) -> None:
        self.add("oom_end", "invoker", ev, {"outcome": ev.get("outcome"), "reason": ev.get("reason")},
                 name=self.comm(ev.pid, ev))

    def _delay(self, v: _VictimInfo, ev: Event) -> float | None:
        return _ms(ev.ts_ns - v.killed_ts)

    def _on_reaper_wake(self, ev: Event) -> None:
        found = self.victim_of(ev)
        if found is None:
            return
        _, v = found
        self.add("reaper_wake", "reaper", ev, {"victim": normalise(v.name)}, {"after_kill_ms": self._delay(v, ev)},
                 v.name)

    def _on_reaper_attempt(self, ev: Event) -> None:
        found = self.victim_of(ev)
        if found is None:
            return
        _, v = found
        d = v.attempts
        n = ev.get("n")
        if d is None:
            d = v.attempts = self.add("reaper_attempts", "reaper", ev,
                                      {"victim": normalise(v.name), "outcomes": (), "count": None},
                                      {"first_after_kill_ms": self._delay(v, ev)}, v.name)
        d.last_seq = ev.seq or d.last_seq
        outcomes = d.fields["outcomes"]
        if ev.get("outcome") not in outcomes:
            d.fields["outcomes"] = tuple(sorted(outcomes + (ev.get("outcome"),), key=str))
        if "outcome" in (ev.inferred or ()):
            d.inferred.add("outcomes")
        # the count is known only when the attempts are numbered (a log's "unable to reap" says none of it)
        if n is not None:
            d.fields["count"] = max(int(n), d.fields["count"] or 0)

    def _on_reaper_done(self, ev: Event) -> None:
        found = self.victim_of(ev)
        if found is None:
            return
        _, v = found
        v.attempts = None
        self.add("reaper_done", "reaper", ev, {"victim": normalise(v.name), "outcome": ev.get("outcome")},
                 {"after_kill_ms": self._delay(v, ev), "anon_rss_kb_left": ev.get("anon_rss_kb")}, v.name)

    def _on_flag_set(self, ev: Event) -> None:
        if ev.get("flag") != "MMF_OOM_SKIP":
            return
        found = self.victim_of(ev)
        if found is None:
            return
        _, v = found
        d = self.add("oom_skip", "victim", ev, {"victim": normalise(v.name)}, {"after_kill_ms": self._delay(v, ev)},
                     v.name)
        if "flag" in (ev.inferred or ()):
            d.inferred.add("victim")

    def _on_task_exit(self, ev: Event) -> None:
        v = self.victims.get(ev.pid)
        if v is None or v.exited:
            return
        v.exited = True
        self.add("victim_exit", "victim", ev, {"victim": normalise(v.name)}, {"after_kill_ms": self._delay(v, ev)},
                 v.name)

    def _on_alloc(self, ev: Event) -> None:
        outcome = ev.get("outcome")
        kind = {"stall": "stalls", "fail": "alloc_fails"}.get(outcome)
        if kind is None:
            return
        run = self.runs.get(kind)
        if run is None:
            run = self.runs[kind] = _Draft(kind, "allocator", ev, {"tasks": []}, {"count": 0, "longest_ms": None})
        run.fields["tasks"].append(normalise(self.comm(ev.pid)))
        run.minor["count"] += 1
        run.last_seq = ev.seq or run.last_seq
        ms = _ms(ev.get("duration_ns"))
        if ms is not None and (run.minor["longest_ms"] is None or ms > run.minor["longest_ms"]):
            run.minor["longest_ms"] = ms

    def _on_lock(self, ev: Event, action: str) -> None:
        if not MM_LOCK.search(str(ev.get("lock") or "")):
            return
        mm = ev.get("mm")
        if mm is not None:
            owner = self.by_mm.get(mm)
        elif len(self.victims) == 1:  # a lockdep dump does not say whose mm: the only victim's, if there is one
            owner = next(iter(self.victims))
        else:
            owner = None
        if owner is None:
            return
        v = self.victims[owner]
        name = self.comm(ev.pid, ev)
        t = self.tasks.get(ev.pid) if ev.pid is not None else None
        relation = ("the victim" if ev.pid == owner else
                    "a thread of the victim" if t is not None and t.tgid == v.mm else "another task")
        self.add("mm_lock", "holder" if action != "waits" else "waiter", ev,
                 {"victim": normalise(v.name), "task": normalise(name), "relation": relation, "action": action,
                  "mode": ev.get("mode")}, name=name)

    def _on_lock_acquire(self, ev: Event) -> None:
        self._on_lock(ev, "takes")

    def _on_lock_contended(self, ev: Event) -> None:
        self._on_lock(ev, "waits")

    def _on_lock_held(self, ev: Event) -> None:
        self._on_lock(ev, "held (lockdep)")


def story(trace: Trace) -> list[StoryEvent]:
    """The story events of ``trace`` in story order (seq order, runs of stalls placed before the next invocation)."""
    end = trace.state_at(len(trace) - 1) if len(trace) else None
    return _Reader(trace, end).read()
