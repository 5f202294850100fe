"""The original log lines around the cursor's event (or, for events with no source line, the events around it),
the cursor's line marked, coloured by the kmsg pygments lexer in the theme's pygments style."""

from __future__ import annotations

from textual.content import Content, Span
from textual.widgets import Static

from .frame import Frame
from .kmsg_lexer import KmsgLexer
from .themes import SyntaxColours

_LEXER = KmsgLexer()
#: The cursor's line: a band in the theme's accent, so the token colours stay readable on it.
_CURRENT = "bold on $accent 30%"


def highlight(text: str, colours: SyntaxColours | None, prefix: str = "") -> Content:
    """``prefix + text`` as a Content whose spans come from the lexer's tokens: the text is never parsed as
    markup, so a log line can only ever be shown, not act."""
    spans: list[Span] = []
    if colours is not None:
        offset = len(prefix)
        for index, token, value in _LEXER.get_tokens_unprocessed(text):
            style = colours.style(token)
            if style is not None and value:
                spans.append(Span(offset + index, offset + index + len(value), style))
    return Content(prefix + text, spans)


class LogPanel(Static):
    """Plain text only: log lines come from the traced machine (already made visible by the frame)."""

    frame: Frame | None = None

    def show(self, frame: Frame | None) -> None:
        self.frame = frame
        if frame is None:
            self.update("")
            return
        self.border_title = "log"
        self.border_subtitle = frame.log_title
        colours: SyntaxColours | None = getattr(self.app, "syntax_colours", None)
        lines = []
        for current, text in frame.log_lines:
            if current:
                line = highlight(text, colours, "▶ ")
                lines.append(Content(line.plain, [Span(0, len(line.plain), _CURRENT), *line.spans]))
            else:
                lines.append(highlight(text, colours, "  "))
        self.update(Content("\n").join(lines) if lines else Content("no log line"))

    def recolour(self) -> None:
        """Paint again with the app's current syntax colours (after a theme change)."""
        self.show(self.frame)
