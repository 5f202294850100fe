"""The kernel-context glossary covers the whole vocabulary: every event kind, every flag a converter, a scenario or
the analysis can name. Adding a kind or a flag without an entry fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from oomreplay.analysis.kernel import FLAG_VERSIONS
from oomreplay.model import KINDS
from oomreplay.model.events import OOM_END_OUTCOMES, OOM_END_REASONS
from oomreplay.review.glossary import FLAG_GLOSSARY, KIND_GLOSSARY, OOM_END_GLOSSARY, context

ROOT = Path(__file__).resolve().parents[2]
FLAG_NAME = re.compile(r"\b(?:TIF|MMF|PF|SIGNAL)_[A-Z][A-Z_]*[A-Z]\b")


def _flags_named_in(paths: list[Path]) -> set[str]:
    return {name for path in paths for name in FLAG_NAME.findall(path.read_text(encoding="utf-8"))}


def test_every_event_kind_has_an_entry_and_nothing_else_does():
    assert set(KIND_GLOSSARY) == set(KINDS)


@pytest.mark.parametrize("kind", list(KINDS))
def test_kind_entry_names_a_source_and_says_one_sentence(kind: str):
    entry = KIND_GLOSSARY[kind]
    assert re.search(r"[a-z]+/[a-z_/]+\.[ch]: \w+", entry.where) or entry.where.startswith("oomreplay"), entry
    assert entry.what[0].isupper() and entry.what.endswith(".") and len(entry.what) < 320, entry


def test_every_flag_the_converters_scenarios_and_analysis_name_has_an_entry():
    sources = sorted((ROOT / "oomreplay" / "ingest").glob("*.py")) + sorted((ROOT / "traces").rglob("*.toml"))
    named = _flags_named_in(sources) | set(FLAG_VERSIONS)
    named.discard("MAX_OOM_REAP_RETRIES")
    assert {"TIF_MEMDIE", "MMF_OOM_SKIP"} <= named  # the scan itself works
    missing = sorted(named - set(FLAG_GLOSSARY))
    assert not missing, f"flags without a glossary entry: {missing}"


def test_the_flags_of_the_research_table_have_entries():
    """kernel-formats.md §6 is the reference the entries come from: each flag in its table is explained."""
    research = ROOT.parent / "shared" / "research" / "kernel-formats.md"
    if not research.is_file():
        pytest.skip(f"{research} is not here (it lives in the shared folder beside the repo)")
    text = research.read_text(encoding="utf-8")
    table = text[text.index("## 6. Flags"):text.index("## 7.")]
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| flag |")]
    flags = {m for row in rows for m in FLAG_NAME.findall(row.split("|")[1])}
    flags -= {"PF_MEMALLOC_PIN"}  # named in the NOFS/NOIO row only as a third scope
    assert {"TIF_MEMDIE", "MMF_OOM_SKIP", "PF_EXITING", "PF_MEMALLOC"} <= flags
    assert not sorted(flags - set(FLAG_GLOSSARY))


def test_context_of_an_event_and_of_a_flag():
    assert context("reaper_attempt", {"n": 3}).startswith("mm/oom_kill.c: oom_reap_task")
    assert "MAX_OOM_REAP_RETRIES" not in context("reaper_attempt") and "10 tries" in context("reaper_attempt")
    skip = context("flag_set", {"flag": "MMF_OOM_SKIP", "target": "mm"})
    assert skip.startswith("mm/oom_kill.c: oom_reap_task") and "MMF_OOM_SKIP: ≥4.9" in skip
    assert "exit_oom_victim" in context("flag_clear", {"flag": "TIF_MEMDIE"})
    assert context("flag_set") == context("flag_set", {}) != ""
    assert context("no_such_kind") == ""


def test_an_unknown_flag_from_a_trace_is_shown_inert():
    line = context("flag_set", {"flag": "MMF_\x1b]0;pwned\x07"})
    assert "\x1b" not in line and "\\x1b" in line and "not in oomreplay's glossary" in line


def test_every_oom_ending_value_has_an_entry_and_names_its_reason():
    assert set(OOM_END_GLOSSARY) == set(OOM_END_OUTCOMES) | set(OOM_END_REASONS)
    for entry in OOM_END_GLOSSARY.values():
        assert entry.what[0].isupper() and entry.what.endswith(".") and len(entry.what) < 320, entry
    assert "check_panic_on_oom" in context("oom_end", {"outcome": "panic", "reason": "panic_on_oom_compulsory"})
    assert context("oom_end", {"outcome": "panic", "reason": "from the future"}) == context("oom_end")
