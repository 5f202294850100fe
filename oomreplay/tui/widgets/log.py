"""The original log lines around the cursor's event (or, for events with no source line, the events around it),
the cursor's line marked, coloured by the kmsg pygments lexer in the theme's pygments style."""

from __future__ import annotations

from collections import OrderedDict

from rich.segment import Segment
from rich.style import Style
from textual.content import Content, Span
from textual.binding import Binding
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from ...session.frame import Frame
from ..kmsg_lexer import KmsgLexer
from ..themes import SyntaxColours

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


class LogPanel(Widget, can_focus=True):
    """Plain text only: log lines come from the traced machine (already made visible by the frame). One row per
    line (long ones are cut, not wrapped), centred on the cursor's line, so that line is always in view.

    Drawn line by line (the Line API): each line's strip is kept, and a step repaints only the rows that now show
    another line. The window moves by a line at a step, so most lines are drawn already; lexing and composing the
    whole panel again at every step cost more than the rest of the step's drawing.
    """

    #: Strips kept per (line, is current): enough for the lines around a few hundred steps.
    KEPT = 512
    #: Focused (or full screen, ``L``), the log scrolls through the lines the frame carries around the cursor.
    BINDINGS = [Binding("up", "scroll_lines(-1)", show=False), Binding("down", "scroll_lines(1)", show=False),
                Binding("shift+up", "scroll_lines(-10)", show=False),
                Binding("shift+down", "scroll_lines(10)", show=False),
                Binding("home", "scroll_lines(0)", show=False)]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.frame: Frame | None = None
        self._shown: list[tuple[bool, str]] = []  # (is current, text) of each row
        self._strips: OrderedDict[tuple[bool, str], Strip] = OrderedDict()
        self._lexed: OrderedDict[str, Content] = OrderedDict()  # each line as lexed, in the plain rows' prefix
        self._base = Style()  # the panel's own style, set by each render_lines
        self.shift = 0  # lines scrolled from the cursor's line; a new frame centres again

    def action_scroll_lines(self, delta: int) -> None:
        self.shift = 0 if delta == 0 else self.shift + delta
        self._layout(self.frame)

    def show(self, frame: Frame | None) -> None:
        if frame is not self.frame:
            self.shift = 0
        self._layout(frame)

    def _layout(self, frame: Frame | None) -> None:
        self.frame = frame
        shown: list[tuple[bool, str]] = []
        if frame is not None:
            if self.border_subtitle != frame.log_title:
                self.border_subtitle = frame.log_title
            current_at = next((i for i, (current, _) in enumerate(frame.log_lines) if current), 0)
            self.shift = min(max(self.shift, -current_at), max(len(frame.log_lines) - 1 - current_at, 0))
            current_at += self.shift
            shown = [(bool(current), text) for current, text in
                     around(frame.log_lines, current_at, self.content_region.height)] or [(False, "no log line")]
        if len(shown) != len(self._shown):
            self.refresh()
        else:
            width = self.size.width
            lines = [Region(0, y, width, 1) for y, (now, was) in enumerate(zip(shown, self._shown)) if now != was]
            if lines:
                self.refresh(*lines)
        self._shown = shown

    def line_content(self, current: bool, text: str) -> Content:
        """One row as Content: the lexer's colours, the cursor's row marked with a band. A line is lexed once
        while it stays near the cursor (it becomes the cursor's row, then not, as the cursor passes)."""
        line = self._lexed.get(text)
        if line is None:
            line = self._lexed[text] = highlight(text, getattr(self.app, "syntax_colours", None), "  ")
            if len(self._lexed) > self.KEPT:
                self._lexed.popitem(last=False)
        if not current:
            return line
        marked = "▶ " + text  # as wide as the plain rows' prefix: the lexer's spans stay where they are
        return Content(marked, [Span(0, len(marked), _CURRENT), *line.spans])

    def render(self) -> Content:
        """The rows as one Content (what the panel shows, for whoever asks for it whole)."""
        return Content("\n").join([self.line_content(*key) for key in self._shown])

    def render_lines(self, crop: Region) -> list[Strip]:
        self._base = self.rich_style  # once per repaint: each lookup walks the DOM for the background
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        base = self._base
        width = self.size.width
        if y >= len(self._shown):
            return Strip.blank(width, base)
        key = self._shown[y]
        strip = self._strips.get(key)
        if strip is None:
            content = self.line_content(*key)
            strip = Strip([Segment(text, style.rich_style) for text, style in
                           content.render(self.visual_style, end="", parse_style=self.app.stylesheet.parse_style)])
            self._strips[key] = strip
            if len(self._strips) > self.KEPT:
                self._strips.popitem(last=False)
        if strip.cell_length > width > 0:  # cut, and say so in the style of where it was cut
            cut = strip.crop(0, width - 1)
            return Strip.join([cut, Strip([Segment("…", list(cut)[-1].style if cut.cell_length else base)])])
        # the cursor's band runs the panel's width: its first cell ("▶") has the band and nothing else
        return strip.crop_extend(0, width, list(strip)[0].style if key[0] and strip.cell_length else base)

    def on_resize(self) -> None:
        self._layout(self.frame)

    def recolour(self) -> None:
        """Draw again with the app's current syntax colours (after a theme change)."""
        self._strips.clear()
        self._lexed.clear()
        self.refresh()
