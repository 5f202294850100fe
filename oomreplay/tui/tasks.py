"""The tasks table: a Line-API view, so 10,000 rows cost only the lines on screen.

Rows come pre-formatted in the frame (comm and lock names already made visible); this widget only picks the
rows to show (all, or only those involved in the OOM), pads them to their columns in cells (CJK names are two
cells a character) and marks the rows that changed at the last step.
"""

from __future__ import annotations

from rich.cells import set_cell_size
from rich.segment import Segment
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from .frame import Frame, TaskRow

#: (header, width in cells, TaskRow attribute); the last column takes what is left.
COLUMNS: tuple[tuple[str, int, str], ...] = (
    ("pid", 7, "pid"), ("comm", 16, "comm"), ("st", 2, "state"), ("flags", 18, "flags"), ("rss kB", 11, "rss_kb"),
    ("adj", 5, "adj"), ("holds", 22, "holds"), ("waits for", 20, "waits"),
)
WIDTH = sum(w + 1 for _, w, _ in COLUMNS)


class TasksPanel(ScrollView, can_focus=True):
    """Line 0 is the header and stays put; the rows below scroll."""

    COMPONENT_CLASSES = {"tasks--header", "tasks--changed", "tasks--flagged"}

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.only_involved = False
        self.frame: Frame | None = None
        self.rows: list[TaskRow] = []

    def show(self, frame: Frame | None) -> None:
        self.frame = frame
        self._select()

    def toggle_involved(self) -> None:
        self.only_involved = not self.only_involved
        self._select()

    def _select(self) -> None:
        frame = self.frame
        if frame is None:
            self.rows = []
        elif self.only_involved:
            self.rows = [r for r in frame.tasks if r.pid in frame.involved]
        else:
            self.rows = frame.tasks
        total = len(frame.tasks) if frame else 0
        which = "only involved" if self.only_involved else "all"
        self.border_title = f"tasks {len(self.rows)}/{total} ({which}; f toggles)"
        self.virtual_size = Size(WIDTH, len(self.rows) + 1)
        self.refresh()

    def row_text(self, row: TaskRow) -> list[str]:
        """The row's cells, each padded or cut to its column's width in cells."""
        return [set_cell_size(str(getattr(row, attr)), w) for _, w, attr in COLUMNS]

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        scroll_x, scroll_y = self.scroll_offset
        if y == 0:
            text = " ".join(set_cell_size(h, w) for h, w, _ in COLUMNS)
            strip = Strip([Segment(text, self.get_component_rich_style("tasks--header"))])
        else:
            index = y - 1 + scroll_y
            if index >= len(self.rows):
                return Strip.blank(width, self.rich_style)
            row = self.rows[index]
            style = self.rich_style
            if self.frame is not None and row.pid in self.frame.changed:
                style = self.get_component_rich_style("tasks--changed")
            elif row.flags:
                style = self.get_component_rich_style("tasks--flagged")
            strip = Strip([Segment(" ".join(self.row_text(row)), style)])
        return strip.crop_extend(scroll_x, scroll_x + width, self.rich_style)
