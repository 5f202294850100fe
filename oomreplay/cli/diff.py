"""``diff``: what differs between two incidents, by meaning (``oomreplay.analysis.diff``), with the exit status of
``diff(1)``: 0 the same, 1 different, 2 trouble (one line on stderr, as every command)."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from .._util.safetext import visible
from ..analysis.diff import compare
from ..export import diff as report
from .common import UserError, opened, trace_for


class DiffFormat(str, Enum):
    text = "text"
    markdown = "markdown"
    json = "json"


def traces_for(a: Path, b: Path) -> tuple[Path, Path]:
    """Both inputs as traces: a trace as it is, a log or recording through the conversion cache (as ``replay``)."""
    for p in (a, b):
        if not p.is_file():
            raise UserError(f"{visible(p)}: no such file")
    return trace_for(a), trace_for(b)


def diff(
    a: Annotated[Path, typer.Argument(metavar="A", help="A trace, or a log or recording to convert.")],
    b: Annotated[Path, typer.Argument(metavar="B", help="The incident to compare A with (same kinds of input).")],
    fmt: Annotated[DiffFormat, typer.Option("--format", help="text, markdown (for a review) or json.")]
    = DiffFormat.text,
    all_: Annotated[bool, typer.Option("--all", help="Also amounts that always vary (stall counts, delays, rss), "
                                                     "steps that only moved, and what one side's source cannot "
                                                     "show; these then count as differences.")] = False,
) -> None:
    """Compare two incidents by meaning: their OOM invocations, kills, victims, reaper attempts and outcomes,
    MMF_OOM_SKIP, allocation stalls and the victims' mm lock, aligned by kind and role rather than pid or time.
    Prints the verdict, the steps that differ, what only one side has; exit 0 if the same, 1 if different, 2 on
    bad input."""
    ta, tb = traces_for(a, b)
    with opened(ta) as trace_a, opened(tb) as trace_b:
        result = compare(trace_a, trace_b, str(a), str(b))
    if fmt is DiffFormat.json:
        typer.echo(json.dumps(report.to_json(result, all_), indent=1, default=list))
    else:
        typer.echo("\n".join(report.lines(result, fmt is DiffFormat.markdown, all_)))
    if not result.same(all_):
        raise typer.Exit(1)
