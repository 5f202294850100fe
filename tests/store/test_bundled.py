"""Bundled traces ship inside the wheel and must stay readable by this version of the format."""

from __future__ import annotations

import pytest

from oomreplay import open_trace
from oomreplay._util.resources import bundled, demo_trace
from oomreplay.store import verify


@pytest.mark.parametrize("path", sorted(bundled("traces").glob("*.oomtrace")), ids=lambda p: p.name)
def test_bundled_trace_verifies_and_replays(path):
    assert verify(path).ok, verify(path).lines()
    with open_trace(path) as t:
        assert len(t) > 0 and t.recovered is None
        last = t.state_at(len(t) - 1)
        assert len(last.tasks) == t.summary["tasks"]
        assert len(last.victims) == t.summary["victims"]


def test_demo_trace_is_bundled():
    assert demo_trace().is_file()
