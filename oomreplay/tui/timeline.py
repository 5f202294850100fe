"""The whole incident as a strip: event density, kills and reaper attempts, and the cursor; click to scrub.

Drawn from the trace's overview (fetched once by the loader), downsampled here to the widget's width, so
painting never touches the file.
"""

from __future__ import annotations

from rich.segment import Segment
from textual import events
from textual.strip import Strip
from textual.widget import Widget

from .frame import MARKED, TraceInfo
from .messages import Scrubbed

_BLOCKS = " ▁▂▃▄▅▆▇█"


class Timeline(Widget):
    """Line 0: density (kills in the kill colour); line 1: K kill, r reaper attempt, ! OOM; line 2: the cursor."""

    COMPONENT_CLASSES = {"timeline--density", "timeline--kill", "timeline--reaper", "timeline--cursor"}

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.info: TraceInfo | None = None
        self.cursor_ts: int | None = None
        self._dragging = False

    def show(self, info: TraceInfo, cursor_ts: int | None) -> None:
        self.info, self.cursor_ts = info, cursor_ts
        self.refresh()

    def _columns(self, width: int) -> list[tuple[int, int, int, int]]:
        """(events, kills, reaper attempts, OOM invocations) per column."""
        info = self.info
        if info is None or not info.buckets or width <= 0:
            return []
        buckets, n = info.buckets, len(info.buckets)
        marks = {kind: [0] * width for kind in MARKED}
        for kind, times in info.marks.items():
            for ts in times:
                marks[kind][self._column_of(ts, width)] += 1
        return [(sum(b.total for b in buckets[c * n // width:max((c + 1) * n // width, c * n // width + 1)]),
                 marks["oom_kill"][c], marks["reaper_attempt"][c], marks["oom_invoke"][c]) for c in range(width)]

    def _column_of(self, ts: int, width: int) -> int:
        info = self.info
        assert info is not None and info.first_ts is not None and info.last_ts is not None
        span = max(info.last_ts + 1 - info.first_ts, 1)
        return min(width - 1, max(0, (ts - info.first_ts) * width // span))

    def cursor_column(self, width: int) -> int | None:
        info = self.info
        if info is None or self.cursor_ts is None or info.first_ts is None or info.last_ts is None:
            return None
        return self._column_of(self.cursor_ts, width)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        cols = self._columns(width)
        if not cols:
            return Strip.blank(width)
        density, kill, reaper, cursor = (self.get_component_rich_style(f"timeline--{n}")
                                         for n in ("density", "kill", "reaper", "cursor"))
        if y == 0:
            top = max(c[0] for c in cols) or 1
            segs = [Segment(_BLOCKS[-(-c[0] * 8 // top)] if c[0] else " ", kill if c[1] else density) for c in cols]
        elif y == 1:
            segs = [Segment("K", kill) if c[1] else Segment("r", reaper) if c[2] else
                    Segment("!", kill) if c[3] else Segment("·", density) for c in cols]
        elif y == 2:
            col = self.cursor_column(width)
            segs = [Segment(" " * width)] if col is None else \
                [Segment(" " * col), Segment("▲", cursor), Segment(" " * (width - col - 1))]
        else:
            return Strip.blank(width)
        return Strip(segs, width)

    def ts_at(self, x: int) -> int | None:
        info = self.info
        if info is None or info.first_ts is None or info.last_ts is None or self.size.width <= 0:
            return None
        span = info.last_ts + 1 - info.first_ts
        x = min(max(x, 0), self.size.width - 1)
        return info.first_ts + (2 * x + 1) * span // (2 * self.size.width)

    def _scrub(self, x: int) -> None:
        ts = self.ts_at(x)
        if ts is not None:
            self.post_message(Scrubbed(ts))

    def on_mouse_down(self, event: events.MouseDown) -> None:
        self._dragging = True
        self.capture_mouse()
        self._scrub(event.x)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._dragging:
            self._scrub(event.x)

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._dragging:
            self._dragging = False
            self.release_mouse()
