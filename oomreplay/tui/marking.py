"""Marking from the replay: ``m`` marks the cursor's event (or edits its mark), ``'`` lists the marks to go to,
edit or delete one. Each change is a ``MarkEdit`` request: the loader thread writes the notes sidecar, and the
marks come back in a ``Marks`` result.

A mixin of ``ReplayApp``, which provides the cursor, the marks it was last sent, ``_seek`` and ``_request``.
"""

from __future__ import annotations

from functools import partial

from textual.app import App

from .._util.safetext import visible
from ..review.notes import Mark, Placed
from ..session.frame import TraceInfo
from ..session.messages import MarkEdit
from .screens.marks import MarkScreen, MarksScreen


class Marking(App[None]):
    """The mark actions of the replay."""

    info: TraceInfo | None
    cursor: int
    marks: tuple[Placed, ...]

    def _mark_here(self) -> Mark | None:
        return next((m for m, seq in self.marks if seq == self.cursor), None)

    def action_mark(self) -> None:
        """Mark the cursor's event, or edit its mark if it has one."""
        if self.info is None or self.cursor < 0:
            return
        old = self._mark_here()
        heading = f"{'Edit the mark on' if old else 'Mark'} event #{self.cursor}"
        screen = MarkScreen(heading, old.title if old else "", old.note if old else "")
        self.push_screen(screen, partial(self._marked, old, self.cursor))

    def _marked(self, old: Mark | None, seq: int, answer: tuple[str, str] | None) -> None:
        if answer is not None:
            self._request(MarkEdit(seq, old, *answer))

    def action_marks(self) -> None:
        self.push_screen(MarksScreen(self.marks), self._marks_chosen)

    def _marks_chosen(self, choice: tuple[str, Mark, int | None] | None) -> None:
        if choice is None:
            return
        what, mark, seq = choice
        if what == "go" and seq is not None:
            self._seek(seq)
        elif what == "delete":
            self._request(MarkEdit(None, mark, None))
            self.notify(f"deleted the mark {visible(mark.title)!r}", timeout=3, markup=False)
        elif what == "edit":
            screen = MarkScreen(f"Edit the mark {visible(mark.title)!r}", mark.title, mark.note)
            self.push_screen(screen, partial(self._marked, mark, seq))
