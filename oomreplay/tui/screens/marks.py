"""Marks in the replay: ``m`` writes one (a title and a Markdown note) on the cursor's event, ``'`` lists them to
jump to, edit or delete. The loader thread reads and writes the sidecar; these screens only ask and show."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from ..._util.safetext import visible
from ...review.notes import Mark, Placed


class MarkScreen(ModalScreen[tuple[str, str] | None]):
    """Asks for a title and a note; dismissed with ``(title, note)`` or None. Enter in the title goes to the note,
    ctrl+s saves from either, Escape cancels."""

    BINDINGS = [Binding("ctrl+s", "save", "save", priority=True), Binding("escape", "cancel", "cancel")]

    def __init__(self, heading: str, title: str = "", note: str = "") -> None:
        super().__init__()
        self.heading, self.title_text, self.note_text = heading, title, note

    def compose(self) -> ComposeResult:
        with Vertical(id="mark"):
            yield Static(Content.styled(self.heading, "bold"))
            yield Input(self.title_text, placeholder="title", id="mark-title")
            yield TextArea(self.note_text, id="mark-note", language="markdown", soft_wrap=True)
            yield Static(Content.styled("Enter: to the note · ctrl+s save · Escape cancel", "$text-muted"))

    @on(Input.Submitted)
    def _to_note(self) -> None:
        self.query_one(TextArea).focus()

    def action_save(self) -> None:
        title = self.query_one(Input).value.strip()
        if not title:
            self.notify("a mark needs a title", severity="warning", timeout=2, markup=False)
            self.query_one(Input).focus()
            return
        self.dismiss((title, self.query_one(TextArea).text))

    def action_cancel(self) -> None:
        self.dismiss(None)


def _describe(mark: Mark, seq: int | None) -> Content:
    where = "gone" if seq is None else f"#{seq}"
    head = Content.assemble((f"{where:>8} ", "$text-muted"), f"{mark.anchor.ts_ns / 1e9:.6f} s  ",
                            (visible(mark.title), "bold"))
    first = next((line for line in mark.note.splitlines() if line.strip()), "")
    return Content.assemble(head, ("\n         " + visible(first), "$text-muted")) if first else head


class MarksScreen(ModalScreen[tuple[str, Mark, int | None] | None]):
    """The marks in seq order; dismissed with ``("go" | "edit" | "delete", mark, seq)`` or None."""

    BINDINGS = [Binding("e", "act('edit')", "edit"), Binding("d", "act('delete')", "delete"),
                Binding("escape,apostrophe,q", "close", "close")]

    def __init__(self, marks: tuple[Placed, ...]) -> None:
        super().__init__()
        self.marks = marks

    def compose(self) -> ComposeResult:
        with Vertical(id="marks"):
            yield Static(Content.styled(f"Marks ({len(self.marks)})", "bold"))
            yield Static(Content.styled("Enter go · e edit · d delete · Escape close", "$text-muted"))
            if self.marks:
                yield OptionList(*(Option(_describe(m, seq), id=f"mark-{i}") for i, (m, seq) in enumerate(self.marks)),
                                 id="mark-list")
            else:
                yield Static("No marks yet: m marks the event at the cursor.")

    def _chosen(self) -> tuple[Mark, int | None] | None:
        lists = self.query(OptionList)
        if not lists or lists.first().highlighted is None:
            return None
        return self.marks[lists.first().highlighted]

    @on(OptionList.OptionSelected)
    def _go(self) -> None:
        chosen = self._chosen()
        if chosen is not None and chosen[1] is not None:
            self.dismiss(("go", *chosen))

    def action_act(self, what: str) -> None:
        chosen = self._chosen()
        if chosen is not None:
            self.dismiss((what, *chosen))

    def action_close(self) -> None:
        self.dismiss(None)
