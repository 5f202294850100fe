"""``convert``: logs and recordings (or a scenario) into a trace."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from .._util.safetext import visible
from ..ingest import FORMATS
from .common import converted

LogFormat = Enum("LogFormat", {name: name for name in FORMATS}, type=str)  # type: ignore[misc]


def convert(
    inputs: Annotated[list[str], typer.Argument(metavar="INPUT...", help="Log files, or - for stdin.")],
    out: Annotated[Path, typer.Option("-o", "--output", help="The trace to write.")],
    fmt: Annotated[LogFormat, typer.Option("--format", help="Line prefix style; auto tries them all.")] =
    LogFormat.auto,  # type: ignore[attr-defined]
    report: Annotated[bool, typer.Option("--report", help="Print events per kind for each input.")] = False,
) -> None:
    """Convert kernel logs (dmesg, syslog, journalctl, consoles; .gz/.xz/.bz2 too) into a trace."""
    result = converted(inputs, out, fmt.value)
    for warning in result.warnings:
        typer.echo(f"oomreplay: warning: {visible(warning)}", err=True)
    if report:
        for line in result.lines():
            typer.echo(visible(line))
    else:
        typer.echo(f"{visible(out)}: {result.events:,} events")
