"""Scenarios: an interleaving written by hand in TOML, compiled into a trace with the same model as a real log.

The format is documented in ``traces/scenarios/README.md``. Each ``[[step]]`` becomes one or more events; every
event is applied with ``oomreplay.model.apply_fields`` as it is compiled, and a step that the model finds
impossible (it adds an anomaly: a lock released that was not held, an eleventh reaper attempt, ...) is refused
with the file, the step's line and the reason, as is anything the scenario itself does not know (an unknown task,
lock, zone, step type or key). tomllib gives no line numbers, so the line of the n-th ``[[step]]`` (``[[task]]``,
...) is the n-th line that is exactly such a header; a header written inside a multi-line string would shift them.
"""

from __future__ import annotations

import math
import re
import tomllib
from typing import Any

from .._util.tomllines import TomlLines
from ..model import Event, State, apply_fields
from ..model.events import (ALLOC_OUTCOMES, LOCK_MODES, OOM_END_OUTCOMES, OOM_END_REASONS,
                            REAPER_ATTEMPT_OUTCOMES)
from ..model.flags import MAX_OOM_REAP_RETRIES, flag_target
from .errors import ScenarioError

#: The lock names that are an mm's mmap lock (mmap_sem before 5.8): they need an ``mm``.
MM_LOCKS = ("mmap_lock", "mmap_sem", "&mm->mmap_sem", "&mm->mmap_lock")

#: step type -> the keys it accepts besides ``do``, ``at``, ``mark`` and ``note``
STEPS: dict[str, tuple[str, ...]] = {
    "take": ("task", "lock", "mm", "mode", "site"),
    "wait": ("task", "lock", "mm", "mode", "site"),
    "release": ("task", "lock", "mm"),
    "alloc": ("task", "order", "gfp", "outcome", "state", "site"),
    "state": ("task", "state", "site"),
    "oom": ("task", "order", "gfp", "constraint", "memcg"),
    "kill": ("task", "points"),
    "set_flag": ("task", "mm", "flag"),
    "clear_flag": ("task", "mm", "flag"),
    "reaper_wake": ("task",),
    "reaper_try": ("task", "n", "outcome"),
    "reaper_done": ("task", "outcome"),
    "zone": ("zone", "free_kb", "min_kb", "low_kb", "high_kb"),
    "exit": ("task",),
    "oom_end": ("task", "outcome", "reason"),
    "note": ("task",),
}
_COMMON = ("do", "at", "mark", "note")
_INT_KEYS = {"pid", "id", "tgid", "node", "oom_score_adj", "order", "points", "n", "free_kb", "min_kb", "low_kb",
             "high_kb", "managed_kb", "rss_kb"}
_STR_KEYS = {"name", "comm", "task", "mm", "lock", "mode", "site", "gfp", "outcome", "state", "constraint",
             "memcg", "flag", "zone", "do", "mark", "note", "reason", "watermark"}
_TOML_LINE = re.compile(r"at line (\d+)")


#: the latest time a step may be at: the trace's clock is i64 nanoseconds
_MAX_AT = (2**63 - 1) / 1e9


