"""Screenshots of the seed incident's key moments, at the smallest supported terminal and a large one.

The SVGs under ``__snapshots__`` were looked at before being accepted; a change that moves a panel or drops a
line shows up here as a diff (``pytest --snapshot-update`` re-accepts, after looking again).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from oomreplay import open_trace
from oomreplay.ingest.convert import convert
from oomreplay.tui.app import ReplayApp

from .pilots import settle

SEED_LOG = Path(__file__).parent.parent / "traces" / "seed-006-unable-to-reap.log"
SIZES = {"80x24": (80, 24), "160x48": (160, 48)}


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Converted here rather than read from traces/, so the pictures follow the converter, not a stale file."""
    path = tmp_path_factory.mktemp("snap") / "seed-006-unable-to-reap.oomtrace"
    convert([str(SEED_LOG)], path)
    return path


def _moment(path: Path, name: str) -> int:
    with open_trace(path) as t:
        seq = {"kill": t.next(-1, kind="oom_kill"), "reaper-gives-up": t.next(-1, kind="reaper_done"),
               "lockdep-dump": t.prev(len(t), kind="lock_held")}[name]  # the whole dump read
    assert seq is not None, name
    return seq


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("moment", ["kill", "reaper-gives-up", "lockdep-dump"])
def test_seed_incident(snap_compare, seed: Path, moment: str, size: str):
    app = ReplayApp(seed, seq=_moment(seed, moment))
    assert snap_compare(app, terminal_size=SIZES[size], run_before=settle)
