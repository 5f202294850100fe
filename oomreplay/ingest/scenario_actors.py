"""Scenarios in the actor form: one ordered list of steps per actor, for ``oomreplay explore`` to interleave.

The form is documented in ``traces/scenarios/README.md``. Declarations and the fixed ``[[step]]`` list (here a
prologue, applied before any actor moves) are the compiler's (``scenario_compiler``), read and checked the same
way and refused with the same ``FILE:LINE: reason``. Each ``[[actor.step]]`` is checked once, statically: its
type, its keys, its names, its guard (``if``); what it does in a given interleaving is decided by the state
there, by the explorer. A scenario without actors is one fixed interleaving: its steps are the one actor's.

Each step becomes an *op*, the plain dict ``oomreplay.explore.program`` hands to the core: ``emit`` (events
whose content the step says), ``take``, ``release``, ``alloc`` (outcome ``auto``: decided by the watermarks),
``kill`` (no task: the OOM killer's choice), ``done``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..model import Event
from ..model.events import ALLOC_OUTCOMES
from ..model.flags import flag_target
from .errors import ScenarioError
from .scenario_compiler import STEPS, _COMMON, _Compiler

#: Step types an actor may use: the compiler's, less the reaper's (it is built in), and ``done``.
ACTOR_STEPS = {k: v for k, v in STEPS.items() if not k.startswith("reaper_") and k != "oom_end"} | {"done": ()}
#: Keys an actor's step takes beyond the fixed form's: its guard; for an allocation the watermark it is checked
#: against and its zone; for the OOM killer's own choice, one more allocation attempt (``retry`` = a watermark,
#: with its order and gfp) after choosing and before killing.
_ACTOR_KEYS = {"alloc": ("watermark", "zone"), "kill": ("retry", "order", "gfp")}
WATERMARKS = ("min", "low", "high")
#: What each guard condition is made of: its leading key, then the keys it may add.
GUARDS: dict[str, tuple[str, ...]] = {
    "alloc": ("task",),
    "flag": ("mm", "task", "set"),
    "lock": ("mm", "held_by"),
    "zone": ("above", "below"),
    "victim": ("reaper",),
}
VICTIM_STATUSES = ("reaped", "unable", "skipped", "exited", "pending", "none")
#: What an ``[[expect]]`` may ask of an outcome.
EXPECT_KEYS = ("kills", "needless_kill", "blocked", "anomaly", "panic", "killed", "reaped", "unable", "skipped",
               "exited", "pending")


class ActorStep(NamedTuple):
    line: int
    table: dict[str, Any]  # as written, with the actor's task filled in
    op: dict[str, Any]
    guard: list[dict[str, Any]]


class Actor(NamedTuple):
    name: str
    task: str | None
    pid: int | None
    line: int
    steps: list[ActorStep]


class Expect(NamedTuple):
    line: int
    kind: str  # exists / forbid
    name: str | None
    where: dict[str, Any]


class ActorScenario(NamedTuple):
    path: str
    doc: dict[str, Any]  # the parsed TOML, for writing witnesses with the same declarations
    info: dict[str, Any]
    init: list[Event]  # the declarations and the prologue, compiled
    prologue: list[dict[str, Any]]  # the prologue's [[step]] tables
    actors: list[Actor]
    expects: list[Expect]
    tasks: dict[str, dict[str, Any]]
    mms: dict[str, int]
    zones: dict[str, tuple[int, str]]
    fixed: bool  # no actors: the [[step]] list is the one interleaving


class _Parser(_Compiler):
    """The compiler's declarations and checks, with steps collected as ops instead of applied."""

    actor_task: str | None = None  # the task of the actor whose steps are being read

    def guard(self, raw: Any, actor_task: str | None) -> list[dict[str, Any]]:
        conds = raw if isinstance(raw, list) else [raw]
        out = []
        for c in conds:
            if not isinstance(c, dict) or not c:
                self.fail("'if' is a table such as { alloc = \"fail\" }, or a list of them")
            lead = [k for k in c if k in GUARDS]
            if len(lead) != 1:
                self.fail(f"a guard names one of {', '.join(GUARDS)}; this one names {len(lead)}")
            what = lead[0]
            unknown = set(c) - {what, *GUARDS[what]}
            if unknown:
                self.fail(f"guard on {what}: unknown key {sorted(unknown)[0]!r}")
            out.append(getattr(self, f"_if_{what}")(c, actor_task))
        return out

    def _guard_task(self, c: dict[str, Any], actor_task: str | None, key: str = "task") -> int:
        name = c.get(key, actor_task)
        if name is None:
            self.fail(f"this guard needs a {key} (the actor has none)")
        return self.task({"do": "guard", key: name}, key)[1]

    def _if_alloc(self, c, actor_task):
        if c["alloc"] not in ALLOC_OUTCOMES:
            self.fail(f"guard on alloc: outcomes are {', '.join(ALLOC_OUTCOMES)}, not {c['alloc']!r}")
        return {"if": "alloc", "pid": self._guard_task(c, actor_task), "outcome": c["alloc"]}

    def _if_flag(self, c, actor_task):
        flag, on = c["flag"], c.get("set", True)
        if not isinstance(flag, str) or not isinstance(on, bool):
            self.fail("guard on flag: flag is a name and set is true or false")
        if flag_target(flag) == "mm":
            if "mm" in c:
                return {"if": "flag", "mm": self.mm(c["mm"]), "pid": None, "flag": flag, "set": on}
            pid = self._guard_task(c, actor_task)
            tgid = next(t["tgid"] for t in self.tasks.values() if t["pid"] == pid)
            return {"if": "flag", "mm": tgid, "pid": None, "flag": flag, "set": on}
        return {"if": "flag", "mm": None, "pid": self._guard_task(c, actor_task), "flag": flag, "set": on}

    def _if_lock(self, c, actor_task):
        name, _ = self.lock({"lock": c["lock"], "mm": c.get("mm")})
        who = c.get("held_by", "anyone")
        holder = who if who in ("nobody", "anyone") else self.task({"do": "guard", "task": who})[1]
        return {"if": "lock", "lock": name, "holder": holder}

    def _if_zone(self, c, actor_task):
        if c["zone"] not in self.zones:
            self.fail(f"unknown zone {c['zone']!r} (declare it in a [[zone]])")
        sides = [k for k in ("above", "below") if k in c]
        if len(sides) != 1 or c[sides[0]] not in WATERMARKS:
            self.fail(f"guard on zone: say above = or below = one of {', '.join(WATERMARKS)}")
        return {"if": "zone", "zone": self.zones[c["zone"]], "level": c[sides[0]], "above": sides[0] == "above"}

    def _if_victim(self, c, actor_task):
        status = c.get("reaper", "pending")
        if status not in VICTIM_STATUSES:
            self.fail(f"guard on victim: reaper is one of {', '.join(VICTIM_STATUSES)}, not {status!r}")
        return {"if": "victim", "pid": self._guard_task(c, actor_task, "victim"), "status": status}

    def collect(self, step: dict[str, Any]) -> list[Event]:
        """The events a step says in full, made by the compiler's own handler but not applied."""
        self.collected = []
        try:
            getattr(self, f"_do_{step['do']}")(step)
            return self.collected
        finally:
            self.collected = None

    def op(self, step: dict[str, Any]) -> dict[str, Any]:
        do = step["do"]
        if do == "take":
            name, pid = self.task(step)
            lock, f = self.lock(step)
            return {"op": "take", "pid": pid, "lock": lock, "mm": f["mm"], "write": self._mode(step) == "w",
                    "site": step.get("site")}
        if do == "release":
            _, pid = self.task(step)
            lock, f = self.lock(step)
            return {"op": "release", "pid": pid, "lock": lock, "mm": f["mm"]}
        if do == "alloc":
            return self._alloc(step)
        if do == "kill":
            victim = self.task(step)[1] if step.get("task") is not None else None
            return {"op": "kill", "victim": victim, "points": step.get("points"), "retry": self._retry(step, victim)}
        if do == "done":
            return {"op": "done"}
        return {"op": "emit", "events": self.collect(step)}

    def _retry(self, step: dict[str, Any], victim: int | None) -> dict[str, Any] | None:
        level = step.get("retry")
        if level is None:
            return None
        if level not in WATERMARKS or victim is not None or self.actor_task is None:
            self.fail(f"retry is a watermark ({', '.join(WATERMARKS)}), for the OOM killer's own choice (no task) "
                      f"in an actor that is a task")
        return {"pid": self.tasks[self.actor_task]["pid"], "order": step.get("order", 0), "gfp": step.get("gfp"),
                "level": level}

    def _alloc(self, step: dict[str, Any]) -> dict[str, Any]:
        _, pid = self.task(step)
        outcome = step.get("outcome", "stall")
        if outcome not in (*ALLOC_OUTCOMES, "auto"):
            self.fail(f"unknown allocation outcome {outcome!r}; outcomes are: {', '.join(ALLOC_OUTCOMES)}, auto")
        level = step.get("watermark", "min")
        if level not in WATERMARKS:
            self.fail(f"unknown watermark {level!r}; watermarks are: {', '.join(WATERMARKS)}")
        zone = step.get("zone")
        if zone is not None and zone not in self.zones:
            self.fail(f"unknown zone {zone!r} (declare it in a [[zone]])")
        then = self.collect({"do": "state", "task": step["task"], "state": step.get("state", "R"),
                             "site": step.get("site")}) if "state" in step or "site" in step else []
        return {"op": "alloc", "pid": pid, "order": step.get("order", 0), "gfp": step.get("gfp"),
                "outcome": None if outcome == "auto" else outcome, "level": level,
                "zone": self.zones[zone] if zone else None, "then": then}

    def actor_steps(self, line: int, actor: dict[str, Any], first: int) -> Actor:
        self.line = line
        unknown = set(actor) - {"name", "task", "step"}
        if unknown:
            self.fail(f"actor: unknown key {sorted(unknown)[0]!r}")
        task = actor.get("task")
        if task is not None and task not in self.tasks:
            self.fail(f"unknown task {task!r} (declare it in a [[task]])")
        name = actor.get("name", task)
        if not isinstance(name, str) or not name:
            self.fail("an [[actor]] needs a task or a name")
        steps = actor.get("step", [])
        if not isinstance(steps, list) or not steps:
            self.fail(f"actor {name!r} has no [[actor.step]]")
        lines = self.lines.headers.get("actor.step", [])
        self.actor_task = task
        out = []
        for j, raw in enumerate(steps):
            self.line = lines[first + j] if first + j < len(lines) else line
            out.append(self._actor_step(raw, task))
        pid = self.tasks[task]["pid"] if task else None
        return Actor(name, task, pid, line, out)

    def _actor_step(self, raw: Any, task: str | None) -> ActorStep:
        if not isinstance(raw, dict):
            self.fail("'step' must be written as [[actor.step]] tables")
        do = raw.get("do")
        if do not in ACTOR_STEPS:
            if do in STEPS:
                self.fail(f"step '{do}' is the built-in reaper's (or the OOM killer's) in the actor form")
            self.fail(f"unknown step type {do!r}; step types are: {', '.join(ACTOR_STEPS)}")
        unknown = set(raw) - set(_COMMON) - {"if"} - set(ACTOR_STEPS[do]) - set(_ACTOR_KEYS.get(do, ()))
        if unknown:
            self.fail(f"step '{do}': unknown key {sorted(unknown)[0]!r}")
        if "at" in raw:
            self.fail("an actor's step has no time: the interleaving decides it")
        step = dict(raw)
        if task is not None and do not in ("kill", "zone", "done") and "task" not in step:
            step["task"] = task
        guard = self.guard(step.pop("if"), task) if "if" in step else []
        return ActorStep(self.line, step, self.op(step), guard)

    def expects(self) -> list[Expect]:
        out = []
        names = {t: d["pid"] for t, d in self.tasks.items()}
        actors = {a.get("name", a.get("task")) for a in self.doc.get("actor", []) if isinstance(a, dict)}
        for line, e in self._table("expect"):
            self.line = line
            kinds = [k for k in ("exists", "forbid") if k in e]
            if len(kinds) != 1 or set(e) - {"exists", "forbid", "name"}:
                self.fail("an [[expect]] has one of exists = { … } or forbid = { … }, and optionally a name")
            where = e[kinds[0]]
            if not isinstance(where, dict):
                self.fail(f"{kinds[0]} is a table such as {{ kills = 2 }}")
            for k, v in where.items():
                if k not in EXPECT_KEYS:
                    self.fail(f"expect: unknown key {k!r}; keys are: {', '.join(EXPECT_KEYS)}")
                if k == "kills" and (not isinstance(v, int) or isinstance(v, bool)):
                    self.fail("expect: kills is a number")
                if k in ("needless_kill", "anomaly", "panic") and not isinstance(v, bool):
                    self.fail(f"expect: {k} is true or false")
                if k == "blocked" and not isinstance(v, bool) and not (
                        isinstance(v, list) and all(x in actors for x in v)):
                    self.fail("expect: blocked is true, false, or a list of actor names")
                if k in ("killed", *VICTIM_STATUSES) and not (
                        isinstance(v, list) and all(isinstance(x, str) and x in names for x in v)):
                    self.fail(f"expect: {k} is a list of declared task names")
            out.append(Expect(line, kinds[0], e.get("name") if isinstance(e.get("name"), str) else None, where))
        return out


