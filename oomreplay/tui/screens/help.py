"""The key list, over the replay: every key by group with what it does, generated from the bindings (``keyhelp``).

It scrolls (↑/↓, PgUp/PgDn, the wheel), since at 80×24 the list is longer than the screen; Escape, ``q``, ``?`` or
Enter close it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from rich.cells import cell_len
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Static

from ..keyhelp import EXTRA, SCREEN_ACTIONS, KeyRow, key_rows

#: The keys' column, in cells: longer keys (the timeline's "click / drag") push their text along instead.
KEYS_WIDTH = 12


def help_rows(app: App[object], panels: Iterable[type[Widget]], extra: Iterable[tuple[str, str, str]] = EXTRA,
              words: Mapping[str, str] | None = None) -> list[KeyRow]:
    """The rows for the app's bindings (its own and its bases'), the screen's focus keys and the ``panels``' own
    keys, each key shown as Textual shows it (never a binding's footer label, such as ``[/]`` for ``]`` alone),
    then the ``extra`` rows (ways in that are not bindings); ``words`` reword shared keys, by action."""
    bindings: list[BindingType] = []
    for cls in type(app).__mro__:
        bindings += vars(cls).get("BINDINGS", [])
    bindings += [b for b in Binding.make_bindings(Screen.BINDINGS) if b.action in SCREEN_ACTIONS]
    for panel in panels:
        bindings += panel.BINDINGS
    return key_rows(bindings, lambda b: app.get_key_display(replace(b, key_display=None)), extra, words)


class HelpScreen(ModalScreen[None]):
    """``rows`` are what ``help_rows`` makes of the app's, the screen's and the panels' bindings."""

    BINDINGS = [Binding("escape,q,question_mark,enter", "close", "close")]

    def __init__(self, rows: list[KeyRow]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        width = min(max((cell_len(r.keys) for r in self.rows), default=0), KEYS_WIDTH) + 2
        with Vertical(id="help"):
            yield Static(Content.assemble(("Keys", "bold underline"),
                                          ("   ↑/↓ PgUp/PgDn scroll · Esc closes", "$text-muted")))
            with VerticalScroll(id="help-scroll"):
                group = None
                for row in self.rows:
                    if row.group != group:
                        group = row.group
                        yield Static(Content.styled(group, "bold $accent"), classes="help-group")
                    keys = row.keys.ljust(width) if cell_len(row.keys) < width else row.keys + "  "
                    yield Static(Content.assemble((keys, "bold"), row.text), classes="help-row")

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()

    def text(self) -> str:
        """Everything the help lists, as plain text (what a test or a screen reader reads)."""
        return "\n".join(str(w.render()) for w in self.query(".help-group, .help-row"))

    def action_close(self) -> None:
        self.dismiss()
