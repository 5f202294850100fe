"""Markdown outputs of a trace whose names are hostile: rendered as a review tool renders Markdown (markdown-it,
CommonMark with HTML on), no name becomes a tag, a link or an image; and bidi controls are shown, not obeyed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from oomreplay import Event, TraceWriter, open_trace
from oomreplay._util.safetext import markdown_text, visible
from oomreplay.analysis import explain
from oomreplay.export import explanation, snapshot
from oomreplay.export.story import markdown as story_markdown
from oomreplay.review.chapters import chapters

HOSTILE = ["<img src=x onerror=alert(2)>", "[x](javascript:alert(3))", "![y](http://evil.example/t.png)",
           "<script>alert(1)</script>", "a|b`c`*d*_e_", "&lt;b&gt;"]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("md") / "hostile.oomtrace"
    victim = HOSTILE[0]
    evs = [Event(1_000_000_000 + i, "task", 100 + i, {"tgid": 100 + i, "comm": comm}) for i, comm in enumerate(HOSTILE)]
    evs += [Event(1_100_000_000, "oom_invoke", 101, {"gfp": "GFP_KERNEL", "order": 0, "comm": HOSTILE[1]}),
            Event(1_200_000_000, "oom_kill", 100, {"comm": victim, "points": 900, "anon_rss_kb": 1 << 20}),
            Event(1_200_000_001, "flag_set", 100, {"flag": "TIF_MEMDIE"}),
            Event(1_300_000_000, "lock_held", 103, {"lock": HOSTILE[3], "mode": "w", "comm": HOSTILE[3]}),
            Event(1_400_000_000, "reaper_attempt", 100, {"n": 1, "outcome": "lock_busy", "comm": victim}),
            Event(1_500_000_000, "reaper_done", 100, {"outcome": "unable", "comm": victim})]
    with TraceWriter(path, meta={"kernel": HOSTILE[2]}) as w:
        w.extend(evs)
    return path


def _live(md: str) -> list[str]:
    """What a renderer makes of ``md`` that acts: HTML tags other than the ones Markdown itself writes, links and
    images."""
    tokens = MarkdownIt("commonmark", {"html": True}).enable("table").parse(md)
    found = []
    for tok in tokens:
        for child in [tok, *(tok.children or [])]:
            if child.type in ("html_inline", "html_block", "link_open", "image"):
                found.append(f"{child.type}: {child.attrs.get('src') or child.attrs.get('href') or child.content}")
    return found


def _outputs(path: Path) -> dict[str, str]:
    with open_trace(path) as t:
        last = t.state_at(len(t) - 1)
        story, _ = chapters(t, None)
        return {"explain": "\n".join(explanation.lines(t, explain(t), markdown=True)),
                "state": snapshot.to_markdown(last, all_tasks=True),
                "story": story_markdown(t, story, [f"{i}.svg" for i in range(len(story))])}


def test_no_hostile_name_renders_as_a_tag_or_a_link(hostile: Path):
    outputs = _outputs(hostile)
    for name, md in outputs.items():
        # the story's own screenshots, the SVG files beside it, are its only images
        live = [x for x in _live(md) if not (name == "story" and re.fullmatch(r"image: \d+\.svg", x))]
        assert live == [], f"{name}: {live}"
    assert "img src=x onerror" in outputs["state"]  # the names are there, as text


def test_the_escaped_text_renders_back_to_the_name():
    md = MarkdownIt("commonmark", {"html": True})
    for name in HOSTILE:
        html = md.renderInline(markdown_text(name))
        assert md.renderInline(markdown_text(name)) == html  # deterministic
        text = html.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
        assert text == name, (name, html)


@pytest.mark.parametrize("char", ["\u202e", "\u202a", "\u2066", "\u2069", "\u200f", "\u061c"])
def test_bidi_controls_are_shown_not_obeyed(char: str):
    shown = visible(f"evil{char}txt.exe")
    assert char not in shown and f"\\u{ord(char):04x}" in shown
