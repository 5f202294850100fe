"""What every command shares: one-line user errors, opening a trace (saying so when it was recovered), times as
seconds, and turning a log into a trace through the conversion cache."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer

from .._util.safetext import visible
from ..ingest import ConvertError, ConvertReport, convert as convert_logs
from ..store import Trace, is_trace, open_trace

THEME_HELP = "A theme name (see `oomreplay themes`) or a theme file."


class UserError(Exception):
    """Bad input from the user: one line on stderr, exit 2."""


def opened(path: Path) -> Trace:
    """The trace at ``path``; a warning on stderr when it was unfinished and rebuilt."""
    trace = open_trace(path)
    if trace.recovered:
        typer.echo(f"oomreplay: warning: {trace.recovered}", err=True)
    return trace


def seconds(ns: int | None) -> str:
    """A time as the commands print it: seconds to the microsecond, ``-`` when unknown."""
    return "-" if ns is None else f"{ns / 1e9:.6f}"


def check_theme(theme: str | None) -> None:
    """A theme that does not resolve, as one line, before anything starts."""
    from ..tui.themes import ThemeError, resolve

    try:
        resolve(theme)
    except ThemeError as e:
        raise UserError(visible(e)) from None


def trace_for(path: Path) -> Path:
    """``path`` itself if it is a trace, else its conversion, made now (saying so) or found in the cache."""
    from ..ingest.cache import cached_trace

    if is_trace(path):
        return path

    def convert_now(source: Path, target: Path) -> None:
        size = source.stat().st_size
        typer.echo(f"oomreplay: converting {visible(source)} ({size / 1e6:.1f} MB) into the cache…", err=True)
        t0 = time.perf_counter()
        report = converted([str(source)], target)
        typer.echo(f"oomreplay: {report.events:,} events in {time.perf_counter() - t0:.1f} s", err=True)

    trace, _ = cached_trace(path, convert_now)
    return trace


def converted(inputs: list[str], out: Path, fmt: str = "auto") -> ConvertReport:
    """``convert`` with a progress line on stderr when it is a terminal; its errors as one line."""
    from .._util.progress import ProgressLine

    progress = None
    if sys.stderr.isatty():
        sizes = [Path(name).stat().st_size for name in inputs if name != "-" and Path(name).is_file()]
        progress = ProgressLine("converting", sum(sizes) if len(sizes) == len(inputs) else None)
    try:
        return convert_logs(inputs, out, fmt, progress)
    except ConvertError as e:
        raise UserError(visible(e)) from None
    finally:
        if progress is not None:
            progress.close()
