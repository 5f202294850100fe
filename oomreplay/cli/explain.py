"""``explain`` and ``export``: a trace as sentences with their evidence, or as Chrome trace JSON / raw events."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from .._util.safetext import visible
from ..analysis import explain as explain_at, to_json
from ..export import explanation
from ..export.chrome import write_chrome
from .common import opened
from .trace import StateFormat


class ExportFormat(str, Enum):
    chrome_json = "chrome-json"
    jsonl = "jsonl"


def explain(
    trace_path: Annotated[Path, typer.Argument(metavar="TRACE")],
    at: Annotated[Optional[float], typer.Option(help="At this time, in seconds (default: the end).")] = None,
    fmt: Annotated[StateFormat, typer.Option("--format")] = StateFormat.text,
) -> None:
    """Why the OOM happened, why the reaper failed, who waits for whom, which invariants break; with evidence."""
    with opened(trace_path) as t:
        seq = None
        if at is not None:
            found = t.seq_at(round(at * 1e9))
            seq = -1 if found is None else found
        ex = explain_at(t, seq)
        if fmt is StateFormat.json:
            typer.echo(json.dumps(to_json(ex), indent=1))
        else:
            typer.echo("\n".join(explanation.lines(t, ex, fmt is StateFormat.markdown)))


def export(
    trace_path: Annotated[Path, typer.Argument(metavar="TRACE")],
    out: Annotated[Path, typer.Option("-o", "--output", help="The file to write.")],
    fmt: Annotated[ExportFormat, typer.Option("--format")] = ExportFormat.chrome_json,
) -> None:
    """Write a trace as Chrome trace JSON (Perfetto, chrome://tracing) or as JSON lines of raw events."""
    with opened(trace_path) as t, open(out, "w", encoding="utf-8") as fp:
        if fmt is ExportFormat.chrome_json:
            write_chrome(t, fp)
        else:
            for ev in t.events():
                fp.write(json.dumps(ev.to_dict(), default=list) + "\n")
    typer.echo(f"{visible(out)}: written")
