"""The key list, over the replay; any key closes it."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: tuple[tuple[str, str], ...] = (
    ("← / →", "previous / next event"),
    ("shift+← / shift+→", "10 events back / forward"),
    ("PgUp / PgDn", "1 % of the trace (at least 100 events) back / forward"),
    ("[ / ]", "previous / next OOM kill"),
    ("{ / }", "previous / next reaper attempt"),
    (", / .", "previous / next event of the selected task (↑/↓ select in the tasks panel)"),
    (":", "go to a seq (1234, #1234) or a time (1338.05, 1338s)"),
    ("/  n / N", "search events and log lines; next / previous hit"),
    ("space  + / -", "play / pause; faster / slower"),
    ("o", "tasks: next sort order (pid, rss, oom_score_adj, state, comm)"),
    ("v / V", "next / previous invariant violation"),
    ("e", "explain this moment (Enter on a finding: go to its evidence)"),
    ("m / '", "mark this event (title, Markdown note) / the marks: go, edit, delete"),
    ("p", "presentation mode: ←/→, PgUp/PgDn move between chapters; space plays to the next"),
    ("g / G", "first / last event"),
    ("f", "tasks: all, or only those involved in the OOM"),
    ("s", "save a screenshot (SVG) in the current directory"),
    ("t", "next colour theme"),
    ("ctrl+p", "command palette: every action by name"),
    ("click the timeline", "jump there (drag to scrub)"),
    ("z / Z", "timeline: zoom in around the cursor / out"),
    ("?", "this help"),
    ("q", "quit"),
)


class HelpScreen(ModalScreen[None]):
    """Lists ``KEYS``; closes on any key or click."""

    def compose(self) -> ComposeResult:
        text = Content("\n").join(Content.assemble((k.ljust(20), "bold"), v) for k, v in KEYS)
        with Vertical(id="help"):
            yield Static(Content.styled("Keys", "bold underline"))
            yield Static(text, id="help-keys")

    def on_key(self, event: events.Key) -> None:
        event.stop()
        self.dismiss()

    def on_click(self) -> None:
        self.dismiss()
