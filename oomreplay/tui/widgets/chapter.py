"""Presentation mode's chapter card: the chapter's title, its note, and a "kernel context" line saying which kernel
function the event comes from and what it does (``glossary.context``), for an audience that has not read
mm/oom_kill.c lately. Which side panels a chapter shows depends on what kind of moment it is (``PANELS``)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Markdown, Static

from ..._util.safetext import visible
from ...review.chapters import Chapter
from ...review.glossary import context

#: The side panels worth the audience's eyes for each kind of chapter (the tasks table is always shown).
PANELS: dict[str, tuple[str, ...]] = {
    "oom_invoke": ("memory", "reaper"), "oom_candidate": ("memory",), "oom_kill": ("reaper", "memory"),
    "oom_end": ("memory", "reaper"), "meminfo": ("memory",),
    "oom_victim": ("reaper", "memory"), "reaper_wake": ("reaper", "locks"), "reaper_attempt": ("reaper", "locks"),
    "reaper_done": ("reaper", "locks"), "lock_acquire": ("locks", "reaper"), "lock_contended": ("locks", "reaper"),
    "lock_release": ("locks", "reaper"), "lock_held": ("locks", "reaper"), "flag_set": ("reaper", "locks"),
    "flag_clear": ("reaper", "locks"), "zone": ("memory",), "memcg": ("memory",), "alloc": ("memory",),
    "rss": ("memory",),
}
DEFAULT_PANELS = ("memory", "locks", "reaper")


def panels_for(kind: str) -> tuple[str, ...]:
    return PANELS.get(kind, DEFAULT_PANELS)


class ChapterCard(Vertical):
    """Hidden outside presentation mode (the stylesheet shows it under ``.-present``)."""

    #: The chapter whose note and context are shown: a step inside it changes only the title's "+N events".
    _shown: Chapter | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="chapter-title")
        yield Markdown(id="chapter-note")
        yield Static(id="chapter-context")

    def show(self, chapter: Chapter | None, index: int, total: int, cursor: int) -> None:
        title = self.query_one("#chapter-title", Static)
        note = self.query_one("#chapter-note", Markdown)
        where = self.query_one("#chapter-context", Static)
        if chapter is None:
            title.update(Content.styled(f"Before the first of {total} chapters: → or PgDn starts", "bold"))
            if self._shown is not None:
                note.update("")
                where.update("")
            self._shown = None
            return
        after = "" if cursor == chapter.seq else f"  (+{cursor - chapter.seq} events)"
        title.update(Content.assemble((f" {index + 1}/{total} ", "reverse bold $accent"), " ",
                                      (visible(chapter.title), "bold"), (after, "$text-muted")))
        if chapter == self._shown:
            return  # Markdown.update parses and mounts the note again: only when the chapter changes
        self._shown = chapter
        # Notes are Markdown written by the reviewer or a scenario's author; titles (a key moment's holds a comm
        # from the traced machine) and the context line stay plain text.
        note.update(chapter.note)
        where.update(Content.assemble(("kernel: ", "$text-muted"), context(chapter.kind, chapter.fields)))
