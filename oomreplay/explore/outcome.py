"""Outcome classes as a reviewer reads them, and the scenario's ``[[expect]]`` checked against them.

The core reports each class by pids and actor indexes; here they get the scenario's names and a sentence
("2 kills: memhog reaped, postgres reaped; a kill while memory was above high"). An ``[[expect]]``'s table
matches a class when every key it gives holds: ``kills`` equal; ``needless_kill``, ``anomaly``, ``panic`` equal;
``blocked`` true/false (anyone blocked forever, the reaper included) or a list of actors that are all blocked;
``killed`` a list of tasks all killed; ``reaped``, ``unable``, ``skipped``, ``exited``, ``pending`` lists of
victims that all ended so.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .._util.plural import count
from .._util.tomlwrite import value
from ..ingest.scenario_actors import ActorScenario, Expect


class OutcomeClass(NamedTuple):
    number: int  # 1-based, in the order found (breadth first: shortest witness first)
    victims: tuple[tuple[str, str], ...]  # (task name, reaped / unable / skipped / exited / pending)
    kills: int
    needless: bool
    blocked: tuple[str, ...]  # actor names, "the reaper" when it sleeps on oom_lock forever
    anomaly: str | None
    panic: bool
    terminals: int
    paths: int
    witness: list[dict[str, Any]]  # the core's moves

    def label(self) -> str:
        """One sentence saying how the interleavings of this class end."""
        ends = ", ".join(f"{name} {status}" for name, status in self.victims)
        parts = [count(self.kills, "kill") + (f": {ends}" if ends else "")]
        if self.needless:
            parts.append("a kill while memory was above high")
        if self.blocked:
            parts.append(f"blocked forever: {', '.join(self.blocked)}")
        if self.panic:
            parts.append("panic: nothing left to kill")
        if self.anomaly:
            parts.append(f"invariant broken: {self.anomaly}")
        return "; ".join(parts)

    def matches(self, where: dict[str, Any]) -> bool:
        status = dict(self.victims)
        for key, want in where.items():
            if key == "kills" and self.kills != want:
                return False
            if key == "needless_kill" and self.needless != want:
                return False
            if key == "anomaly" and (self.anomaly is not None) != want:
                return False
            if key == "panic" and self.panic != want:
                return False
            if key == "blocked" and not (bool(self.blocked) == want if isinstance(want, bool)
                                         else set(want) <= set(self.blocked)):
                return False
            if key == "killed" and not set(want) <= set(status):
                return False
            if key in ("reaped", "unable", "skipped", "exited", "pending") and any(
                    status.get(name) != key for name in want):
                return False
        return True

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "label": self.label(), "victims": [list(v) for v in self.victims],
                "kills": self.kills, "needless_kill": self.needless, "blocked": list(self.blocked),
                "anomaly": self.anomaly, "panic": self.panic, "final_states": self.terminals,
                "interleavings": self.paths, "witness_moves": len(self.witness)}


def classes(scn: ActorScenario, report: dict[str, Any]) -> list[OutcomeClass]:
    """The core's classes with the scenario's names, numbered in the order found."""
    names = {t["pid"]: name for name, t in scn.tasks.items()}
    out = []
    for n, c in enumerate(report["classes"], 1):
        blocked = tuple(scn.actors[i].name for i in c["blocked"]) + (("the reaper",) if c["reaper_stuck"] else ())
        out.append(OutcomeClass(n, tuple((names.get(pid, str(pid)), st) for pid, st in c["victims"]), c["kills"],
                                c["needless"], blocked, c["anomaly"], c["panic"], c["terminals"], c["paths"],
                                c["witness"]))
    return out


class Verdict(NamedTuple):
    expect: Expect
    ok: bool
    why: str
    witness: OutcomeClass | None  # the class that breaks it (forbid) or proves it (exists)

    def where_text(self) -> str:
        return ", ".join(f"{k} = {value(v)}" for k, v in self.expect.where.items())


def check(expects: list[Expect], found: list[OutcomeClass], exhaustive: bool) -> list[Verdict]:
    """Each expectation against the classes found. A ``forbid`` nothing matched is proven only by an exhaustive
    search; after a bounded one it fails as unproven, as does an ``exists`` nothing matched."""
    out = []
    for e in expects:
        hit = next((c for c in found if c.matches(e.where)), None)
        if e.kind == "exists":
            ok = hit is not None
            why = (f"reachable: outcome {hit.number}" if hit else
                   "unreachable" if exhaustive else "not found (the search was not exhaustive)")
        else:
            ok = hit is None and exhaustive
            why = (f"reachable: outcome {hit.number}" if hit else
                   "unreachable" if exhaustive else "not proven (the search was not exhaustive)")
        out.append(Verdict(e, ok, why, hit))
    return out
