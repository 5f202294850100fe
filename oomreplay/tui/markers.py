"""Markers A and B (``a``, ``b``): the time between them on the header at once, and with ``A`` what happened in
between (the loader's ``Between``: counts, the state changes, what differs from A to B).

A mixin of ``ReplayApp``, which provides the cursor, the frame on screen and ``_request``. A marker is the
cursor's event and that event's own time, so the duration is the events' times, not the cursor's path.
"""

from __future__ import annotations

from textual.app import App

from ..session.frame import Frame, TraceInfo
from ..session.messages import Between, Spanned
from .screens.between import BetweenScreen
from .widgets.header import ReplayHeader


def span_text(a: tuple[int, int] | None, b: tuple[int, int] | None) -> str:
    """``A #1 → B #4: 1.046674 s, 3 events`` (or what is set so far)."""
    if a is None and b is None:
        return ""
    if a is None or b is None:
        seq, _ = a or b  # type: ignore[misc]
        return f"{'A' if a else 'B'} #{seq} (b / a sets the other)"
    (sa, ta), (sb, tb) = a, b
    return f"A #{sa} → B #{sb}: {(tb - ta) / 1e9:+.6f} s, {abs(sb - sa)} events"


class Markers(App[None]):
    """``a``, ``b``, ``A``; ``ReplayApp`` provides ``_request``, ``_answered`` and ``_seek``."""

    info: TraceInfo | None
    cursor: int
    frame: Frame | None
    request_id: int
    marker_a: tuple[int, int] | None = None
    marker_b: tuple[int, int] | None = None

    def action_marker(self, which: str) -> None:
        frame = self.frame
        if frame is None or frame.seq != self.cursor or frame.ts_ns is None or frame.seq < 0:
            return  # the cursor's frame is still on its way: the next key press sets it
        setattr(self, f"marker_{which}", (frame.seq, frame.ts_ns))
        self.query_one(ReplayHeader).show_markers(span_text(self.marker_a, self.marker_b))

    def action_between(self) -> None:
        if self.marker_a is None or self.marker_b is None:
            self.notify("set markers A and B first (a, b)", timeout=2, markup=False)
            return
        self._request(Between(self.marker_a[0], self.marker_b[0]))

    def _apply_spanned(self, result: Spanned) -> None:
        self._answered(result.request_id)
        if result.request_id == self.request_id and not isinstance(self.screen, BetweenScreen):
            self.push_screen(BetweenScreen(result.span), self._went_between)

    def _went_between(self, seq: int | None) -> None:
        if seq is not None:
            self._seek(seq)
