"""The tasks table: a Line-API view, so 10,000 rows cost only the lines on screen.

Rows come pre-formatted in the frame (comm and lock names already made visible); this widget only picks the
rows to show (all, or only those involved in the OOM), orders them, pads them to their columns in cells (CJK
names are two cells a character), marks the rows the cursor's event changed and the selected task, which
``,`` / ``.`` follow through the trace. The selection is a pid, not a row number, so it stays on its task while
rows come and go and the order changes. Beside another incident (``replay --against``) every row has a gutter,
``≠`` on the tasks whose role (victim, invoker, mm-lock holder) differs from its counterpart's on the other side.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable
from typing import Any

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...session.frame import Frame, TaskRow
from .panel import DIFFERS, SAME

#: (header, width in cells, TaskRow attribute).
#: Sized so that the whole row fits the tasks panel of a 160-column terminal (94 cells); comm is the kernel's 15.
COLUMNS: tuple[tuple[str, int, str], ...] = (
    ("pid", 7, "pid"), ("comm", 15, "comm"), ("st", 2, "state"), ("flags", 15, "flags"), ("rss kB", 10, "rss_kb"),
    ("adj", 5, "adj"), ("holds", 20, "holds"), ("waits for", 12, "waits"),
)
WIDTH = sum(w + 1 for _, w, _ in COLUMNS)
#: Row strips kept: many screens' worth, a few MB at most.
STRIPS_KEPT = 4096
HEADER = " ".join(set_cell_size(h, w) for h, w, _ in COLUMNS)

#: The orders ``o`` cycles through: name, and the key (largest first where that is what one looks for).
ORDERS: tuple[tuple[str, Callable[[TaskRow], Any]], ...] = (
    ("pid", lambda r: r.pid),
    ("rss", lambda r: (-r.rss_total_kb, r.pid)),
    ("oom_score_adj", lambda r: (-r.adj_value, r.pid)),
    ("state", lambda r: (r.state or "~", r.pid)),
    ("comm", lambda r: (r.comm.casefold(), r.pid)),
)


class TasksPanel(ScrollView, can_focus=True):
    """Line 0 is the header and stays put; the rows below scroll."""

    COMPONENT_CLASSES = {"tasks--header", "tasks--changed", "tasks--flagged", "tasks--selected", "tasks--differs"}
    BINDINGS = [
        Binding("up", "move(-1)", show=False), Binding("down", "move(1)", show=False),
        Binding("home", "move(-1_000_000_000)", show=False), Binding("end", "move(1_000_000_000)", show=False),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.only_involved = False
        self.order = 0  # index into ORDERS
        self.frame: Frame | None = None
        self.rows: list[TaskRow] = []
        self.selected: int | None = None  # a pid
        #: The pids marked as differing from the other incident; None: no gutter (the single replay).
        self.differs: frozenset[int] | None = None
        self._sorted: tuple[object, int, list[TaskRow]] | None = None  # (frame's task list, order, rows)
        #: pid -> (row, (style name, scroll x, width), the strip drawn): kept while the frame keeps the same row
        #: object (rows of unchanged tasks are shared from frame to frame), so a row drawn again costs nothing
        self._strips: dict[int, tuple[TaskRow, tuple, Strip]] = {}
        self._styles: dict[str, Style] = {}  # set by each render_lines
        #: What the lines below the header show, [(row, style name)], and the view (scroll, sizes) they were
        #: drawn in: a step repaints only the lines whose row or style changed.
        self._drawn: list[tuple[TaskRow, str]] = []
        self._view: tuple | None = None

    def show(self, frame: Frame | None, differs: frozenset[int] | None = None) -> None:
        """``differs``: the pids whose rows to mark, or None for no gutter (the single replay)."""
        self.frame = frame
        self.differs = differs
        self._select()

    def toggle_involved(self) -> None:
        self.only_involved = not self.only_involved
        self._select()

    def next_order(self) -> str:
        """Sort by the next column of ``ORDERS``; returns its name."""
        self.order = (self.order + 1) % len(ORDERS)
        self._select()
        return ORDERS[self.order][0]

    def _ordered(self, frame: Frame) -> list[TaskRow]:
        """The frame's rows in the chosen order. A step changes a row or two (``frame.changed``), so the previous
        order is kept and only those rows are placed again: this runs on the UI loop, where sorting 10,000 rows at
        every step would cost more than the step itself."""
        if self.order == 0:
            return frame.tasks  # the state lists tasks by pid already
        key = ORDERS[self.order][1]
        rows = None
        if self._sorted is not None and self._sorted[1] == self.order:
            if self._sorted[0] is frame.tasks:
                return self._sorted[2]
            rows = [r for r in self._sorted[2] if r.pid not in frame.changed]
            moved = [r for r in frame.tasks if r.pid in frame.changed] if frame.changed else []
            current = set(map(id, frame.tasks))
            if len(rows) + len(moved) != len(frame.tasks) or not all(id(r) in current for r in rows):
                # a task came or went, or a frame in between was skipped (its changes are not in this one's)
                rows = None
            else:
                for row in moved:
                    insort(rows, row, key=key)
        if rows is None:
            rows = sorted(frame.tasks, key=key)
        self._sorted = (frame.tasks, self.order, rows)
        return rows

    def _select(self) -> None:
        frame = self.frame
        if frame is None:
            self.rows = []
        else:
            rows = self._ordered(frame)
            self.rows = [r for r in rows if r.pid in frame.involved] if self.only_involved else rows
        if self.selected is None and self.rows:
            self.selected = self.rows[0].pid
        total = len(frame.tasks) if frame else 0
        which = "only involved" if self.only_involved else "all"
        title = f"tasks {len(self.rows)}/{total} ({which}, by {ORDERS[self.order][0]}; f, o)"
        if title != self.border_title:  # setting it, even to the same text, refreshes the scrollbars too
            self.border_title = title
        size = Size(WIDTH + (len(SAME) if self.differs is not None else 0), len(self.rows) + 1)
        if size != self.virtual_size:  # a new virtual size means a new layout and scrollbars: only when it grows
            self.virtual_size = size
        self._repaint()

    def _style_of(self, row: TaskRow) -> str:
        """The row's style name; a differing row's ends in ``+``: its marker and style come on top of it."""
        base = self._base_style_of(row)
        return base + "+" if self.differs is not None and row.pid in self.differs else base

    def _base_style_of(self, row: TaskRow) -> str:
        if row.pid == self.selected:
            return "selected"
        if self.frame is not None and row.pid in self.frame.changed:
            return "changed"
        return "flagged" if row.flags else "base"

    def _repaint(self) -> None:
        """Refresh the lines that show something else than when last drawn, or the whole panel when the view
        moved: composing a 40-line table at every step was most of a step's time on screen."""
        top = int(self.scroll_offset.y)
        drawn = [(row, self._style_of(row)) for row in self.rows[top:top + max(self.size.height - 1, 0)]]
        view = (top, self.size, self.virtual_size)
        if view != self._view or len(drawn) != len(self._drawn):
            self.refresh()
        else:
            width = self.size.width
            lines = [Region(0, y, width, 1) for y, (now, was) in enumerate(zip(drawn, self._drawn), 1)
                     if now[0] is not was[0] or now[1] != was[1]]
            if lines:
                self.refresh(*lines)
        self._drawn, self._view = drawn, view

    def _index_of_selected(self) -> int | None:
        return next((i for i, r in enumerate(self.rows) if r.pid == self.selected), None)

    def action_move(self, delta: int) -> None:
        """Select the row ``delta`` rows away (clamped) and scroll it into view."""
        if not self.rows:
            return
        at = self._index_of_selected()
        index = min(max((0 if at is None else at) + delta, 0), len(self.rows) - 1)
        self.selected = self.rows[index].pid
        # Row i is drawn at y = i + 1 - scroll_y, below the fixed header: asking for canvas lines i and i + 1
        # keeps it off the header's line at the top and on screen at the bottom.
        self.scroll_to_region(Region(0, index, 1, 2), animate=False)
        self._view = None  # the next step repaints everything, as this does
        self.refresh()

    def row_text(self, row: TaskRow) -> list[str]:
        """The row's cells, each padded or cut to its column's width in cells."""
        return [set_cell_size(str(getattr(row, attr)), w) for _, w, attr in COLUMNS]

    def render_lines(self, crop: Region) -> list[Strip]:
        # The styles, once per repaint rather than per line: each lookup walks the DOM for the background.
        styles = {name: self.get_component_rich_style(f"tasks--{name}")
                  for name in ("header", "selected", "changed", "flagged", "differs")}
        styles["base"] = self.rich_style
        if styles != self._styles:  # another theme: no strip drawn before is right any more
            self._strips.clear()
            self._styles = styles
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        styles = self._styles
        base = styles["base"]
        width = self.scrollable_content_region.width
        scroll_x, scroll_y = self.scroll_offset
        gutter = self.differs is not None
        if y == 0:
            strip = Strip([Segment((SAME if gutter else "") + HEADER, styles["header"])])
        else:
            index = y - 1 + scroll_y
            if index >= len(self.rows):
                return Strip.blank(width, base)
            row = self.rows[index]
            style = self._style_of(row)
            view = (style, gutter, scroll_x, width)
            hit = self._strips.get(row.pid)
            if hit is not None and hit[0] is row and hit[1] == view:
                return hit[2]
            line = " ".join(self.row_text(row))
            if style.endswith("+"):  # differs from the other incident: the marker, and its style over the row's
                own = styles[style[:-1]]  # ... except the selection's, which stays visible on top
                marked = styles["differs"] + own if style == "selected+" else own + styles["differs"]
                segments = [Segment(DIFFERS, marked), Segment(line, marked)]
            else:
                segments = ([Segment(SAME, base)] if gutter else []) + [Segment(line, styles[style])]
            strip = Strip(segments).crop_extend(scroll_x, scroll_x + width, base)
            if len(self._strips) >= STRIPS_KEPT:  # bounded: a long trace names many more pids than a screen shows
                self._strips.clear()
            self._strips[row.pid] = (row, view, strip)
            return strip
        return strip.crop_extend(scroll_x, scroll_x + width, base)
