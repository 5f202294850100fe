"""``record``: a real OOM recorded on this machine and converted (as root)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from .._util.safetext import visible
from .common import UserError


class Profile(str, Enum):
    minimal = "minimal"
    full = "full"
    lockdep = "lockdep"


def record(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("-o", "--output", help="The trace to write.")],
    profile: Annotated[Profile, typer.Option(help="minimal: oom, exits, SIGKILLs; full: + mmap_lock, sched_switch, "
                                             "rss, reclaim, printk; lockdep: + lock:*.")] = Profile.minimal,
    memory_limit: Annotated[Optional[str], typer.Option(help="Run COMMAND in a fresh memory cgroup of this size "
                                                        "(64M, 1G, bytes).")] = None,
    duration: Annotated[Optional[float], typer.Option(help="Record this long (seconds); with COMMAND, at most.")]
    = None,
    settle: Annotated[float, typer.Option(
        help="Seconds to go on recording after COMMAND ends (or --duration), for the reaper.")] = 3.0,
    keep: Annotated[Optional[Path], typer.Option(help="Keep the raw dmesg.txt and ftrace.txt in this directory.")]
    = None,
) -> None:
    """Record an OOM as root: tracepoints into a private tracefs instance (flight-recorder mode) and the kernel
    log, COMMAND (after --) in a memory cgroup when --memory-limit is given; everything it changed is put back,
    even on Ctrl-C; the recording is converted into the trace."""
    from ..record import RecordError, record as record_incident

    try:
        result = record_incident(out, list(ctx.args), profile=profile.value, memory_limit=memory_limit,
                                 duration=duration, settle=settle, keep=keep,
                                 say=lambda line: typer.echo(f"oomreplay: {visible(line)}", err=True))
    except RecordError as e:
        raise UserError(visible(e)) from None
    for warning in result.warnings + (result.convert.warnings if result.convert else []):
        typer.echo(f"oomreplay: warning: {visible(warning)}", err=True)
    events = f"{result.convert.events:,} events" if result.convert else "nothing recorded"
    typer.echo(f"{visible(out)}: {events}" + (" (interrupted)" if result.interrupted else ""))
