"""The keyword prefilter in front of the message families is only a shortcut: it must never change what a log
converts to. Every real log is converted with it and without it, and the events must be the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from oomreplay import open_trace
from oomreplay.ingest import convert, kernel_log

from .corpus import CORPUS

INPUTS = (sorted((CORPUS / "logs").glob("*.log")) + sorted((CORPUS / "recorded").glob("*/dmesg.txt"))
          if CORPUS.is_dir() else [])


def _events(path: Path) -> list[dict]:
    with open_trace(path) as t:
        return [e.to_dict() for e in t.events()]


@pytest.mark.skipif(not INPUTS, reason=f"the shared corpus is not at {CORPUS}")
@pytest.mark.parametrize("log", INPUTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_prefilter_changes_nothing(log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    convert([str(log)], tmp_path / "filtered.oomtrace")
    monkeypatch.setattr(kernel_log, "_may_be_family", lambda msg: True)
    convert([str(log)], tmp_path / "unfiltered.oomtrace")
    assert _events(tmp_path / "filtered.oomtrace") == _events(tmp_path / "unfiltered.oomtrace")


def test_every_report_mark_holds_a_report_word():
    """``_is_report`` looks for the marks only in a line holding one of the words: a mark without one would never
    be found, and its not-understood lines never reported."""
    for mark in kernel_log._REPORT_MARKS:
        assert kernel_log._is_report(f"[ 1.0] something {mark} else"), mark
        assert any(word in mark for word in kernel_log._REPORT_WORDS), mark
    assert not kernel_log._is_report("usb 1-1: new high-speed USB device number 3 using xhci_hcd")
    assert not kernel_log._is_report("oom_score_adj changed")  # a word, but no mark
