"""The replay as SVG screenshots, rendered headless: what ``oomreplay story`` pastes beside each chapter.

The story export is handed this function (``export.story.Screenshots``) rather than importing the TUI, so the
exports stay below the TUI and load no Textual of their own.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path

from .app import ReplayApp

#: How long one screenshot may wait for the loader thread to answer (seconds).
SETTLE_TIMEOUT = 30.0


def screenshots(trace_path: str | os.PathLike, seqs: Sequence[int], size: tuple[int, int],
                notes_for: str | os.PathLike | None = None) -> list[str]:
    """An SVG of the replay TUI at each seq, rendered headless at ``size`` (columns, rows), all in one event loop
    (starting Textual once per story, not once per shot)."""

    async def shoot() -> list[str]:
        shots = []
        for seq in seqs:
            app = ReplayApp(trace_path, seq=seq, notes_for=notes_for)
            async with app.run_test(size=size) as pilot:
                loop = asyncio.get_running_loop()
                deadline = loop.time() + SETTLE_TIMEOUT
                while not app.settled:
                    if loop.time() > deadline:
                        raise TimeoutError(f"{trace_path}: the replay did not show seq {seq} "
                                           f"within {SETTLE_TIMEOUT:.0f} s")
                    await pilot.pause(0.01)
                await pilot.pause()
                if app.error is not None:
                    raise RuntimeError(f"{trace_path}: {app.error}")
                shots.append(app.export_screenshot(title=f"{Path(trace_path).name} — seq {seq}"))
        return shots

    return asyncio.run(shoot())
