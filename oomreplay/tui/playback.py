"""The cursor moving without a key per step: playback at a chosen speed, and presentation mode's chapters.

A mixin of ``ReplayApp`` (it uses the app's cursor, requests and panels), kept apart because playback and
presenting are the two ways the cursor moves on its own: a tick steps only once the previous frame is painted,
and presenting, it stops at each chapter.
"""

from __future__ import annotations

from textual.app import App
from textual.screen import ModalScreen
from textual.timer import Timer

from ..review.chapters import Chapter
from ..session.frame import TraceInfo
from .widgets.chapter import DEFAULT_PANELS, ChapterCard, panels_for
from .widgets.header import ReplayHeader
from .widgets.tasks import TasksPanel

#: Playback speeds (events per second) that +/- step through, and the one play starts at.
SPEEDS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000)
DEFAULT_SPEED = 3
#: Playback ticks per second; a tick steps only once the previous frame is painted, so playback never queues.
TICKS = 30


class Playback(App[None]):
    """Play / pause, speed, and the chapters of presentation mode; ``ReplayApp`` provides the rest (the state
    below, ``settled`` and ``_seek``)."""

    info: TraceInfo | None
    cursor: int
    playing: bool
    speed: int  # index into SPEEDS
    presenting: bool
    chapters: tuple[Chapter, ...]
    _due: float  # events owed to playback since the last step
    _player: Timer

    def action_play(self) -> None:
        self.playing = not self.playing
        self._due = 0.0
        if self.playing:
            self._player.resume()
        else:
            self._player.pause()
        self._show_play()

    def action_speed(self, delta: int) -> None:
        self.speed = min(max(self.speed + delta, 0), len(SPEEDS) - 1)
        self._show_play()

    def _show_play(self) -> None:
        state = "▶" if self.playing else "⏸"
        self.query_one(ReplayHeader).show_play(f"{state} {SPEEDS[self.speed]} ev/s")

    def _tick(self) -> None:
        """Step by the events due at the chosen speed, but only once the previous step is painted; presenting,
        stop at the next chapter."""
        self._due = min(self._due + SPEEDS[self.speed] / TICKS, SPEEDS[self.speed] / 4)
        if self._due < 1 or not self.settled or self.info is None:
            return
        if self.cursor >= self.info.count - 1:
            self.action_play()
            self.notify("end of the trace", timeout=2, markup=False)
            return
        steps = int(self._due)
        self._due -= steps
        target = self.cursor + steps
        stop = self._next_chapter(True) if self.presenting else None
        if stop is not None and stop.seq <= target:
            self.action_play()
            target = stop.seq
        self._seek(target)

    def action_present(self) -> None:
        self.presenting = not self.presenting
        self._show_chapter()

    def _next_chapter(self, forward: bool) -> Chapter | None:
        ahead = [c for c in self.chapters if (c.seq > self.cursor if forward else c.seq < self.cursor)]
        if not ahead:
            return None
        return ahead[0] if forward else ahead[-1]

    def _to_chapter(self, forward: bool) -> None:
        chapter = self._next_chapter(forward)
        if chapter is None:
            self.bell()
            self.notify("the last chapter" if forward else "the first chapter", timeout=1.5, markup=False)
            return
        self._seek(chapter.seq)

    def _show_chapter(self) -> None:
        """Presentation mode's card and the panels the current chapter needs; outside it, the usual screen."""
        screen = self.screen if not isinstance(self.screen, ModalScreen) else self.screen_stack[0]
        screen.set_class(self.presenting, "-present")
        tasks = self.query_one(TasksPanel)
        if not self.presenting:
            for name in DEFAULT_PANELS:
                self.query_one(f"#{name}").display = True
            return
        at = [i for i, c in enumerate(self.chapters) if c.seq <= self.cursor]
        chapter = self.chapters[at[-1]] if at else None
        self.query_one(ChapterCard).show(chapter, at[-1] if at else 0, len(self.chapters), self.cursor)
        wanted = panels_for(chapter.kind) if chapter else DEFAULT_PANELS
        for name in DEFAULT_PANELS:
            self.query_one(f"#{name}").display = name in wanted
        if not tasks.only_involved:
            tasks.toggle_involved()
