"""Screenshots of the seed incident's key moments, and of ``replay --against`` (the memcg incident, reaped, against
the seed, unable to reap), at the smallest supported terminal and a large one.

The SVGs under ``__snapshots__`` were looked at before being accepted; a change that moves a panel or drops a
line shows up here as a diff (``pytest --snapshot-update`` re-accepts, after looking again). The pictures also
depend on Textual, Rich and Pygments (a new Pygments recolours a token), so they are compared only under the
versions they were taken with (``snapshot_versions.json``, rewritten with them); other versions skip, saying so.
"""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import pytest

from oomreplay import open_trace
from oomreplay.ingest.convert import convert
from oomreplay.tui.against import AgainstApp
from oomreplay.tui.app import ReplayApp

from ..conftest import SEED_LOG, TRACES
from ..pilots import settle, settle_against

VERSIONS = Path(__file__).parent / "snapshot_versions.json"  # not in __snapshots__: syrupy would call it unused
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


def _versions() -> dict[str, str]:
    return {name: metadata.version(name) for name in ("textual", "rich", "pygments")}


@pytest.fixture(scope="module", autouse=True)
def same_versions(request: pytest.FixtureRequest) -> None:
    taken = json.loads(VERSIONS.read_text())
    if request.config.getoption("--snapshot-update", default=False):
        VERSIONS.write_text(json.dumps(_versions(), indent=1) + "\n")
    elif _versions() != taken:
        pytest.skip(f"the snapshots were taken with {taken}; this is {_versions()} (re-take them with "
                    "--snapshot-update after looking at them)")


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("moment", ["kill", "reaper-gives-up", "lockdep-dump"])
def test_seed_incident(snap_compare, seed: Path, moment: str, size: str):
    app = ReplayApp(seed, seq=_moment(seed, moment))
    assert snap_compare(app, terminal_size=SIZES[size], run_before=settle)


@pytest.fixture(scope="module")
def memcg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reaped memcg incident, converted here for the same reason as ``seed``."""
    path = tmp_path_factory.mktemp("snap") / "memcg-6.18-reaped.oomtrace"
    convert([str(TRACES / "memcg-6.18-reaped.log")], path)
    return path


@pytest.mark.parametrize("size", list(SIZES))
def test_against_at_the_end(snap_compare, memcg: Path, seed: Path, size: str):
    """Both stories' last step (each victim's MMF_OOM_SKIP): the victims' reaper lines marked ≠ on both sides."""
    async def at_the_end(pilot) -> None:
        await settle_against(pilot)
        await pilot.press("G")
        await settle_against(pilot)

    app = AgainstApp(memcg, seed, memcg.stem, seed.stem)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=at_the_end)
