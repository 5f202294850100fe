"""The explain overlay: why the OOM happened, what the reaper met, who waits for whom and which invariants break,
at the cursor's moment; Enter on a finding jumps to its first piece of evidence.

A list rather than a page of text because every sentence points at events: the reader goes from the claim to
the log line that proves it, and back with ``e``.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ...session.findings import FindingRow, Findings


def _prompt(row: FindingRow) -> Content:
    head = Content.assemble("• ", row.text, (" (inferred)", "$text-warning") if row.inferred else "")
    evidence = [Content.styled(f"    {line}", "$text-muted") for line in row.evidence]
    return Content("\n").join([head, *evidence])


class ExplainScreen(ModalScreen[int | None]):
    """Dismissed with the seq to jump to, or None."""

    BINDINGS = [Binding("escape,e,q", "close", "close")]

    def __init__(self, found: Findings) -> None:
        super().__init__()
        self.found = found
        self._targets: dict[str, int] = {}  # option id -> the seq Enter jumps to

    def compose(self) -> ComposeResult:
        at = "" if self.found.ts_ns is None else f" ({self.found.ts_ns / 1e9:.6f} s)"
        options: list[Option | None] = []
        for heading, rows in self.found.topics:
            if options:
                options.append(None)  # a separator
            options.append(Option(Content.styled(heading, "bold $accent"), disabled=True))
            for row in rows:
                option_id = f"finding-{len(options)}"
                if row.seq is not None:
                    self._targets[option_id] = row.seq
                options.append(Option(_prompt(row), id=option_id, disabled=row.seq is None))
        with Vertical(id="explain"):
            yield Static(Content.styled(f"Explanation at seq {self.found.seq}{at}", "bold"))
            yield Static(Content.styled("↑/↓ choose · Enter go to its evidence · e close", "$text-muted"))
            yield OptionList(*options, id="findings")

    @on(OptionList.OptionSelected)
    def _go(self, message: OptionList.OptionSelected) -> None:
        self.dismiss(self._targets.get(message.option.id or ""))

    def action_close(self) -> None:
        self.dismiss(None)
