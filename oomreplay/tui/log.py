"""The original log lines around the cursor's event (or, for events with no source line, the events around it),
the cursor's line marked, coloured by the kmsg pygments lexer in the theme's pygments style."""

from __future__ import annotations

from textual.content import Content, Span

from .frame import Frame
from .kmsg_lexer import KmsgLexer
from .panel import Panel
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


def around(lines: list, current: int, height: int) -> list:
    """The ``height`` lines centred on the ``current`` one (all of them when there is room)."""
    if height <= 0 or len(lines) <= height:
        return lines
    start = min(max(0, current - (height - 1) // 2), len(lines) - height)
    return lines[start:start + height]


class LogPanel(Panel):
    """Plain text only: log lines come from the traced machine (already made visible by the frame). One row per
    line (long ones are cut, not wrapped), centred on the cursor's line, so that line is always in view."""

    frame: Frame | None = None

    def show(self, frame: Frame | None) -> None:
        self.frame = frame
        if frame is None:
            self.paint(Content(""))
            return
        if self.border_subtitle != frame.log_title:
            self.border_subtitle = frame.log_title
        colours: SyntaxColours | None = getattr(self.app, "syntax_colours", None)
        lines = []
        current_at = next((i for i, (current, _) in enumerate(frame.log_lines) if current), 0)
        for current, text in around(frame.log_lines, current_at, self.content_region.height):
            if current:
                line = highlight(text, colours, "▶ ")
                lines.append(Content(line.plain, [Span(0, len(line.plain), _CURRENT), *line.spans]))
            else:
                lines.append(highlight(text, colours, "  "))
        self.paint(Content("\n").join(lines) if lines else Content("no log line"))

    def on_resize(self) -> None:
        self.show(self.frame)

    def recolour(self) -> None:
        """Paint again with the app's current syntax colours (after a theme change)."""
        self.show(self.frame)
