"""Driving the replay app headless: wait for the loader thread rather than for a fixed time."""

from __future__ import annotations

from textual.pilot import Pilot

from oomreplay.tui.against import AgainstApp
from oomreplay.tui.app import ReplayApp


async def settle(pilot: Pilot, app: ReplayApp | None = None) -> None:
    """Wait until the loader thread has answered the latest request and the answer is painted."""
    app = app or pilot.app  # type: ignore[assignment]
    assert isinstance(app, ReplayApp)
    for _ in range(1000):
        await pilot.pause(0.01)
        if app.settled:
            await pilot.pause()
            return
    raise AssertionError("the loader never answered")


async def settle_against(pilot: Pilot, app: AgainstApp | None = None) -> None:
    """The same for ``replay --against``: until its worker has painted the latest move."""
    app = app or pilot.app  # type: ignore[assignment]
    assert isinstance(app, AgainstApp)
    for _ in range(1000):
        await pilot.pause(0.01)
        if app.settled:
            await pilot.pause()
            return
    raise AssertionError("the worker never answered")
