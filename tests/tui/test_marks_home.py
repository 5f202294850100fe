"""Marks on a bundled incident (issue 24 §5) are saved in the user's data directory, never inside the package."""

from __future__ import annotations

from pathlib import Path

import pytest

from oomreplay._util.resources import demo_trace
from oomreplay.review.notes import Notes, sidecar
from oomreplay.tui.app import ReplayApp

from .test_tui_replay import press, run


def test_marks_on_the_demo_go_to_the_data_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    demo = demo_trace()
    beside = demo.with_name(demo.name + ".notes.toml")
    assert not beside.exists()
    expected = tmp_path / "oomreplay" / "notes" / (demo.name + ".notes.toml")
    assert sidecar(demo) == expected

    async def script(pilot, app: ReplayApp) -> None:
        await press(pilot, app, "m")
        await pilot.press(*"the kill", "ctrl+s")
        await press(pilot, app)
        assert [m.title for m, _ in app.marks] == ["the kill"]
    run(ReplayApp(demo, seq=1, notes_for=demo), script)
    assert 'title = "the kill"' in expected.read_text()
    assert not beside.exists()
    assert [m.title for m in Notes.load(demo).marks] == ["the kill"]  # what `oomreplay notes` reads


def test_marks_on_a_trace_of_ones_own_stay_beside_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    own = tmp_path / "mine.oomtrace"
    own.write_bytes(demo_trace().read_bytes())
    assert sidecar(own) == tmp_path / "mine.oomtrace.notes.toml"
