"""The ``oomreplay`` command: the typer app, its commands in the order ``--help`` lists them, and the entry point
that turns every expected failure into one line. Each command lives in the module of its group; logic worth
testing lives in the layers below."""

from __future__ import annotations

import sys

import typer

from ..store import TraceError
from . import convert, diff, explain, explore, fleet, record, replay, review, trace
from .common import UserError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Replay Linux OOM incidents step by step.")

app.command()(trace.info)
app.command()(trace.events)
app.command()(trace.state)
app.command()(explain.explain)
app.command()(explain.export)
app.command()(diff.diff)
app.command("verify")(trace.verify_cmd)
app.command("repair")(trace.repair_cmd)
app.command()(convert.convert)
app.command()(explore.explore)
app.command()(replay.replay)
app.command()(replay.present)
app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(record.record)
app.command()(replay.themes)
app.command()(replay.demo)
app.command()(review.notes)
app.command()(review.story)
app.command()(replay.serve)
app.command("serve-app", hidden=True)(replay.serve_app)
app.add_typer(fleet.app, name="fleet")


def main() -> None:
    """Entry point: every expected failure is one line on stderr and exit status 2, never a traceback."""
    try:
        app()
    except (UserError, TraceError) as e:
        typer.echo(f"oomreplay: error: {e}", err=True)
        sys.exit(2)
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        typer.echo(f"oomreplay: error: {where}{e.strerror or e}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
