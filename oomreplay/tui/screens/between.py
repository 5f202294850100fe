"""What happened between markers A and B: the time, the event count, the state changes in order (Enter goes to
one) and what differs between the state at A and at B (the kill → the reaper's outcome)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ...session.span import MAX_LISTED, Span


def summary(span: Span) -> str:
    """The first line: both ends with their own times, the duration, the events."""
    return (f"A #{span.a} ({span.a_ts / 1e9:.6f} s) → B #{span.b} ({span.b_ts / 1e9:.6f} s): "
            f"{span.duration_ns / 1e9:.6f} s, {span.events} events")


class BetweenScreen(ModalScreen[int | None]):
    """Dismissed with the seq of the change chosen, or None."""

    BINDINGS = [Binding("escape,q,A", "close", "close")]

    def __init__(self, span: Span) -> None:
        super().__init__()
        self.span = span

    def compose(self) -> ComposeResult:
        span = self.span
        kinds = ", ".join(f"{kind} {n}" for kind, n in span.by_kind) or "no state change"
        options: list[Option | None] = [Option(Content.styled("From A to B", "bold $accent"), disabled=True)]
        options += [Option(Content(line), disabled=True) for line in span.outcomes or ("nothing differs",)]
        options += [None, Option(Content.styled("Changes in between", "bold $accent"), disabled=True)]
        options += [Option(Content(c.text), id=f"seq-{c.seq}") for c in span.changes]
        listed = sum(n for _, n in span.by_kind)
        if listed > MAX_LISTED:
            options.append(Option(Content(f"… {listed - MAX_LISTED} more"), disabled=True))
        with Vertical(id="between"):
            yield Static(Content.styled(summary(span), "bold"), id="between-summary")
            yield Static(Content.styled(kinds, "$text-muted"), id="between-kinds")
            yield OptionList(*options, id="between-list")

    def text(self) -> str:
        options = self.query_one(OptionList)
        lines = [str(self.query_one("#between-summary", Static).render()),
                 str(self.query_one("#between-kinds", Static).render())]
        return "\n".join(lines + [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)])

    @on(OptionList.OptionSelected)
    def _go(self, message: OptionList.OptionSelected) -> None:
        option_id = message.option.id or ""
        self.dismiss(int(option_id[4:]) if option_id.startswith("seq-") else None)

    def action_close(self) -> None:
        self.dismiss(None)
