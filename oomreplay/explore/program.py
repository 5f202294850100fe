"""A parsed scenario as the core's search program, with the rules of its declared kernel.

What a step leaves to the state is decided by the kernel named in ``[scenario] kernel``, as kernel-formats.md
describes it: the reaper's algorithm (§1.9: none before 4.6; its flags after success and after giving up;
``oom_lock`` around each try on 4.8–4.18; queued once per mm from 5.0; a 2 s timer from 5.18), when a victim
stops holding back the choice of another (§1.10, ``analysis.kernel.ENDINGS``), what ``mark_oom_victim`` sets
(§6), how an invocation with nothing to kill ends (§1.8), and how far below a watermark an allocation may go
by its gfp and for an OOM victim (§3.2, §3.3).
"""

from __future__ import annotations

from typing import Any

from ..analysis.kernel import FLAG_VERSIONS, REAPER_SINCE, Kernel, Version, parse_version
from ..ingest.scenario_actors import ActorScenario
from ..ingest.scenario_compiler import MM_LOCKS

#: When no kernel is named: the newest rules.
DEFAULT_KERNEL: Version = (6, 19, 0)


def kernel_version(scn: ActorScenario) -> tuple[Version, bool]:
    """The scenario's kernel, and whether it named one (else the newest rules are used)."""
    v = parse_version(str(scn.info.get("kernel") or ""))
    return (v, True) if v is not None else (DEFAULT_KERNEL, False)


def _has(v: Version, flag: str) -> bool:
    return Kernel(v, (*v[:2], v[2] + 1), "named").within(FLAG_VERSIONS[flag]) is True


def reserve(gfp: str | None, v: Version) -> tuple[int, int] | None:
    """How far an allocation with ``gfp`` may go below its watermark, as a fraction of it (None: no watermark,
    ALLOC_NO_WATERMARKS): ½ with __GFP_HIGH, ¾ for an atomic one (≤ 6.2 only, alone), ⅜ for GFP_ATOMIC (both)."""
    tokens = {t.strip() for t in (gfp or "").split("|")}
    if "__GFP_MEMALLOC" in tokens and "__GFP_NOMEMALLOC" not in tokens:
        return None
    high = bool(tokens & {"__GFP_HIGH", "GFP_ATOMIC"})
    atomic = bool(tokens & {"__GFP_ATOMIC", "GFP_ATOMIC"})
    eighths = 8
    if high:
        eighths //= 2
    if atomic and (v < (6, 3, 0) or high):
        eighths = eighths * 3 // 4
    return eighths, 8


def _flag(name: str, on: bool = True, mm: bool = True) -> tuple[str, bool, bool]:
    return name, on, mm


def rules(scn: ActorScenario, v: Version) -> dict[str, Any]:
    """The kernel's rules for the decisions the actor form leaves to the state."""
    memdie_off = _flag("TIF_MEMDIE", on=False, mm=False)
    if v < (4, 7, 0):
        on_reaped, on_unable = [memdie_off], []
    elif v < (4, 8, 0):
        on_reaped, on_unable = [_flag("MMF_OOM_REAPED"), memdie_off], [memdie_off]
    elif v < (4, 9, 0):
        on_reaped, on_unable = [_flag("MMF_OOM_REAPED"), memdie_off], [_flag("MMF_OOM_NOT_REAPABLE"), memdie_off]
    else:
        on_reaped = on_unable = [_flag("MMF_OOM_SKIP")]
    zones = list(scn.zones.values())
    reaper = None
    if v >= REAPER_SINCE and not scn.fixed:
        has_oom_lock = "oom_lock" in {lk.get("name") for lk in scn.doc.get("lock", []) if isinstance(lk, dict)}
        reaper = {
            "oom_lock": "oom_lock" if (4, 8, 0) <= v < (4, 19, 0) and has_oom_lock else None,
            "queued_flag": "MMF_OOM_REAP_QUEUED" if _has(v, "MMF_OOM_REAP_QUEUED") else None,
            "timer": v >= (5, 18, 0),
            "on_reaped": on_reaped,
            "on_unable": on_unable,
            "zone": zones[0] if zones else None,
        }
    ending = Kernel(v, (*v[:2], v[2] + 1), "named").ending() or "oom_skip"
    on_kill = [] if scn.fixed else [_flag("TIF_MEMDIE", mm=False)] + (
        [_flag("MMF_OOM_VICTIM")] if _has(v, "MMF_OOM_VICTIM") else [])
    return {
        "reaper": reaper,
        "ending": ending,
        "skip_flag": "MMF_OOM_SKIP" if v >= (4, 9, 0) else "MMF_OOM_REAPED" if v >= (4, 7, 0) else None,
        "on_kill": on_kill,
        "no_killable": ("panic", "deadlocked" if v >= (4, 19, 0) else "no_killable"),
        "victim_reserve": (1, 2) if v >= (4, 14, 0) else None,
        "mm_locks": list(MM_LOCKS),
    }


def program(scn: ActorScenario) -> dict[str, Any]:
    """The core's program for ``scn`` (see ``oomreplay._native.explore``)."""
    v, _ = kernel_version(scn)
    actors = []
    for a in scn.actors:
        steps = []
        for s in a.steps:
            op = dict(s.op, guard=s.guard)
            if op["op"] == "alloc":
                op["reserve"] = reserve(op["gfp"], v)
            if op["op"] == "kill" and op["retry"] is not None:
                op["retry"] = dict(op["retry"], reserve=reserve(op["retry"]["gfp"], v))
            steps.append(op)
        actors.append({"name": a.name, "pid": a.pid, "steps": steps})
    tasks = scn.tasks.values()
    return {
        "init": scn.init,
        "actors": actors,
        "candidates": [(t["pid"], t["points"]) for t in tasks if t.get("points") is not None],
        "rss_kb": [(t["pid"], t["rss_kb"]) for t in tasks if t.get("rss_kb") is not None],
        "zones": list(scn.zones.values()),
        "rules": rules(scn, v),
    }


__all__ = ["DEFAULT_KERNEL", "kernel_version", "program", "reserve", "rules"]
