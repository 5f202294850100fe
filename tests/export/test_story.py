"""``oomreplay story``: Markdown and a self-contained HTML page with every mark, its state tables and a headless
screenshot of the TUI; chapters fall back to the trace's marks, then to the key moments."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from oomreplay import open_trace
from oomreplay.export.story import offline_svg
from oomreplay.ingest import convert
from oomreplay.review.chapters import chapters
from oomreplay.review.notes import Anchor, Mark, Notes, sidecar

from ..commands import cli
from ..conftest import SEED_LOG

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "traces" / "scenarios" / "reaper-vs-khugepaged.toml"
HOSTILE_NOTE = ("Look: <script>alert(1)</script> <img src=x onerror=alert(2)> [x](javascript:alert(3))\n\n"
                "**bold** `code`")
SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def marked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed incident with three marks in its sidecar, one with a hostile note."""
    path = tmp_path_factory.mktemp("story") / "seed.oomtrace"
    convert([str(SEED_LOG)], path)
    with open_trace(path) as t:
        Notes(sidecar(path), [
            Mark("The kill", "a.out is chosen: **739** points.\n\nIt cannot exit.", Anchor.of(t, 1)),
            Mark("khugepaged holds <mmap_sem> & won't let go", HOSTILE_NOTE, Anchor.of(t, 11)),
            Mark("Unable to reap", "Ten trylocks fail.", Anchor.of(t, 4)),
        ]).save()
    return path


@pytest.fixture(scope="module")
def story(marked: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out") / "story"
    r = cli("story", str(marked), "-o", str(out), "--size", "140x44")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("index.html: 3 chapters (from notes)")
    return out


def test_markdown_has_every_mark_in_seq_order_with_tables_and_screenshots(story: Path):
    md = (story / "index.md").read_text(encoding="utf-8")
    # the titles as Markdown text: what a renderer shows is the title itself, "<mmap_sem>" no tag
    titles = ["## The kill", "## Unable to reap", "## khugepaged holds \\<mmap\\_sem\\> \\& won't let go"]
    positions = [md.index(t) for t in titles]
    assert positions == sorted(positions)  # seqs 1, 4, 11: chapters come in seq order, not in the file's order
    assert "*493.791708 s, seq 1, `oom_kill`, pid 3163*" in md
    assert "a.out is chosen: **739** points.\n\nIt cannot exit." in md
    assert "Kernel context: mm/oom\\_kill.c: oom\\_reap\\_task" in md  # escaped as Markdown text
    assert "![The replay at seq 4](02-seq-4.svg)" in md
    assert "| 3163 | a.out |" in md and "**OOM victims and the reaper**" in md


def test_html_has_every_mark_escaped_and_no_network_reference(story: Path):
    page = (story / "index.html").read_text(encoding="utf-8")
    for title in ("The kill", "khugepaged holds &lt;mmap_sem&gt; &amp; won&#x27;t let go", "Unable to reap"):
        assert f"<h2>{title}</h2>" in page
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert "javascript:" not in "".join(re.findall(r'href="[^"]*"', page))  # shown as text, never a link
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<strong>bold</strong>" in page
    assert page.count("<svg") == 3 and page.count("<table>") >= 3
    # Nothing to fetch: no http(s) URL at all but the SVG namespace name, no src/href/url()/@import to the network
    assert set(re.findall(r"https?://[^\s\"'<>)]+", page)) == {"http://www.w3.org/2000/svg"}
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//|@import""",
                         page, re.I)


def test_each_svg_parses_and_shows_the_victim(story: Path):
    svgs = sorted(story.glob("*.svg"))
    assert [p.name for p in svgs] == ["01-seq-1.svg", "02-seq-4.svg", "03-seq-11.svg"]
    for path in svgs:
        root = ET.parse(path).getroot()
        assert root.tag == f"{SVG_NS}svg"
        text = "".join(root.itertext()).replace("\xa0", " ")
        assert "a.out" in text, path.name
        assert "https://" not in path.read_text(encoding="utf-8")
    # The TUI was drawn at each chapter's seq: the header says so.
    assert re.search(r"seq\s+4/\d+\b", "".join(ET.parse(svgs[1]).getroot().itertext()).replace("\xa0", " "))


def test_key_moments_when_nothing_is_marked(tmp_path: Path):
    path = tmp_path / "bare.oomtrace"
    convert([str(SEED_LOG)], path)
    with open_trace(path) as t:
        found, missing = chapters(t, Notes.load(path))
    assert [(c.seq, c.kind, c.origin) for c in found] == [(1, "oom_kill", "key moment"),
                                                          (4, "reaper_done", "key moment")]
    assert [c.title for c in found] == ["The OOM killer kills a.out (3163)", "The oom_reaper gives up on a.out (3163)"]
    assert missing == []