def parse_actor_scenario(path: str, text: str) -> ActorScenario:
    """The scenario at ``path`` (its ``text``) ready for the explorer; raises ``ScenarioError``."""
    p = _Parser(path, text)
    p.declare()
    prologue_tables = p.doc.get("step", []) if isinstance(p.doc.get("step"), list) else []
    raw_actors = p.doc.get("actor", [])
    if not isinstance(raw_actors, list):
        p.fail("'actor' must be written as [[actor]] tables")
    fixed = not raw_actors
    if fixed and not prologue_tables:
        p.fail("no [[step]] and no [[actor]] in the scenario")
    declared = len(p.events)
    if not fixed:
        for line, step in p._table("step"):
            p.line = line
            if isinstance(step, dict) and (step.get("do") == "kill" or str(step.get("do")).startswith("reaper_")):
                p.fail("with [[actor]] lists the OOM killer and the reaper act in the actors' interleavings: "
                       "write this step in an actor")
    p.steps()
    actors: list[Actor] = []
    if fixed:
        actors.append(_fixed_actor(p, declared))
        init = p.events[:declared]
    else:
        init = list(p.events)
        first = 0
        for i, a in enumerate(raw_actors):
            line = p.lines.table("actor", i)
            if not isinstance(a, dict):
                p.line = line
                p.fail("'actor' must be written as [[actor]] tables")
            actors.append(p.actor_steps(line, a, first))
            first += len(a.get("step", [])) if isinstance(a.get("step"), list) else 0
        if len({a.name for a in actors}) < len(actors):
            p.fail("two actors have the same name", actors[-1].line)
    info = p.doc.get("scenario", {})
    return ActorScenario(path, p.doc, info if isinstance(info, dict) else {}, init, prologue_tables, actors,
                         p.expects(), p.tasks, p.mms, p.zones, fixed)


def _fixed_actor(p: _Parser, declared: int) -> Actor:
    """A fixed scenario's steps as one actor: each step's compiled events (a kill as a kill, so it is counted)."""
    by_line: dict[int, list[Event]] = {}
    for ev in p.events[declared:]:
        by_line.setdefault(ev.src.line, []).append(ev)
    steps = []
    for line, step in p._table("step"):
        events = [e for e in by_line.get(line, []) if e.kind not in ("mark", "note")]
        kill = next((e for e in events if e.kind == "oom_kill"), None)
        op = {"op": "kill", "victim": kill.pid, "points": kill.get("points"), "retry": None} if kill is not None and len(
            events) == 1 else {"op": "emit", "events": events}
        steps.append(ActorStep(line, step, op, []))
    return Actor("steps", None, None, p.lines.table("step", 0), steps)


__all__ = ["ActorScenario", "Actor", "ActorStep", "Expect", "ScenarioError", "parse_actor_scenario"]
