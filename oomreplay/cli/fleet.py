"""``fleet scan``, ``fleet query``, ``fleet report``: a fleet's logs as a Parquet dataset, asked through DuckDB
(``oomreplay.fleet``). Its libraries are the ``fleet`` extra: without them each command says what to install."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from .._util.plural import count
from .._util.safetext import visible
from ..ingest import FORMATS
from .common import UserError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Every OOM of a fleet's logs as tables (Parquet), queried with DuckDB.")

#: how many unreadable files a scan names on stderr before it counts the rest
NAMED_PROBLEMS = 20


class HostFrom(str, Enum):
    path = "path"
    prefix = "prefix"


class QueryFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"
    markdown = "markdown"


class ReportFormat(str, Enum):
    text = "text"
    markdown = "markdown"
    json = "json"


LogFormat = Enum("LogFormat", {name: name for name in FORMATS}, type=str)  # type: ignore[misc]


def _fleet_errors(fn):  # noqa: ANN001, ANN202 - a decorator keeping typer's view of the signature
    """The fleet's expected failures (a missing extra, a directory that is no dataset, SQL DuckDB refuses) as the
    one-line user errors of every command."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        from ..fleet import MissingExtra
        from ..fleet.dataset import DatasetError
        from ..fleet.query import QueryError

        try:
            return fn(*args, **kwargs)
        except (MissingExtra, DatasetError, QueryError) as e:
            raise UserError(visible(e)) from None

    return wrapper


@app.command()
@_fleet_errors
def scan(
    paths: Annotated[list[Path], typer.Argument(metavar="PATH...", help="Log files and directories of them (walked; "
                                                                        "compressed or not).")],
    out: Annotated[Path, typer.Option("-o", "--output", metavar="DATASET", help="The dataset to write or add to.")],
    host_from: Annotated[HostFrom, typer.Option(help="The host of a file: the first directory under PATH (a file at "
                                                     "the top: its name), or its syslog prefix.")] = HostFrom.path,
    jobs: Annotated[int, typer.Option(min=1, help="Local processes reading files.")] = 1,
    dask: Annotated[Optional[str], typer.Option(metavar="ADDRESS", help="Read the files on this Dask scheduler's "
                                                                        "workers instead.")] = None,
    include: Annotated[Optional[list[str]], typer.Option(metavar="GLOB", help="Only files whose names match "
                                                                              "(repeatable).")] = None,
    fmt: Annotated[LogFormat, typer.Option("--format", help="Line prefix style; auto tries them all.")] =
    LogFormat.auto,  # type: ignore[attr-defined]
    strict: Annotated[bool, typer.Option(help="Exit 2 when a file could not be read (it is in `files` anyway).")]
    = False,
) -> None:
    """Extract every OOM incident of the logs into DATASET (Parquet, partitioned by host and day): incidents, kills,
    reaper outcomes, candidates, zones and the files read. A rescan reads only new or changed files."""
    from .._util.progress import ProgressBar
    from ..fleet import _deps
    from ..fleet.scan import scan as run_scan

    for p in paths:
        if not p.exists():
            raise UserError(f"{visible(p)}: no such file or directory")
    _deps.pyarrow()
    if dask is not None:
        _deps.distributed()
    bar: list[ProgressBar] = []

    def planned(files: int, size: int) -> None:
        if sys.stderr.isatty() and files:
            bar.append(ProgressBar("scanning", files, size))

    def progress(done: int, done_bytes: int) -> None:
        if bar:
            bar[0](done, done_bytes)

    try:
        report = run_scan([str(p) for p in paths], out, host_from=host_from.value, jobs=jobs, dask=dask,
                          include=include or (), fmt=fmt.value, progress=progress, planned=planned)
    finally:
        if bar:
            bar[0].close()
    for file, status, error in report.problems[:NAMED_PROBLEMS]:
        typer.echo(f"oomreplay: warning: {visible(error or file)} ({status})", err=True)
    if len(report.problems) > NAMED_PROBLEMS:
        typer.echo(f"oomreplay: warning: {count(len(report.problems) - NAMED_PROBLEMS, 'more file')} could not be "
                   "read (see the files table)", err=True)
    mb = report.size / 1e6
    rate = f", {mb / report.seconds:,.1f} MB/s" if report.seconds > 0 and report.size else ""
    unchanged = f"; {report.unchanged:,} unchanged" if report.unchanged else ""
    rows = report.rows
    typer.echo(f"{visible(out)}: read {count(report.files_read, 'file')} ({report.new:,} new, {report.changed:,} "
               f"changed{unchanged}), {mb:,.1f} MB in {report.seconds:.1f} s{rate}: "
               f"{count(rows['incidents'], 'incident')}, {count(rows['kills'], 'kill')}, "
               f"{count(rows['reaper'], 'reaper outcome')}"
               + (f"; {count(len(report.problems), 'file')} with errors" if report.problems else ""))
    if strict and report.problems:
        raise typer.Exit(2)


@app.command()
@_fleet_errors
def query(
    dataset: Annotated[Path, typer.Argument(metavar="DATASET")],
    sql: Annotated[str, typer.Argument(metavar="SQL", help="DuckDB SQL over incidents, kills, reaper, candidates, "
                                                           "zones and files; replay(file, seq) gives a row's "
                                                           "replay command.")],
    fmt: Annotated[QueryFormat, typer.Option("--format", help="table, csv, json or markdown.")] = QueryFormat.table,
) -> None:
    """Run SQL over the dataset (DuckDB) and print the rows."""
    from ..fleet.query import render, run

    columns, rows = run(dataset, sql)
    if columns:
        typer.echo(render(columns, rows, fmt.value))


@app.command()
@_fleet_errors
def report(
    dataset: Annotated[Path, typer.Argument(metavar="DATASET")],
    fmt: Annotated[ReportFormat, typer.Option("--format", help="text, markdown (for a review) or json.")] =
    ReportFormat.text,
    top: Annotated[int, typer.Option(min=1, help="Rows of each ranking.")] = 10,
) -> None:
    """What the fleet's OOMs were: incidents per host and per kernel, the reaper's outcomes and failure rate by
    kernel, the most-killed processes, the time from kill to reap, memcg against global, the unreadable files."""
    from ..fleet.report import report as make

    typer.echo(make(dataset, fmt.value, top))