def test_the_traces_own_marks_come_next(tmp_path: Path):
    path = tmp_path / "scenario.oomtrace"
    convert([str(SCENARIO)], path)
    with open_trace(path) as t:
        found, _ = chapters(t, Notes.load(path))
        assert [c.origin for c in found] == ["trace"] * 4
        assert found[0].title == "khugepaged takes mmap_sem" and "holds its `mmap_sem` for write" in found[0].note
        assert all(t.event(c.seq).kind == "mark" for c in found)
        # A sidecar mark whose event is gone is reported and the story falls back to the trace's marks.
        gone = Notes(sidecar(path), [Mark("gone", "", Anchor("oom_kill", 1, 1, 0, 0))])
        found, missing = chapters(t, gone)
        assert [m.title for m in missing] == ["gone"] and found[0].origin == "trace"


def test_offline_svg_strips_font_urls_only():
    svg = ('<svg xmlns="http://www.w3.org/2000/svg"><!-- Generated with Rich https://www.textualize.io --><style>'
           '@font-face { src: local("FiraCode-Regular"), url("https://cdn.example/a.woff2") format("woff2"), '
           'url("https://cdn.example/a.woff") format("woff"); }</style></svg>')
    out = offline_svg(svg)
    assert 'src: local("FiraCode-Regular");' in out and "https://" not in out
    ET.fromstring(out)


@pytest.mark.parametrize("args, message", [
    (["--size", "big"], "expected COLUMNSxROWS"),
    (["--size", "10x5"], "columns must be"),
])
def test_bad_size_is_one_line_exit_2(marked: Path, tmp_path: Path, args: list[str], message: str):
    r = cli("story", str(marked), "-o", str(tmp_path / "s"), *args)
    assert r.returncode == 2 and message in r.stderr and r.stderr.count("\n") == 1
    assert not (tmp_path / "s").exists()


def test_broken_notes_stop_the_story_with_file_and_line(tmp_path: Path):
    path = tmp_path / "seed.oomtrace"
    convert([str(SEED_LOG)], path)
    sidecar(path).write_text('[[mark]]\ntitle = "x"\nkind = "log"\n', encoding="utf-8")
    r = cli("story", str(path), "-o", str(tmp_path / "s"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert f"{sidecar(path)}:1: this mark has no ts_ns" in r.stderr


def test_key_moments_are_capped(tmp_path: Path):
    from oomreplay import Event, TraceWriter
    from oomreplay.review.chapters import MAX_CHAPTERS, chapters

    path = tmp_path / "many.oomtrace"
    with TraceWriter(path) as w:
        w.extend(Event(1_000 + i, "oom_kill", 10 + i, {"comm": "x"}) for i in range(MAX_CHAPTERS + 50))
    with open_trace(path) as t:
        found, gone = chapters(t, None)
    assert [c.seq for c in found] == list(range(MAX_CHAPTERS)) and gone == []


def test_an_oom_ending_without_a_kill_is_a_key_moment(tmp_path: Path):
    """A panic or "no killable processes" is where the story of such an incident ends: it gets a chapter."""
    from oomreplay import Event, TraceWriter
    from oomreplay.review.chapters import chapters

    path = tmp_path / "panic.oomtrace"
    with TraceWriter(path) as w:
        w.extend([Event(1_000, "oom_invoke", 7, {"comm": "memeater", "order": 0}),
                  Event(2_000, "oom_end", 7, {"outcome": "no_killable", "reason": "no_killable"}),
                  Event(3_000, "oom_end", 7, {"outcome": "panic", "reason": "deadlocked"})])
    with open_trace(path) as t:
        found, _ = chapters(t, None)
    assert [(c.kind, c.title) for c in found] == [
        ("oom_invoke", "memeater (7) invokes the OOM killer (order 0)"),
        ("oom_end", "The OOM killer finds nothing to kill: no killable task"),
        ("oom_end", "The kernel panics: the system is deadlocked on memory")]


def test_story_of_a_replayed_log_uses_the_marks_beside_the_log(tmp_path: Path):
    """`replay LOG` keeps marks beside the log: `story LOG` converts it (through the cache) and tells them."""
    import os
    import shutil

    log = tmp_path / "dmesg.txt"
    shutil.copy(SEED_LOG, log)
    converted = tmp_path / "seed.oomtrace"
    convert([str(log)], converted)
    with open_trace(converted) as t:
        Notes(sidecar(log), [Mark("Unable to reap", "Ten trylocks fail.", Anchor.of(t, 4))]).save()
    out = tmp_path / "story"
    r = cli("story", str(log), "-o", str(out), "--size", "100x30",
            env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("index.html: 1 chapters (from notes)")
    assert "## Unable to reap" in (out / "index.md").read_text()
