"""Every corpus input converts to the events, source lines and report it did before the converters' line work
moved to the native core (``golden``: the digests, and how to rewrite them when a rule changes on purpose)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ..conftest import CORPUS
from .golden import GOLDEN, digest, inputs

FOUND = inputs(CORPUS) if CORPUS.is_dir() else {}
KEPT = json.loads(GOLDEN.read_text())


def test_every_corpus_input_has_its_digest():
    if not FOUND:
        pytest.skip(f"no corpus at {CORPUS}")
    assert sorted(FOUND) == sorted(KEPT), "the corpus changed: rewrite the digests (python -m tests.ingest.golden)"


@pytest.mark.parametrize("name", sorted(KEPT))
def test_corpus_input_converts_as_before(name: str, tmp_path: Path):
    if name not in FOUND:
        pytest.skip(f"{name} is not in the corpus at {CORPUS}")
    now, before = digest(FOUND[name], tmp_path), KEPT[name]
    # the counts first: a difference there says which kind moved, before the digests say that something did
    assert now["kinds"] == before["kinds"]
    assert now["meta"] == before["meta"]
    assert now["warnings"] == before["warnings"]
    assert now["sources"] == before["sources"], "the source lines stored differ"
    assert now["events"] == before["events"], "same counts, but an event's time, pid, fields or source differ"
