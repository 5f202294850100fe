"""ReplayApp: the panels, the keys, and the cursor they all follow.

The app owns the cursor (the seq last asked for) and a request counter; every move becomes a request to the
loader thread, and the frame it sends back is painted by every panel at once. Only the latest request is
served, so holding a key scrubs without a backlog, and a frame that answers an older request is painted (it is
on the way) without moving the cursor back.
"""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.theme import Theme
from textual.widgets import Footer

from .frame import Frame, TraceInfo
from .header import ReplayHeader
from .explain import ExplainScreen
from .help import HelpScreen
from .loader import (Explain, Explained, Failed, Find, FindViolation, Loaded, Loader, Missed, Opened, Request, Seek,
                     SeekTime)
from .locks import LocksPanel
from .log import LogPanel
from .memory import MemoryPanel
from .messages import LoaderResult, Scrubbed
from .reaper import ReaperPanel
from .tasks import TasksPanel
from .themes import ReplayTheme, SyntaxColours, bundled_themes, resolve
from .timeline import Timeline

#: shift+←/→ moves this many events.
SHIFT_STEP = 10


def _find(kinds: str, forward: str, label: str) -> str:
    return f"find('{kinds}', {forward}, '{label}')"


class ReplayApp(App[None]):
    """Replays one trace; ``seq`` is where to start, ``theme`` a bundled theme's name, a Textual theme's name or a
    theme file (see themes/README.md); a bad one raises ``ThemeError`` before anything starts."""

    CSS_PATH = "replay.tcss"
    TITLE = "oomreplay"
    BINDINGS = [
        Binding("left", "step(-1)", "-1", priority=True),
        Binding("right", "step(1)", "+1", priority=True),
        Binding("shift+left", f"step(-{SHIFT_STEP})", show=False, priority=True),
        Binding("shift+right", f"step({SHIFT_STEP})", show=False, priority=True),
        Binding("pageup", "page(-1)", show=False, priority=True),
        Binding("pagedown", "page(1)", show=False, priority=True),
        Binding("left_square_bracket", _find("oom_kill", "False", "kill"), "kill", key_display="[", priority=True),
        Binding("right_square_bracket", _find("oom_kill", "True", "kill"), "kill", key_display="]",
                priority=True),
        Binding("left_curly_bracket", _find("reaper_attempt", "False", "reaper attempt"), "reaper",
                key_display="{", priority=True),
        Binding("right_curly_bracket", _find("reaper_attempt", "True", "reaper attempt"), "reaper",
                key_display="}", priority=True),
        Binding("v", "find_violation(True)", "violation", key_display="v/V", priority=True),
        Binding("V", "find_violation(False)", show=False, priority=True),
        Binding("e", "explain", "explain", priority=True),
        Binding("g", "edge(False)", "start", priority=True),
        Binding("G", "edge(True)", "end", priority=True),
        Binding("f", "toggle_involved", "involved", priority=True),
        Binding("t", "cycle_theme", "theme", priority=True),
        Binding("question_mark", "help", "help", key_display="?", priority=True),
        Binding("q", "quit", "quit", priority=True),
    ]

    def __init__(self, trace_path: str | Path, seq: int | None = None, theme: str | Path | None = None) -> None:
        super().__init__()
        # Themes are registered here, not in on_mount: CSS variables must exist before the stylesheet is parsed.
        chosen = resolve(theme)
        self.replay_themes: dict[str, ReplayTheme] = {t.name: t for t in bundled_themes()}
        self.replay_themes[chosen.name] = chosen
        for replay_theme in self.replay_themes.values():
            self.register_theme(replay_theme.theme)
        self.syntax_colours = SyntaxColours(chosen)
        self.theme = chosen.name
        self.trace_path = Path(trace_path)
        self.loader = Loader(self.trace_path)
        self.info: TraceInfo | None = None
        self.frame: Frame | None = None
        self.cursor = seq if seq is not None else 0
        #: Id of the latest request; a frame answering it is the cursor's.
        self.request_id = 0
        #: Id of the request whose answer (frame, miss or failure) came back last.
        self.answered_id = -1
        #: Why the trace could not be opened, if it could not.
        self.error: str | None = None

    def compose(self) -> ComposeResult:
        yield ReplayHeader(id="header")
        yield Timeline(id="timeline")
        with Horizontal(id="middle"):
            yield TasksPanel(id="tasks")
            with Vertical(id="side"):
                yield MemoryPanel(id="memory")
                yield LocksPanel(id="locks")
                yield ReaperPanel(id="reaper")
        yield LogPanel(id="log")
        yield Footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Over an overlay (help, explain) the keys are the overlay's: the replay's own bindings are priority
        bindings, which Textual would otherwise run before the overlay sees the key."""
        return not isinstance(self.screen, ModalScreen)

    def on_mount(self) -> None:
        for panel, title in (("memory", "memory"), ("locks", "locks"), ("reaper", "reaper"), ("timeline", "timeline")):
            self.query_one(f"#{panel}").border_title = title
        self.query_one(ReplayHeader).show_opening(self.trace_path.name)
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self.run_worker(lambda: self.loader.run(self._emit), thread=True, group="loader", exit_on_error=False)

    def on_unmount(self) -> None:
        self.loader.stop()

    def _emit(self, result: object) -> None:
        """Called in the loader thread; ``post_message`` is thread-safe."""
        self.post_message(LoaderResult(result))  # type: ignore[arg-type]

    @property
    def settled(self) -> bool:
        """Whether the latest request has been answered (tests and benchmarks wait on it)."""
        return self.error is not None or (self.info is not None and self.answered_id == self.request_id)

    # -- requests ---------------------------------------------------------------------------------------------

    def _request(self, request: Request) -> None:
        if self.info is None:
            return
        self.request_id += 1
        self.loader.request(self.request_id, request)

    def _seek(self, seq: int) -> None:
        if self.info is None:
            return
        self.cursor = max(min(seq, self.info.count - 1), 0 if self.info.count else -1)
        self._request(Seek(self.cursor))

    def action_step(self, delta: int) -> None:
        self._seek(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        count = self.info.count if self.info else 0
        self._seek(self.cursor + direction * max(100, count // 100))

    def action_edge(self, end: bool) -> None:
        self._seek(self.info.count - 1 if end and self.info else 0)

    def action_find(self, kind: str, forward: bool, label: str) -> None:
        self._request(Find((kind,), forward, self.cursor, label))

    def action_find_violation(self, forward: bool) -> None:
        self._request(FindViolation(forward, self.cursor))

    def action_explain(self) -> None:
        self._request(Explain(self.cursor))

    def _explained(self, jump_to: int | None) -> None:
        if jump_to is not None:
            self._seek(jump_to)

    def action_toggle_involved(self) -> None:
        self.query_one(TasksPanel).toggle_involved()

    def action_cycle_theme(self) -> None:
        """The next of the replay themes (the bundled ones and the one asked for), in order."""
        names = list(self.replay_themes)
        following = names[(names.index(self.theme) + 1) % len(names)] if self.theme in names else names[0]
        self.theme = following
        self.notify(following, title="theme", timeout=1.5, markup=False)

    def _theme_changed(self, theme: Theme) -> None:
        """Any theme change (``t``, the command palette): the log panel takes the theme's pygments style."""
        replay_theme = self.replay_themes.get(theme.name) or ReplayTheme(theme, "monokai" if theme.dark else "default")
        self.syntax_colours = SyntaxColours(replay_theme)
        self.query_one(LogPanel).recolour()

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
        else:
            self.push_screen(HelpScreen())

    @on(Scrubbed)
    def _scrubbed(self, message: Scrubbed) -> None:
        self._request(SeekTime(message.ts_ns))

    # -- results ----------------------------------------------------------------------------------------------

    @on(LoaderResult)
    def _result(self, message: LoaderResult) -> None:
        result = message.result
        if isinstance(result, Opened):
            self.info = result.info
            if result.info.recovered:
                self.notify(result.info.recovered, title="damaged trace, recovered", severity="warning",
                            markup=False)
            self._seek(self.cursor)
        elif isinstance(result, Loaded):
            self.answered_id = max(self.answered_id, result.request_id)
            if result.request_id == self.request_id:
                self.cursor = result.frame.seq
                if result.note:
                    self.notify(result.note, timeout=4, markup=False)
            self._show(result.frame)
        elif isinstance(result, Explained):
            self.answered_id = max(self.answered_id, result.request_id)
            if result.request_id == self.request_id and not isinstance(self.screen, ExplainScreen):
                self.push_screen(ExplainScreen(result.findings), self._explained)
        elif isinstance(result, Missed):
            self.answered_id = max(self.answered_id, result.request_id)
            self.bell()
            self.notify(result.text, timeout=2, markup=False)
        elif isinstance(result, Failed):
            if result.request_id is None:
                self.error = result.text
            else:
                self.answered_id = max(self.answered_id, result.request_id)
            self.query_one(ReplayHeader).show_failure(result.text)
            self.notify(result.text, title="cannot show this trace", severity="error", markup=False)

    def _show(self, frame: Frame) -> None:
        assert self.info is not None
        self.frame = frame
        with self.batch_update():
            self.query_one(ReplayHeader).show(self.info, frame)
            self.query_one(Timeline).show(self.info, frame.ts_ns)
            self.query_one(TasksPanel).show(frame)
            self.query_one(MemoryPanel).show(frame)
            self.query_one(LocksPanel).show(frame)
            self.query_one(ReaperPanel).show(frame)
            self.query_one(LogPanel).show(frame)
