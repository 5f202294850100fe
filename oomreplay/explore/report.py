"""An exploration as text, Markdown or JSON: the verdict (exhaustive or not, with the figures), each outcome
class with its counts and its shortest witness (the steps ``-o`` writes), and each expectation's result.

Names come from the scenario (a file the user wrote, maybe from someone else): text and Markdown pass them
through ``safetext.visible`` and Markdown escapes them, so nothing in them is read as markup or as a terminal
control sequence.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._util.plural import count
from .._util.safetext import visible
from .outcome import OutcomeClass
from .run import Exploration
from .witness import witness_steps

_SKIP = ("do", "task", "at", "mark", "note")


def _move(step: dict[str, Any]) -> str:
    rest = " ".join(f"{k}={v}" for k, v in step.items() if k not in _SKIP)
    who = f"{step['task']}: " if step.get("task") else ""
    mark = f"  [{step['mark']}]" if step.get("mark") else ""
    return visible(f"{step['at']:10.3f}  {who}{step['do']} {rest}".rstrip() + mark)


def _kernel(e: Exploration) -> str:
    v = ".".join(str(x) for x in (e.kernel if e.kernel[2] else e.kernel[:2]))
    return f"kernel {v}" if e.kernel_named else f"no kernel named: the rules of {v}"


#: the core counts interleavings in 64 bits, saturating
_SATURATED = 2**64 - 1


def interleavings(n: int) -> str:
    return "more than 1.8 × 10^19 interleavings" if n >= _SATURATED else count(n, "interleaving")


def headline(e: Exploration) -> str:
    how = "exhaustive" if e.exhaustive else "NOT exhaustive (--max-states reached: outcomes may be missing)"
    pors = "with" if e.reduce else "without"
    return (f"{how}: {count(e.states, 'state')}, {count(e.transitions, 'move')}, "
            f"{interleavings(e.paths)} in {e.seconds:.3f} s ({pors} partial-order reduction)")


def _witness(e: Exploration, c: OutcomeClass) -> list[str]:
    return [_move(s) for s in witness_steps(e.scenario, c)]


def text(e: Exploration, witnesses: bool = True) -> str:
    title = e.scenario.info.get("title") or Path(e.scenario.path).stem
    out = [visible(f"{e.scenario.path}: {title} ({_kernel(e)})"), headline(e), "",
           f"{count(len(e.classes), 'outcome class', 'outcome classes')}:"]
    for c in e.classes:
        out.append(visible(f"  {c.number}. {c.label()}"))
        out.append(f"     {interleavings(c.paths)}, {count(c.terminals, 'final state')}; "
                   f"shortest witness: {count(len(c.witness), 'move')}")
        if witnesses:
            out += [f"       {line}" for line in _witness(e, c)]
    if e.verdicts:
        out += ["", "expectations:"]
        for v in e.verdicts:
            name = f" ({v.expect.name})" if v.expect.name else ""
            out.append(visible(f"  {'ok    ' if v.ok else 'FAILED'}  {v.expect.kind} {{ {v.where_text()} }}{name}: "
                               f"{v.why}"))
    return "\n".join(out)


def _md(s: str) -> str:
    return "".join("\\" + ch if ch in "\\`*_[]<>|#" else ch for ch in visible(s))


def markdown(e: Exploration, witnesses: bool = True) -> str:
    title = e.scenario.info.get("title") or Path(e.scenario.path).stem
    out = [f"### Exploring {_md(str(title))}", "", f"{_md(_kernel(e))}. {_md(headline(e))}.", "",
           "| # | outcome | interleavings | final states | witness moves |", "|---|---|---|---|---|"]
    out += [f"| {c.number} | {_md(c.label())} | {c.paths:,} | {c.terminals:,} | {len(c.witness)} |" for c in e.classes]
    if e.verdicts:
        out += ["", "| expectation | result |", "|---|---|"]
        for v in e.verdicts:
            name = f" ({v.expect.name})" if v.expect.name else ""
            out.append(f"| {v.expect.kind} {{ {_md(v.where_text())} }}{_md(name)} | "
                       f"{'ok' if v.ok else '**failed**'}: {_md(v.why)} |")
    if witnesses:
        for c in e.classes:
            out += ["", f"Witness of outcome {c.number}:", "", "```", *_witness(e, c), "```"]
    return "\n".join(out)


def to_json(e: Exploration) -> dict[str, Any]:
    return {
        "scenario": e.scenario.path, "kernel": ".".join(map(str, e.kernel)), "kernel_named": e.kernel_named,
        "exhaustive": e.exhaustive, "reduction": e.reduce, "states": e.states, "moves": e.transitions,
        "interleavings": e.paths, "seconds": e.seconds,
        "outcomes": [dict(c.to_json(), witness=witness_steps(e.scenario, c)) for c in e.classes],
        "expectations": [{"kind": v.expect.kind, "name": v.expect.name, "where": v.expect.where, "ok": v.ok,
                          "why": v.why, "outcome": v.witness.number if v.witness else None} for v in e.verdicts],
    }
