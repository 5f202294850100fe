"""Files written before the native core replaced the Python store keep opening, and read as they did then."""

from __future__ import annotations

import json

from oomreplay import open_trace
from oomreplay.export import snapshot

from ..conftest import DATA


def test_a_trace_of_the_python_writer_reads_as_it_did():
    expected = json.loads((DATA / "format2-python-writer.json").read_text())
    with open_trace(DATA / "format2-python-writer.oomtrace") as t:
        assert t.meta == expected["meta"] and [list(s) for s in t.sources] == expected["sources"]
        assert _as_json([e.to_dict() for e in t.events()]) == expected["events"]
        for seq, state in expected["states"].items():
            assert _as_json(snapshot.to_json(t.state_at(int(seq)))) == state, f"seq {seq}"
        assert t.source_lines(1, 300) == expected["source_lines"]


def _as_json(value: object) -> object:
    """What the JSON file holds for ``value`` (tuples become lists)."""
    return json.loads(json.dumps(value))
