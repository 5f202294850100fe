"""The base of the text panels: repaint only when what they show has changed; and the one way a panel marks a
line that differs from the other incident (``replay A --against B``).

Every step sends a new frame to every panel, but most steps change one or two of them; a Static that is updated
re-renders even with the same text, and at 60 frames a second that rendering is most of a step's cost.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

#: The gutter of a line that differs from the other incident at the aligned point, and of one that does not.
DIFFERS = "≠ "
SAME = "  "
#: How the differing line is drawn (the marker carries the meaning; the colour only helps find it).
DIFFERS_STYLE = "bold $text-error on $error-muted"


def gutter(line: Content, differs: bool) -> Content:
    """``line`` behind a two-cell gutter, ``≠`` and the differing style when it differs; every line of a
    multi-line entry gets the gutter, so continuation lines stay indented under their first."""
    parts = line.split("\n")
    if differs:
        return Content("\n").join(Content.assemble((DIFFERS, "$text-error bold"), part.stylize(DIFFERS_STYLE))
                                  for part in parts)
    return Content("\n").join(Content.assemble(SAME, part) for part in parts)


class Panel(Static):
    """A Static whose ``paint`` skips contents equal to the last one, styles included, and never asks for a
    layout: every panel's size is fixed by the stylesheet, and a layout pass would refresh every scrollbar."""

    _painted: tuple | None = None

    def paint(self, content: Content) -> None:
        key = (content.plain, tuple(content.spans))  # Content's own == compares the text only
        if key != self._painted:
            self._painted = key
            self.update(content, layout=False)
