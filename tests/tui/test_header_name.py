"""The header names the log the user gave, not the cache's content-hash file (issue 24 §4)."""

from __future__ import annotations

from pathlib import Path

from oomreplay._util.resources import demo_trace
from oomreplay.tui.app import ReplayApp

from .test_tui_replay import header, run


def test_a_log_replayed_through_the_cache_is_named_as_the_log(tmp_path: Path):
    cached = tmp_path / "5730ef81d2c94b1e-0123456789abcdef.oomtrace"
    cached.write_bytes(demo_trace().read_bytes())
    log = tmp_path / "dmesg-incident.txt"
    log.write_text("the log the trace was converted from\n")

    async def script(pilot, app: ReplayApp) -> None:
        assert "dmesg-incident.txt" in header(app) and "5730ef81" not in header(app)
    run(ReplayApp(cached, notes_for=log), script)
