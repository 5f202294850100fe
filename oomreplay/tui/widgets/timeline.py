"""The incident as a strip: event density, kills and reaper attempts, and the cursor; click to scrub, z / Z to
zoom in around the cursor and back out.

Drawn from the trace's overview (fetched by the loader once for the whole trace, and again for each zoomed
range), downsampled here to the widget's width, so painting never touches the file.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from ...session.frame import MARKED, TraceInfo
from ...store import Bucket
from ..messages import Scrubbed

_BLOCKS = " ▁▂▃▄▅▆▇█"


class Timeline(Widget):
    """Line 0: density (kills in the kill colour); line 1: M mark, K kill, r reaper attempt, ! OOM, s allocation
    stall or failure; line 2: the cursor."""

    COMPONENT_CLASSES = {"timeline--density", "timeline--kill", "timeline--reaper", "timeline--cursor"}

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.info: TraceInfo | None = None
        self.cursor_ts: int | None = None
        #: The range drawn, ``(t0, t1)`` inclusive, and its overview; None: the whole trace, from ``info``.
        self.zoom: tuple[int, int, list[Bucket]] | None = None
        self._cached: tuple[tuple, list] | None = None  # ((width, info, zoom, marks), columns)
        self.user_marks: list[int] = []  # times of the reviewer's marks
        self._styles: list[Style] = []  # set by each render_lines
        self._dragging = False

    def show(self, info: TraceInfo, cursor_ts: int | None) -> None:
        """A step moves only the cursor: repaint its line alone unless the strip itself changed."""
        if info is self.info:
            width = self.size.width
            moved = self._column_at(cursor_ts, width) != self.cursor_column(width)
            self.cursor_ts = cursor_ts
            if moved:
                self.refresh(Region(0, 2, width, 1))
            return
        self.info, self.cursor_ts = info, cursor_ts
        self.refresh()

    def show_zoom(self, t0: int, t1: int, buckets: list[Bucket]) -> None:
        self.zoom = (t0, t1, buckets)
        self.border_title = f"timeline {t0 / 1e9:.6f}-{t1 / 1e9:.6f} s (zoomed; Z zooms out)"
        self.refresh()

    def show_marks(self, times: list[int]) -> None:
        self.user_marks = times
        self.refresh()

    def unzoom(self) -> None:
        self.zoom = None
        self.border_title = "timeline"
        self.refresh()

    @property
    def span(self) -> tuple[int, int] | None:
        """The times drawn, first and last (inclusive)."""
        if self.zoom is not None:
            return self.zoom[0], self.zoom[1]
        info = self.info
        if info is None or info.first_ts is None or info.last_ts is None:
            return None
        return info.first_ts, info.last_ts

    def _columns(self, width: int) -> list[tuple[int, ...]]:
        """(events, kills, reaper attempts, OOM invocations, marks, stalls) per column, computed once per width, trace,
        zoom and marks: every line of every repaint asks for them."""
        key = (width, id(self.info), id(self.zoom), id(self.user_marks))
        if self._cached is None or self._cached[0] != key:
            self._cached = (key, self._count_columns(width))
        return self._cached[1]

    def _count_columns(self, width: int) -> list[tuple[int, ...]]:
        info, span = self.info, self.span
        buckets = self.zoom[2] if self.zoom is not None else info.buckets if info is not None else []
        if info is None or span is None or not buckets or width <= 0:
            return []
        n = len(buckets)
        marks = {kind: [0] * width for kind in (*MARKED, "mark")}
        for kind, times in (*info.marks.items(), ("mark", self.user_marks)):
            for ts in times:
                if span[0] <= ts <= span[1]:
                    marks[kind][self._column_of(ts, width)] += 1
        return [(sum(b.total for b in buckets[c * n // width:max((c + 1) * n // width, c * n // width + 1)]),
                 marks["oom_kill"][c], marks["reaper_attempt"][c], marks["oom_invoke"][c], marks["mark"][c],
                 marks["stall"][c]) for c in range(width)]

    def _column_of(self, ts: int, width: int) -> int:
        span = self.span
        assert span is not None
        return min(width - 1, max(0, (ts - span[0]) * width // max(span[1] + 1 - span[0], 1)))

    def _column_at(self, ts: int | None, width: int) -> int | None:
        if self.span is None or ts is None or width <= 0:
            return None
        return self._column_of(ts, width)

    def cursor_column(self, width: int) -> int | None:
        return self._column_at(self.cursor_ts, width)

    def render_lines(self, crop: Region) -> list[Strip]:
        # The styles, once per repaint rather than per line: each lookup walks the DOM for the background.
        self._styles = [self.rich_style] + [self.get_component_rich_style(f"timeline--{n}")
                                            for n in ("density", "kill", "reaper", "cursor")]
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        cols = self._columns(width)
        blank, density, kill, reaper, cursor = self._styles
        if not cols:
            return Strip.blank(width, blank)
        if y == 0:
            top = max(c[0] for c in cols) or 1
            segs = [Segment(_BLOCKS[-(-c[0] * 8 // top)] if c[0] else " ", kill if c[1] else density) for c in cols]
        elif y == 1:
            segs = [Segment("M", cursor) if c[4] else Segment("K", kill) if c[1] else Segment("r", reaper) if c[2]
                    else Segment("!", kill) if c[3] else Segment("s", reaper) if c[5] else Segment("·", density)
                    for c in cols]
        elif y == 2:
            col = self.cursor_column(width)
            segs = [Segment(" " * width, blank)] if col is None else \
                [Segment(" " * col, blank), Segment("▲", cursor), Segment(" " * (width - col - 1), blank)]
        else:
            return Strip.blank(width, blank)
        return Strip(segs, width)

    def ts_at(self, x: int) -> int | None:
        span = self.span
        if span is None or self.size.width <= 0:
            return None
        x = min(max(x, 0), self.size.width - 1)
        return span[0] + (2 * x + 1) * (span[1] + 1 - span[0]) // (2 * self.size.width)

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
