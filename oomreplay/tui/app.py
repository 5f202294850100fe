"""ReplayApp: the panels and the cursor they all follow (its keys are in ``keys``, playback and presenting in
``playback``).

The app owns the cursor (the seq last asked for) and a request counter; every move becomes a request to the
loader thread, and the frame it sends back is painted by every panel at once. Only the latest request is
served, so holding a key scrubs without a backlog, and a frame that answers an older request is painted (it is
on the way) without moving the cursor back.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from textual import on
from textual.actions import parse as parse_action
from textual.app import ComposeResult, SystemCommand
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.theme import Theme
from textual.widgets import Footer

from .._util.safetext import visible
from ..review.chapters import Chapter
from ..review.notes import Placed
from ..session.frame import Frame, TraceInfo
from ..session.loader import Loader
from ..session.messages import (Explain, Explained, Failed, Find, FindViolation, Loaded, Marks, Missed, Opened,
                                Request, Result, Search, Seek, SeekTime, Spanned, Zoom, Zoomed)
from . import keys
from .marking import Marking
from .messages import LoaderResult, Scrubbed
from .playback import DEFAULT_SPEED, TICKS, Playback
from .screens.explain import ExplainScreen
from .layout import Layout
from .listing import Listing
from .markers import Markers
from .screens.help import HelpScreen, help_rows
from .screens.prompt import PromptScreen, parse_position
from .themes import ReplayTheme, SyntaxColours, bundled_themes, resolve
from .widgets.chapter import ChapterCard
from .widgets.header import ReplayHeader
from .widgets.locks import LocksPanel
from .widgets.log import LogPanel
from .widgets.memory import MemoryPanel
from .widgets.reaper import ReaperPanel
from .widgets.tasks import TasksPanel
from .widgets.timeline import Timeline

#: The narrowest timeline range z zooms to: a microsecond.
ZOOM_MIN_NS = 1_000


class ReplayApp(Marking, Playback, Layout, Markers, Listing):
    """Replays one trace; ``seq`` (or ``at_ns``, a time) is where to start, ``theme`` a bundled theme's name, a
    Textual theme's name or a theme file (see themes/README.md; a bad one raises ``ThemeError`` before anything
    starts), ``present`` starts in presentation mode, ``notes_for`` is the file whose notes sidecar holds the marks
    (the trace itself by default)."""

    CSS_PATH = "replay.tcss"
    TITLE = "oomreplay"
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall"), (44, "-very-tall")]
    BINDINGS = keys.BINDINGS

    def __init__(self, trace_path: str | Path, seq: int | None = None, theme: str | Path | None = None,
                 at_ns: int | None = None, present: bool = False, notes_for: str | Path | None = None,
                 chapters: Iterable[Chapter] | None = None) -> None:
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
        self.loader = Loader(self.trace_path, Path(notes_for) if notes_for is not None else None)
        self.info: TraceInfo | None = None
        self.frame: Frame | None = None
        self.cursor = seq if seq is not None else 0
        #: Where to open when given as a time (``--at``) rather than a seq.
        self.start_at_ns = at_ns
        self.playing = False
        self.speed = DEFAULT_SPEED  # index into SPEEDS
        self._due = 0.0  # events owed to playback since the last step
        #: The last ``/`` search, which n / N repeat, and the request that last looked for it.
        self.search_text: str | None = None
        self._search_request: tuple[int, str] = (-1, "")
        #: The marks (with their seqs; None: their event is gone) and the chapters, as the loader last sent them.
        self.marks: tuple[Placed, ...] = ()
        self.chapters: tuple[Chapter, ...] = ()
        #: Chapters given by the caller (``present --against``: the differences), in place of the marks'.
        self.fixed_chapters = tuple(chapters) if chapters is not None else None
        self.presenting = present
        #: Id of the latest request; a frame answering it is the cursor's.
        self.request_id = 0
        #: Id of the request whose answer (frame, miss or failure) came back last.
        self.answered_id = -1
        #: Why the trace could not be opened, if it could not.
        self.error: str | None = None

    def compose(self) -> ComposeResult:
        yield ReplayHeader(id="header")
        yield ChapterCard(id="chapter")
        yield Timeline(id="timeline")
        with Horizontal(id="middle"):
            yield TasksPanel(id="tasks")
            with Vertical(id="side"):
                yield MemoryPanel(id="memory")
                yield LocksPanel(id="locks")
                yield ReaperPanel(id="reaper")
        yield LogPanel(id="log")
        yield Footer()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for title, help_text, action in keys.COMMANDS:
            _, name, params = parse_action(action)
            # called directly: the palette may still be the active screen, where check_action refuses actions
            yield SystemCommand(title, help_text, partial(getattr(self, f"action_{name}"), *params))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Over an overlay (help, explain) the keys are the overlay's: the replay's own bindings are priority
        bindings, which Textual would otherwise run before the overlay sees the key."""
        return not isinstance(self.screen, ModalScreen)

    def on_mount(self) -> None:
        for panel, title in (("memory", "memory"), ("locks", "locks"), ("reaper", "reaper"), ("timeline", "timeline"),
                             ("log", "log")):
            self.query_one(f"#{panel}").border_title = title
        self.query_one(ReplayHeader).show_opening(visible(self.loader.notes_for.name))
        self.query_one(TasksPanel).focus()  # ↑/↓ select a task from the start; tab moves on to the other panels
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self._player = self.set_interval(1 / TICKS, self._tick, pause=True)
        self.run_worker(lambda: self.loader.run(self._emit), thread=True, group="loader", exit_on_error=False)

    def on_unmount(self) -> None:
        self._player.stop()
        self.loader.stop()

    def _emit(self, result: Result) -> None:
        """Called in the loader thread; ``post_message`` is thread-safe."""
        self.post_message(LoaderResult(result))

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
        if self.presenting and abs(delta) == 1:
            self._to_chapter(delta > 0)
        else:
            self._seek(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        if self.presenting:  # what presenter clickers send
            self._to_chapter(direction > 0)
            return
        count = self.info.count if self.info else 0
        self._seek(self.cursor + direction * max(100, count // 100))

    def action_edge(self, end: bool) -> None:
        self._seek(self.info.count - 1 if end and self.info else 0)

    def action_find(self, kind: str, forward: bool, label: str) -> None:
        self._request(Find((kind,), forward, self.cursor, label))

    def action_task_change(self, forward: bool) -> None:
        pid = self.query_one(TasksPanel).selected
        if pid is None:
            self.notify("select a task first (↑/↓ in the tasks panel)", timeout=2, markup=False)
            return
        self._request(Find((), forward, self.cursor, f"event of task {pid}", pid))

    def action_go_to(self) -> None:
        self.push_screen(PromptScreen("Go to", "a seq (1234 or #1234) or a time in seconds (1338.05 or 1338s)"),
                         self._go_to)

    def _go_to(self, answer: str | None) -> None:
        if answer is None:
            return
        where = parse_position(answer)
        if where is None:
            self.notify(f"not a seq or a time: {visible(answer)}", severity="warning", timeout=3, markup=False)
        elif where[0] == "seq":
            self._seek(where[1])
        else:
            self._request(SeekTime(where[1]))

    def action_search(self) -> None:
        self.push_screen(PromptScreen("Search events and log lines",
                                      "a regular expression (case ignored); n / N repeat", self.search_text or ""),
                         self._searched)

    def _searched(self, answer: str | None) -> None:
        if answer is not None:
            self.search_text = answer
            self.count_hits(answer)  # for "hit k of n", in a worker of its own
            self.action_search_again(True)

    def action_search_again(self, forward: bool) -> None:
        if self.search_text is None:
            self.notify("nothing searched yet (/ searches)", timeout=2, markup=False)
            return
        self._request(Search(self.search_text, forward, self.cursor))
        self._search_request = (self.request_id, self.search_text)

    def action_screenshot(self) -> None:
        """The screen as an SVG to paste into a review: NAME-seqN.svg in the current directory."""
        name = f"{self.trace_path.stem}-seq{self.cursor}.svg"
        try:
            path = self.save_screenshot(name, str(Path.cwd()))
        except OSError as e:
            self.notify(visible(e), title="screenshot not saved", severity="error", markup=False)
            return
        self.notify(path, title="screenshot saved", timeout=4, markup=False)

    def action_zoom(self, inward: bool) -> None:
        """A quarter of the timeline's range centred on the cursor, or four times it (the whole trace at most)."""
        timeline = self.query_one(Timeline)
        span, info = timeline.span, self.info
        if span is None or info is None or info.first_ts is None or info.last_ts is None:
            return
        width = (span[1] - span[0]) // 4 if inward else (span[1] - span[0]) * 4
        if not inward and width >= info.last_ts - info.first_ts:
            timeline.unzoom()
            return
        width = max(width, ZOOM_MIN_NS)
        centre = timeline.cursor_ts if timeline.cursor_ts is not None else (span[0] + span[1]) // 2
        t0 = min(max(centre - width // 2, info.first_ts), max(info.last_ts - width, info.first_ts))
        self._request(Zoom(t0, min(t0 + width, info.last_ts)))

    def action_order(self) -> None:
        order = self.query_one(TasksPanel).next_order()
        self.notify(f"tasks by {order}", timeout=1.5, markup=False)

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
            self.push_screen(HelpScreen(help_rows(self, (TasksPanel, LogPanel))))

    @on(Scrubbed)
    def _scrubbed(self, message: Scrubbed) -> None:
        self._request(SeekTime(message.ts_ns))

    # -- results ----------------------------------------------------------------------------------------------

    @on(LoaderResult)
    def _result(self, message: LoaderResult) -> None:
        self._APPLY[type(message.result)](self, message.result)

    def _answered(self, request_id: int) -> None:
        self.answered_id = max(self.answered_id, request_id)

    def _apply_opened(self, result: Opened) -> None:
        self.info = result.info
        if result.info.recovered:
            self.notify(result.info.recovered, title="damaged trace, recovered", severity="warning", markup=False)
        if self.start_at_ns is not None:
            self._request(SeekTime(self.start_at_ns))
        else:
            self._seek(self.cursor)

    def _apply_loaded(self, result: Loaded) -> None:
        if self.frame is None:
            # What is alive once the first frame is up (the trace's index and caches, 10,000 task rows) lives as
            # long as the app: frozen, the collector stops walking it, and its pauses stop stalling steps.
            gc.freeze()
        self._answered(result.request_id)
        if result.request_id == self.request_id:
            self.cursor = result.frame.seq
            if result.note:
                self.notify(result.note, timeout=4, markup=False)
            if self._search_request[0] == result.request_id:
                self._show_hit(self._search_request[1], result.frame.seq)
        self._show(result.frame)

    def _apply_marks(self, result: Marks) -> None:
        if result.request_id is not None:
            self._answered(result.request_id)
        first_time = result.request_id is None
        self.marks, self.chapters = result.marks, result.chapters
        if self.fixed_chapters is not None:
            self.chapters = self.fixed_chapters
        self.query_one(Timeline).show_marks([m.anchor.ts_ns for m, seq in self.marks if seq is not None])
        if result.error:
            self.notify(result.error, title="notes", severity="error", timeout=6, markup=False)
        if self.presenting and first_time and self.chapters and self.cursor < self.chapters[0].seq:
            self._seek(self.chapters[0].seq)  # `oomreplay present` opens on the first chapter
        elif self.presenting:
            self._show_chapter()

    def _apply_zoomed(self, result: Zoomed) -> None:
        self._answered(result.request_id)
        self.query_one(Timeline).show_zoom(result.t0, result.t1, result.buckets)

    def _apply_explained(self, result: Explained) -> None:
        self._answered(result.request_id)
        if result.request_id == self.request_id and not isinstance(self.screen, ExplainScreen):
            self.push_screen(ExplainScreen(result.findings), self._explained)

    def _apply_missed(self, result: Missed) -> None:
        self._answered(result.request_id)
        self.bell()
        self.notify(result.text, timeout=2, markup=False)

    def _apply_failed(self, result: Failed) -> None:
        if result.request_id is None:
            self.error = result.text
        else:
            self._answered(result.request_id)
        self.query_one(ReplayHeader).show_failure(result.text)
        self.notify(result.text, title="cannot show this trace", severity="error", markup=False)

    #: How each result the loader sends is applied (see ``session.messages``).
    _APPLY: ClassVar[dict[type, Callable[[ReplayApp, Any], None]]] = {
        Opened: _apply_opened, Loaded: _apply_loaded, Marks: _apply_marks, Zoomed: _apply_zoomed,
        Explained: _apply_explained, Missed: _apply_missed, Failed: _apply_failed, Spanned: Markers._apply_spanned,
    }

    def _show(self, frame: Frame) -> None:
        assert self.info is not None
        self.frame = frame
        with self.batch_update():
            self.query_one(ReplayHeader).show(self.info, frame)
            self.query_one(Timeline).show(self.info, frame.ts_ns)
            self.query_one(TasksPanel).show(frame)
            self.query_one(MemoryPanel).show(frame, self.info)
            self.query_one(LocksPanel).show(frame)
            self.query_one(ReaperPanel).show(frame)
            self.query_one(LogPanel).show(frame)
            if self.presenting:
                self._show_chapter()
