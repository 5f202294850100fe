"""One exploration: the scenario read and checked, the search run, its classes named, its expectations judged."""

from __future__ import annotations

from typing import NamedTuple

from ..analysis.kernel import Version
from ..ingest.scenario import read_scenario_text
from ..ingest.scenario_actors import ActorScenario, parse_actor_scenario
from ..model.search import search
from .outcome import OutcomeClass, Verdict, check, classes
from .program import kernel_version, program

#: The default bound on distinct states: far above the bundled races, small enough to stay within memory.
MAX_STATES = 2_000_000


class Exploration(NamedTuple):
    scenario: ActorScenario
    kernel: Version
    kernel_named: bool
    reduce: bool
    states: int
    transitions: int
    paths: int
    exhaustive: bool
    seconds: float
    classes: list[OutcomeClass]
    verdicts: list[Verdict]

    def failed(self) -> list[Verdict]:
        return [v for v in self.verdicts if not v.ok]

    def outcome(self, number: int) -> OutcomeClass | None:
        return next((c for c in self.classes if c.number == number), None)


def explore_file(path: str, max_states: int = MAX_STATES, reduce: bool = True) -> Exploration:
    """Explore the scenario at ``path``; ``ScenarioError`` (``FILE:LINE: reason``) when it is not a valid one."""
    scn = parse_actor_scenario(path, read_scenario_text(path))
    v, named = kernel_version(scn)
    r = search(program(scn), max_states, reduce)
    found = classes(scn, r)
    return Exploration(scn, v, named, reduce, r["states"], r["transitions"], r["paths"], r["exhaustive"],
                       r["seconds"], found, check(scn.expects, found, r["exhaustive"]))