class _Compiler:
    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.lines = TomlLines(text)
        try:
            self.doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            m = _TOML_LINE.search(str(e))
            raise ScenarioError(f"{path}:{m.group(1) if m else 1}: bad TOML: {e}") from None
        except ValueError as e:  # an integer of more digits than Python reads (4,300)
            raise ScenarioError(f"{path}: a number too long to read: {e}") from None
        steps = self.doc.get("step")
        first = steps[0].get("at") if isinstance(steps, list) and steps and isinstance(steps[0], dict) else None
        self.state = State()
        self.events: list[Event] = []
        self.line = 1
        self.ts = round(first * 1e9) if isinstance(first, (int, float)) and not isinstance(first, bool) \
            and 0 <= first <= _MAX_AT else 0
        self.tasks: dict[str, dict[str, Any]] = {}
        self.mms: dict[str, int] = {}
        self.locks: set[str] = set()
        self.zones: dict[str, tuple[int, str]] = {}
        #: when a list, ``emit`` collects the events instead of applying them: an actor's step, made into the
        #: events the explorer applies in each interleaving
        self.collected: list[Event] | None = None

    def fail(self, reason: str, line: int | None = None) -> None:
        raise ScenarioError(f"{self.path}:{self.line if line is None else line}: {reason}")

    def _table(self, name: str) -> list[tuple[int, dict[str, Any]]]:
        items = self.doc.get(name, [])
        if not isinstance(items, list):
            self.fail(f"'{name}' must be written as [[{name}]] tables")
        lines = self.lines.headers.get(name, [])
        out = [(lines[i] if i < len(lines) else 1, item) for i, item in enumerate(items)]
        for line, item in out:
            self.line = line
            if not isinstance(item, dict):
                self.fail(f"'{name}' must be written as [[{name}]] tables")
            for key, value in item.items():
                if key in _INT_KEYS and (not isinstance(value, int) or isinstance(value, bool)):
                    self.fail(f"'{key}' must be an integer, not {value!r}")
                if key in _STR_KEYS and not isinstance(value, str):
                    self.fail(f"'{key}' must be a string, not {value!r}")
                if key == "at" and (isinstance(value, bool) or not isinstance(value, (int, float))
                                    or not math.isfinite(value) or not 0 <= value <= _MAX_AT):
                    self.fail(f"'at' must be a time in seconds, not {value!r}")
        return out

    def emit(self, kind: str, pid: int | None, fields: dict[str, Any], what: str) -> None:
        try:
            ev = Event(self.ts, kind, pid, fields, src=(0, self.line), seq=len(self.events))
        except (ValueError, OverflowError) as e:  # a number the kernel's types cannot hold (an id past 64 bits)
            self.fail(f"{what}: {e}")
        if self.collected is not None:
            self.collected.append(ev)
            return
        before = len(self.state.anomalies)
        apply_fields(self.state, ev.seq, ev.ts_ns, ev.kind, ev.pid, ev.fields, ev.inferred)
        if len(self.state.anomalies) > before:
            self.fail(f"impossible step ({what}): {self.state.anomalies[before].message}")
        self.events.append(ev)

    # declarations

    def declare(self) -> None:
        top = set(self.doc) - {"scenario", "task", "mm", "lock", "zone", "step", "actor", "expect"}
        if top:
            self.fail(f"unknown top-level key {sorted(top)[0]!r}")
        for line, m in self._table("mm"):
            self.line = line
            name = self._name(m, "mm")
            if not isinstance(m.get("id"), int):
                self.fail(f"mm {name!r} needs an integer id (usually its owner's tgid)")
            if name in self.mms:
                self.fail(f"mm {name!r} declared twice")
            self.mms[name] = m["id"]
        for line, lk in self._table("lock"):
            self.line = line
            self.locks.add(self._name(lk, "lock"))
        for line, t in self._table("task"):
            self.line = line
            name = self._name(t, "task")
            unknown = set(t) - {"name", "pid", "comm", "mm", "oom_score_adj", "tgid", "points", "rss_kb"}
            if unknown:
                self.fail(f"task {name!r}: unknown key {sorted(unknown)[0]!r}")
            if not isinstance(t.get("pid"), int):
                self.fail(f"task {name!r} needs an integer pid")
            if name in self.tasks or any(d["pid"] == t["pid"] for d in self.tasks.values()):
                self.fail(f"task {name!r} (pid {t['pid']}) declared twice")
            mm = t.get("mm")
            if mm is not None and mm not in self.mms:
                self.fail(f"task {name!r}: unknown mm {mm!r}")
            tgid = t.get("tgid", self.mms[mm] if mm is not None else t["pid"])
            self.tasks[name] = {"pid": t["pid"], "comm": t.get("comm", name), "mm": mm, "tgid": tgid,
                                "points": t.get("points"), "rss_kb": t.get("rss_kb"),
                                "oom_score_adj": t.get("oom_score_adj")}
            self.emit("task", t["pid"], {"tgid": tgid, "comm": t.get("comm", name),
                                         "oom_score_adj": t.get("oom_score_adj")}, f"task {name}")
        for line, z in self._table("zone"):
            self.line = line
            name = self._name(z, "zone")
            unknown = set(z) - {"name", "node", "free_kb", "min_kb", "low_kb", "high_kb", "managed_kb"}
            if unknown:
                self.fail(f"zone {name!r}: unknown key {sorted(unknown)[0]!r}")
            self.zones[name] = (z.get("node", 0), name)
            self.emit("zone", None, {"node": z.get("node", 0), "zone": name,
                                     **{k: z.get(k) for k in ("free_kb", "min_kb", "low_kb", "high_kb",
                                                              "managed_kb")}}, f"zone {name}")

    def _name(self, table: dict[str, Any], what: str) -> str:
        name = table.get("name")
        if not isinstance(name, str) or not name:
            self.fail(f"a [[{what}]] needs a name")
        return name  # type: ignore[return-value]

    # steps

    def task(self, step: dict[str, Any], key: str = "task") -> tuple[str, int]:
        name = step.get(key)
        if name is None:
            self.fail(f"step '{step['do']}' needs a {key}")
        if name not in self.tasks:
            self.fail(f"unknown task {name!r} (declare it in a [[task]])")
        return name, self.tasks[name]["pid"]

    def mm(self, name: Any) -> int:
        if name not in self.mms:
            self.fail(f"unknown mm {name!r} (declare it in a [[mm]])")
        return self.mms[name]

    def lock(self, step: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name = step.get("lock", "mmap_lock")
        mm = step.get("mm")
        if name in MM_LOCKS:
            if mm is None:
                self.fail(f"lock {name!r} is an mm's lock: say whose with mm = \"...\"")
            return name, {"lock": name, "mm": self.mm(mm)}
        if name not in self.locks:
            self.fail(f"unknown lock {name!r} (declare it in a [[lock]])")
        return name, {"lock": name, "mm": self.mm(mm) if mm is not None else None}

    def steps(self) -> None:
        for line, step in self._table("step"):
            self.line = line
            do = step.get("do")
            if do not in STEPS:
                self.fail(f"unknown step type {do!r}; step types are: {', '.join(STEPS)}")
            unknown = set(step) - set(_COMMON) - set(STEPS[do])
            if unknown:
                self.fail(f"step '{do}': unknown key {sorted(unknown)[0]!r}")
            if "at" in step:
                at = step["at"]
                ts = round(at * 1e9)
                if ts < self.ts:
                    self.fail(f"time goes backwards: at = {at} is before the previous step")
                self.ts = ts
            else:
                self.ts += 1_000_000 if self.events else 0
            getattr(self, f"_do_{do}")(step)
            if step.get("mark") is not None:
                self.emit("mark", self._pid(step), {"title": str(step["mark"]), "note": step.get("note")}, "mark")
            elif step.get("note") is not None:
                self.emit("note", self._pid(step), {"text": str(step["note"])}, "note")

    def _pid(self, step: dict[str, Any]) -> int | None:
        name = step.get("task")
        return self.tasks[name]["pid"] if name in self.tasks else None

    def _mode(self, step: dict[str, Any]) -> str:
        mode = step.get("mode", "w")
        if mode not in LOCK_MODES:
            self.fail(f"unknown lock mode {mode!r}; modes are r and w")
        return mode

    def _do_take(self, step):
        name, pid = self.task(step)
        lock, f = self.lock(step)
        self.emit("lock_acquire", pid, {**f, "mode": self._mode(step), "site": step.get("site")},
                  f"{name} takes {lock}")

    def _do_wait(self, step):
        name, pid = self.task(step)
        lock, f = self.lock(step)
        self.emit("lock_contended", pid, {**f, "mode": self._mode(step), "site": step.get("site")},
                  f"{name} waits for {lock}")

    def _do_release(self, step):
        name, pid = self.task(step)
        lock, f = self.lock(step)
        held = self.state.locks.get(lock)
        if held is None or not any(h.pid == pid for h in held.holders):
            self.fail(f"impossible step: {name} releases {lock}, which it does not hold")
        self.emit("lock_release", pid, f, f"{name} releases {lock}")

    def _do_alloc(self, step):
        name, pid = self.task(step)
        outcome = step.get("outcome", "stall")
        if outcome not in ALLOC_OUTCOMES:
            self.fail(f"unknown allocation outcome {outcome!r}; outcomes are: {', '.join(ALLOC_OUTCOMES)}")
        self.emit("alloc", pid, {"order": step.get("order", 0), "gfp": step.get("gfp"), "outcome": outcome},
                  f"{name} allocates")
        if "state" in step or "site" in step:
            self.emit("task_state", pid, {"state": step.get("state", "R"), "site": step.get("site")},
                      f"{name} state")

    def _do_state(self, step):
        name, pid = self.task(step)
        self.emit("task_state", pid, {"state": step.get("state"), "site": step.get("site")}, f"{name} state")

    def _do_oom(self, step):
        name, pid = self.task(step)
        self.emit("oom_invoke", pid, {"gfp": step.get("gfp"), "order": step.get("order", 0),
                                      "constraint": step.get("constraint"), "memcg": step.get("memcg"),
                                      "comm": self.tasks[name]["comm"]}, f"{name} invokes the OOM killer")

    def _do_kill(self, step):
        name, pid = self.task(step)
        if self.state.tasks.get(pid) is not None and self.state.tasks[pid].exited:
            self.fail(f"impossible step: OOM kills {name}, which has exited")
        self.emit("oom_kill", pid, {"comm": self.tasks[name]["comm"], "points": step.get("points")},
                  f"OOM kills {name}")

    def _flag(self, step, on: bool):
        flag = step.get("flag")
        if not isinstance(flag, str) or not flag:
            self.fail(f"step '{step['do']}' needs a flag")
        f: dict[str, Any] = {"flag": flag}
        pid = None
        if flag_target(flag) == "mm":
            if "mm" in step:
                f["mm"] = self.mm(step["mm"])
            elif "task" in step:
                _, pid = self.task(step)
            else:
                self.fail(f"{flag} is an mm flag: say which with mm = \"...\"")
        else:
            _, pid = self.task(step)
        self.emit("flag_set" if on else "flag_clear", pid, f, f"{'set' if on else 'clear'} {flag}")

    def _do_set_flag(self, step):
        self._flag(step, True)

    def _do_clear_flag(self, step):
        self._flag(step, False)

    def _victim(self, step) -> tuple[str, int]:
        name, pid = self.task(step)
        if self.state.victims.get(pid) is None:
            self.fail(f"impossible step: the reaper acts on {name}, which was not OOM-killed")
        return name, pid

    def _do_reaper_wake(self, step):
        name, pid = self._victim(step)
        self.emit("reaper_wake", pid, {"comm": self.tasks[name]["comm"]}, f"the reaper wakes for {name}")

    def _do_reaper_try(self, step):
        name, pid = self._victim(step)
        v = self.state.victims[pid]
        n = step.get("n", len(v.attempts) + 1)
        mm = self.state.mms.get(v.mm)
        lock = next((lk for lk in self.state.locks.values() if lk.mm == v.mm and lk.name in MM_LOCKS), None)
        # a writer holding the lock, or queued for it (it blocks new readers), makes the read trylock fail
        writer = next((h for h in lock.holders + lock.waiters if h.mode == "w"), None) if lock else None
        possible = ("lock_busy",) if writer is not None else (
            ("skipped",) if mm is not None and "MMF_OOM_SKIP" in mm.flags else ("reaped", "skipped"))
        outcome = step.get("outcome", possible[0])
        if outcome not in REAPER_ATTEMPT_OUTCOMES:
            self.fail(f"unknown reaper attempt outcome {outcome!r}; outcomes are: "
                      f"{', '.join(REAPER_ATTEMPT_OUTCOMES)}")
        if outcome not in possible:
            holder = next((t for t, d in self.tasks.items() if writer and d["pid"] == writer.pid), None)
            how = "holds" if writer in lock.holders else "waits for"  # type: ignore[union-attr]
            why = (f"{holder or writer.pid} {how} {lock.name} of its mm for write" if writer is not None else
                   "nobody holds its mm's lock for write, so the trylock succeeds")
            self.fail(f"impossible step: reaper attempt {n} on {name} cannot be {outcome!r}: {why}")
        self.emit("reaper_attempt", pid, {"n": n, "outcome": outcome, "comm": self.tasks[name]["comm"]},
                  f"reaper attempt {n} on {name}")

    def _do_reaper_done(self, step):
        name, pid = self._victim(step)
        outcome = step.get("outcome", "reaped")
        attempts = self.state.victims[pid].attempts
        if outcome == "unable" and (len(attempts) < MAX_OOM_REAP_RETRIES or "reaped" in attempts):
            self.fail(f"impossible step: the reaper gives up on {name} after {len(attempts)} attempt(s); it "
                      f"only gives up after {MAX_OOM_REAP_RETRIES} failed ones")
        if outcome == "reaped" and "reaped" not in attempts:
            self.fail(f"impossible step: {name} reaped, but no reaper attempt succeeded")
        self.emit("reaper_done", pid, {"outcome": outcome, "comm": self.tasks[name]["comm"]},
                  f"the reaper is done with {name}")

    def _do_zone(self, step):
        name = step.get("zone")
        if name not in self.zones:
            self.fail(f"unknown zone {name!r} (declare it in a [[zone]])")
        node, zone = self.zones[name]
        self.emit("zone", None, {"node": node, "zone": zone,
                                 **{k: step.get(k) for k in ("free_kb", "min_kb", "low_kb", "high_kb")}},
                  f"zone {name}")

    def _do_exit(self, step):
        name, pid = self.task(step)
        self.emit("task_exit", pid, {"comm": self.tasks[name]["comm"]}, f"{name} exits")

    def _do_oom_end(self, step):
        name, pid = self.task(step)
        outcome, reason = step.get("outcome", "no_killable"), step.get("reason")
        if outcome not in OOM_END_OUTCOMES:
            self.fail(f"unknown OOM ending {outcome!r}; endings are: {', '.join(OOM_END_OUTCOMES)}")
        if reason is not None and reason not in OOM_END_REASONS:
            self.fail(f"unknown OOM ending reason {reason!r}; reasons are: {', '.join(OOM_END_REASONS)}")
        self.emit("oom_end", pid, {"outcome": outcome, "reason": reason, "comm": self.tasks[name]["comm"]},
                  f"{name}'s OOM invocation ends")

    def _do_note(self, step):
        if step.get("task") is not None:
            self.task(step)
        if step.get("mark") is None and step.get("note") is None:
            self.fail("step 'note' needs a mark or a note")


def compile_scenario(path: str, text: str) -> tuple[dict[str, Any], list[Event]]:
    """The scenario's ``[scenario]`` table and its events; raises ``ScenarioError``."""
    c = _Compiler(path, text)
    c.declare()
    if "actor" in c.doc:
        c.fail(f"a scenario with [[actor]] lists is explored, not converted: oomreplay explore {path}",
               c.lines.table("actor", 0))
    if not c.doc.get("step"):
        c.fail("no [[step]] in the scenario")
    c.steps()
    info = c.doc.get("scenario", {})
    return (info if isinstance(info, dict) else {}), c.events
