"""``oomreplay story``: an incident told chapter by chapter, as Markdown and as one self-contained HTML page.

Each chapter (see ``review/chapters.py``: the reviewer's marks, else the trace's marks, else the key moments)
gets its title, time, seq, note, the kernel context of its event, an SVG screenshot of the replay TUI at that seq
(taken by the function the caller passes in: the export never imports the TUI) and the state tables of
``snapshot``. The HTML needs no network: CSS and SVGs are inline and the web-font URLs Rich puts in its SVGs are
taken out (the local font or the monospace fallback is used), so the page can be attached to a review and opened
anywhere. Notes are Markdown written by people and comms come from the traced machine: the HTML renders notes
with raw HTML and images disabled and escapes everything else.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .._util.plural import count
from .._util.safetext import markdown_text, visible
from ..review.chapters import Chapter, chapters
from ..review.glossary import context
from ..review.notes import Mark, Notes
from ..store import Trace, open_trace
from . import snapshot

DEFAULT_SIZE = (160, 48)
#: ``shoot(trace_path, seqs, size, notes_for)``: an SVG of the replay TUI at each seq, at ``size`` (columns, rows),
#: with the marks beside ``notes_for``. The caller passes it in (``tui.screenshots.screenshots``): the export never
#: imports the TUI.
Screenshots = Callable[[str | os.PathLike, Sequence[int], tuple[int, int], str | os.PathLike | None], list[str]]

_FONT_URL = re.compile(r"""\s*,\s*url\(["']?https?://[^)]*\)\s*format\(["'][^"']*["']\)""")
_COMMENT_URL = re.compile(r"<!--[^>]*https?://[^>]*-->")


@dataclass
class Story:
    """What ``write_story`` wrote: the chapters, the marks whose event is gone, the files."""

    chapters: list[Chapter]
    missing: list[Mark]
    files: list[Path] = field(default_factory=list)


def offline_svg(svg: str) -> str:
    """Rich's SVG without its network references (web-font URLs, the generator comment's link)."""
    return _COMMENT_URL.sub("<!-- Generated with Rich -->", _FONT_URL.sub("", svg))


def _when(ts_ns: int) -> str:
    return f"{ts_ns / 1e9:.6f} s"


def _one_line(text: str) -> str:
    return visible(" ".join(text.split()))


def _svg_name(i: int, ch: Chapter) -> str:
    return f"{i:02d}-seq-{ch.seq}.svg"


def markdown(trace: Trace, story: list[Chapter], names: list[str]) -> str:
    """``index.md``: a section per chapter; screenshots are the SVG files beside it."""
    lines = [f"# {markdown_text(_one_line(Path(trace.name).name))}: the story", "",
             f"Kernel {markdown_text(_one_line(str(trace.meta.get('kernel') or 'unknown')))}, "
             f"{count(len(trace), 'event')}, {count(len(story), 'chapter')}.", ""]
    if not story:
        lines += ["No marks, and no OOM invocation, kill or reaper outcome in this trace.", ""]
    for ch, name in zip(story, names):
        pid = "" if ch.pid is None else f", pid {ch.pid}"
        lines += [f"## {markdown_text(_one_line(ch.title)) or '(untitled)'}", "",
                  f"*{_when(ch.ts_ns)}, seq {ch.seq}, `{ch.kind}`{pid}*", "",
                  f"> Kernel context: {markdown_text(context(ch.kind, ch.fields))}", ""]
        if ch.note.strip():
            lines += [visible(ch.note.rstrip("\n")), ""]
        lines += [f"![The replay at seq {ch.seq}]({name})", "", snapshot.to_markdown(trace.state_at(ch.seq)), ""]
    return "\n".join(lines)


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 110rem; padding: 0 1rem; color: #1d1f21;
       background: #fdfdfd; line-height: 1.45; }
h1 { border-bottom: 2px solid #444; padding-bottom: .3rem; }
section { border-top: 1px solid #bbb; margin-top: 2.5rem; padding-top: 1rem; }
.meta { color: #555; font-family: ui-monospace, monospace; }
.context { border-left: 4px solid #6a9fb5; padding: .3rem .8rem; background: #eef4f7; }
.shot svg { width: 100%; height: auto; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-family: ui-monospace, monospace; font-size: .9rem; }
th, td { border: 1px solid #ccc; padding: .15rem .5rem; text-align: left; vertical-align: top; }
th { background: #eee; }
code { background: #f0f0f0; padding: 0 .2rem; }
nav ol { columns: 2; }
"""


def _note_html(note: str) -> str:
    """A person's Markdown as HTML: raw HTML is shown as text and images are not loaded (no network, nothing
    executable); links keep markdown-it's own refusal of javascript: and data: URLs."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).disable("image").render(visible(note))


def _table_html(title: str, header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<h3>{html.escape(title)}</h3>\n<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(trace: Trace, story: list[Chapter], svgs: list[str]) -> str:
    """``index.html``: one page, no external resource."""
    esc = html.escape
    name = esc(_one_line(Path(trace.name).name))
    kernel = esc(_one_line(str(trace.meta.get("kernel") or "unknown")))
    toc = "".join(f'<li><a href="#ch{i}">{esc(_one_line(ch.title) or "(untitled)")}</a> '
                  f'<span class="meta">seq {ch.seq}</span></li>' for i, ch in enumerate(story, 1))
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{name}: the story</title>", f"<style>{_CSS}</style></head><body>",
             f"<h1>{name}: the story</h1>",
             f'<p class="meta">kernel {kernel}, {count(len(trace), "event")}, {count(len(story), "chapter")}</p>']
    if story:
        parts.append(f"<nav><ol>{toc}</ol></nav>")
    else:
        parts.append("<p>No marks, and no OOM invocation, kill or reaper outcome in this trace.</p>")
    for i, (ch, svg) in enumerate(zip(story, svgs), 1):
        pid = "" if ch.pid is None else f", pid {ch.pid}"
        state = trace.state_at(ch.seq)
        tables = "\n".join(_table_html(t, h, r) for t, (h, r) in snapshot.sections(state))
        parts += [f'<section id="ch{i}">', f"<h2>{esc(_one_line(ch.title) or '(untitled)')}</h2>",
                  f'<p class="meta">{_when(ch.ts_ns)}, seq {ch.seq}, {esc(ch.kind)}{esc(pid)}</p>',
                  f'<p class="context">Kernel context: {esc(visible(context(ch.kind, ch.fields)))}</p>',
                  f'<div class="note">{_note_html(ch.note)}</div>' if ch.note.strip() else "",
                  f'<div class="shot">{svg}</div>', f"<h3>{esc(snapshot.heading(state))}</h3>", tables,
                  "</section>"]
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p)


def write_story(trace_path: str | os.PathLike, out_dir: str | os.PathLike, shoot: Screenshots,
                size: tuple[int, int] = DEFAULT_SIZE, notes_for: str | os.PathLike | None = None,
                told: Callable[[Trace], list[Chapter]] | None = None) -> Story:
    """Write ``index.md``, ``index.html`` and one SVG per chapter (taken by ``shoot``, made offline here) into
    ``out_dir`` (created if needed); the marks are those beside ``notes_for`` (the log a cached trace was converted
    from), else beside the trace. Raises ``NotesError`` for a broken notes sidecar, ``TraceError`` for a broken
    trace. ``told``, when given, makes the chapters instead (``story --against``: the differences with another
    incident)."""
    out = Path(out_dir)
    notes = Notes.load(notes_for if notes_for is not None else trace_path)
    with open_trace(trace_path) as trace:
        story, missing = (told(trace), []) if told is not None else chapters(trace, notes)
        svgs = [offline_svg(svg) for svg in shoot(trace_path, [ch.seq for ch in story], size, notes_for)]
        out.mkdir(parents=True, exist_ok=True)
        result = Story(story, missing)
        names = [_svg_name(i, ch) for i, ch in enumerate(story, 1)]
        for name, svg in zip(names, svgs):
            (out / name).write_text(svg, encoding="utf-8")
            result.files.append(out / name)
        (out / "index.md").write_text(markdown(trace, story, names), encoding="utf-8")
        (out / "index.html").write_text(page(trace, story, svgs), encoding="utf-8")
    result.files += [out / "index.md", out / "index.html"]
    return result
