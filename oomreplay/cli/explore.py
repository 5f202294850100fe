"""``explore``: every interleaving of a scenario's actors, each outcome with its shortest witness; ``--check``
judges the scenario's ``[[expect]]`` blocks, ``-o`` writes the witnesses, ``--replay`` / ``--present`` open one."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Optional

import typer

from .._util.safetext import visible
from ..explore import Exploration, explore_file
from ..explore import report
from ..explore.run import MAX_STATES
from ..explore.witness import write_witness
from ..ingest.errors import ScenarioError
from .common import THEME_HELP, UserError
from .replay import _replay
from .trace import StateFormat


def _witness_dir(out: Path | None) -> Path:
    return out if out is not None else Path(tempfile.mkdtemp(prefix="oomreplay-explore-"))


def _open(e: Exploration, number: int, out: Path | None, present: bool, theme: str | None) -> None:
    cls = e.outcome(number)
    if cls is None:
        raise UserError(f"{e.scenario.path}: no outcome {number}; the outcomes are 1 to {len(e.classes)}")
    _, trace = write_witness(e.scenario, cls, _witness_dir(out))
    _replay(trace, theme=theme, present=present)


def explore(
    scenario: Annotated[Path, typer.Argument(metavar="SCENARIO", help="A scenario (.toml) with [[actor]] lists.")],
    max_states: Annotated[int, typer.Option("--max-states", min=1, help="Stop after this many distinct states.")]
    = MAX_STATES,
    fmt: Annotated[StateFormat, typer.Option("--format")] = StateFormat.text,
    out: Annotated[Optional[Path], typer.Option("-o", "--output", help="Write each witness here, as "
                                                "outcome-N.toml and outcome-N.oomtrace.")] = None,
    check: Annotated[bool, typer.Option("--check", help="Exit 1 when an [[expect]] fails.")] = False,
    no_reduction: Annotated[bool, typer.Option("--no-reduction", help="Interleave independent steps both ways "
                                               "too (slower; the same outcomes).")] = False,
    replay: Annotated[Optional[int], typer.Option("--replay", metavar="OUTCOME", help="Replay this outcome's "
                                                  "witness.")] = None,
    present: Annotated[Optional[int], typer.Option("--present", metavar="OUTCOME", help="Present this "
                                                   "outcome's witness.")] = None,
    theme: Annotated[Optional[str], typer.Option(help=THEME_HELP)] = None,
) -> None:
    """Every way a scenario's race can go: each outcome class with how often and its shortest witness."""
    if replay is not None and present is not None:
        raise UserError("give --replay or --present, not both")
    try:
        e = explore_file(str(scenario), max_states, reduce=not no_reduction)
        if replay is not None or present is not None:
            _open(e, replay if replay is not None else present, out, present is not None, theme)  # type: ignore
            return
        if fmt is StateFormat.json:
            typer.echo(json.dumps(report.to_json(e), indent=1))
        elif fmt is StateFormat.markdown:
            typer.echo(report.markdown(e))
        else:
            typer.echo(report.text(e))
        if out is not None:
            for c in e.classes:
                toml, trace = write_witness(e.scenario, c, out)
                typer.echo(f"{visible(toml)}, {visible(trace)}: outcome {c.number}", err=fmt is not StateFormat.text)
    except ScenarioError as err:
        raise UserError(visible(err)) from None
    failed = e.failed()
    if check and failed:
        for v in failed:
            where = ""
            if v.witness is not None:
                where = (f"; witness: {out / f'outcome-{v.witness.number}.toml'}" if out else
                         f"; witness: outcome {v.witness.number} (--replay {v.witness.number} opens it)")
            typer.echo(visible(f"oomreplay: check failed: {v.expect.kind} {{ {v.where_text()} }} "
                               f"({scenario}:{v.expect.line}): {v.why}{where}"), err=True)
        raise typer.Exit(1)
