"""The base of the text panels: repaint only when what they show has changed.

Every step sends a new frame to every panel, but most steps change one or two of them; a Static that is updated
re-renders even with the same text, and at 60 frames a second that rendering is most of a step's cost.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


class Panel(Static):
    """A Static whose ``paint`` skips contents equal to the last one, styles included, and never asks for a
    layout: every panel's size is fixed by the stylesheet, and a layout pass would refresh every scrollbar."""

    _painted: tuple | None = None

    def paint(self, content: Content) -> None:
        key = (content.plain, tuple(content.spans))  # Content's own == compares the text only
        if key != self._painted:
            self._painted = key
            self.update(content, layout=False)
