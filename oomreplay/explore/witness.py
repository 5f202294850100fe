"""A witness as a fixed-order scenario: the same declarations and prologue, then every step in the order the
interleaving took, with what the state decided written down (the allocation's outcome, the OOM killer's victim,
each reaper attempt). Compiled by the scenario compiler like any scenario (which checks every step against the
model again), it replays in ``replay`` and ``present``.

Times: a witness has an order, not a clock; steps are written 1 ms apart, the reaper's tries at least HZ/10
(100 ms) apart and, where the kernel has the timer (≥ 5.18), its wake-up OOM_REAPER_DELAY (2 s) after the kill.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._util.tomlwrite import table
from ..ingest.scenario import convert_scenario
from ..ingest.scenario_actors import ActorScenario
from .outcome import OutcomeClass
from .program import kernel_version

_STEP_GAP, _TRY_GAP, _TIMER = 0.001, 0.1, 2.0
#: a lock event's fields as a step writes them
_LOCK_STEPS = {"lock_acquire": "take", "lock_contended": "wait", "lock_release": "release"}


class _Names:
    def __init__(self, scn: ActorScenario) -> None:
        self.task = {t["pid"]: name for name, t in scn.tasks.items()}
        self.mm = {i: name for name, i in scn.mms.items()}
        self.zone = {z: name for name, z in scn.zones.items()}


def _step(ev: Any, n: _Names) -> dict[str, Any]:
    """The fixed-form step that compiles into ``ev``."""
    f, kind = ev.fields, ev.kind
    task = n.task.get(ev.pid) if ev.pid is not None else None
    if kind in _LOCK_STEPS:
        out = {"do": _LOCK_STEPS[kind], "task": task, "lock": f["lock"]}
        if f.get("mm") is not None:
            out["mm"] = n.mm[f["mm"]]
        if kind != "lock_release":
            out |= {"mode": f.get("mode"), "site": f.get("site")}
        return out
    if kind in ("flag_set", "flag_clear"):
        out = {"do": "set_flag" if kind == "flag_set" else "clear_flag", "flag": f["flag"]}
        return out | ({"mm": n.mm[f["mm"]]} if f.get("mm") is not None else {"task": task})
    if kind == "zone":
        return {"do": "zone", "zone": n.zone[(f.get("node") or 0, f["zone"])],
                **{k: f.get(k) for k in ("free_kb", "min_kb", "low_kb", "high_kb")}}
    simple = {
        "task_state": ("state", ("state", "site")),
        "alloc": ("alloc", ("order", "gfp", "outcome")),
        "oom_invoke": ("oom", ("order", "gfp", "constraint", "memcg")),
        "oom_kill": ("kill", ("points",)),
        "oom_end": ("oom_end", ("outcome", "reason")),
        "reaper_wake": ("reaper_wake", ()),
        "reaper_attempt": ("reaper_try", ("n", "outcome")),
        "reaper_done": ("reaper_done", ("outcome",)),
        "task_exit": ("exit", ()),
    }
    do, keys = simple[kind]
    return {"do": do, "task": task, **{k: f.get(k) for k in keys}}


def witness_steps(scn: ActorScenario, cls: OutcomeClass) -> list[dict[str, Any]]:
    """The witness's ``[[step]]`` tables, the prologue's first, each with its time."""
    if scn.fixed:  # the one interleaving is the scenario itself
        return [dict(scn.actors[0].steps[m["step"]].table) for m in cls.witness if m["step"] is not None]
    names = _Names(scn)
    out: list[dict[str, Any]] = []
    t = 0.0
    for i, step in enumerate(scn.prologue):
        at = step.get("at")
        t = float(at) if at is not None else (t + _STEP_GAP if i else 0.0)
        out.append(dict(step, at=round(t, 6)))
    killed: dict[int, float] = {}
    tried: dict[int, float] = {}
    timer = kernel_version(scn)[0] >= (5, 18, 0)
    for move in cls.witness:
        t += _STEP_GAP
        actor = scn.actors[move["actor"]] if move["actor"] is not None else None
        v = move["victim"]
        if actor is None and move["what"] == "try":
            t = max(t, tried.get(v, t - _TRY_GAP) + _TRY_GAP)
            tried[v] = t
        if actor is None and move["what"] == "wake" and timer and v in killed:
            t = max(t, killed[v] + _TIMER)
        t = round(t, 6)
        steps = [_step(ev, names) for ev in move["events"]]
        for ev in move["events"]:
            if ev.kind == "oom_kill":
                killed[ev.pid] = t
        source = actor.steps[move["step"]].table if actor is not None else {}
        if move["what"] == "wait_victim":
            steps = [{"do": "note", "task": actor.task if actor else None,
                      "note": "The OOM killer kills nobody: a victim is still in flight (oom_evaluate_task aborts)."}]
        elif move["what"] == "drop":
            steps = [{"do": "note", "note": "The reaper's timer finds MMF_OOM_SKIP set: nothing to reap."}]
        if steps and move["what"] != "skip":
            for key in ("mark", "note"):
                if source.get(key) is not None and not (key == "note" and "note" in steps[0]):
                    steps[0][key] = source[key]
        out += [dict({k: x for k, x in s.items() if x is not None}, at=t) for s in steps]
    return out


def witness_toml(scn: ActorScenario, cls: OutcomeClass) -> str:
    """The witness of ``cls`` as a fixed-order scenario's text."""
    info = dict(scn.info)
    title = info.get("title") or Path(scn.path).stem
    info["title"] = f"{title}: outcome {cls.number}"
    lines = [f"# Outcome {cls.number} of {Path(scn.path).name}: {cls.label()}".replace("\n", " "),
             "# Written by oomreplay explore: the shortest interleaving that ends so, step by step.", ""]
    lines += table("scenario", {k: v for k, v in info.items() if isinstance(v, (str, int, float, bool))}, array=False)
    for name in ("mm", "lock", "task", "zone"):
        for item in scn.doc.get(name, []):
            lines += ["", *table(name, item)]
    for step in witness_steps(scn, cls):
        lines += ["", *table("step", step)]
    return "\n".join(lines) + "\n"


def write_witness(scn: ActorScenario, cls: OutcomeClass, directory: Path) -> tuple[Path, Path]:
    """``DIR/outcome-N.toml`` and its trace ``DIR/outcome-N.oomtrace``."""
    directory.mkdir(parents=True, exist_ok=True)
    toml = directory / f"outcome-{cls.number}.toml"
    toml.write_text(witness_toml(scn, cls), encoding="utf-8")
    trace = directory / f"outcome-{cls.number}.oomtrace"
    convert_scenario(str(toml), trace)
    return toml, trace
