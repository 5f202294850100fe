"""A one-line question over the replay (``:`` go to, ``/`` search): Enter answers, Escape cancels."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class PromptScreen(ModalScreen[str | None]):
    """Dismissed with the text typed, or None."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, question: str, hint: str, value: str = "") -> None:
        super().__init__()
        self.question, self.hint, self.value = question, hint, value

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt"):
            yield Static(Content.styled(self.question, "bold"))
            yield Input(self.value, placeholder=self.hint)
            yield Static(Content.styled(self.hint, "$text-muted"))

    @on(Input.Submitted)
    def _submitted(self, message: Input.Submitted) -> None:
        self.dismiss(message.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


def parse_position(text: str) -> tuple[str, int] | None:
    """``("seq", n)`` for ``1234`` or ``#1234``; ``("time", ns)`` for ``12.5``, ``12.5s`` or ``1338s`` (the
    trace's own clock, as the header shows it); None if it is neither."""
    text = text.strip().lower()
    try:
        if text.startswith("#"):
            return "seq", int(text[1:])
        if text.endswith("s"):
            return "time", round(float(text[:-1]) * 1e9)
        if "." in text:
            return "time", round(float(text) * 1e9)
        return "seq", int(text)
    except ValueError:
        return None
