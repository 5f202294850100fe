"""Marks and notes: the TOML sidecar round-trips any text, marks find their events again after the log is
re-converted (every seq moved), a hand-edited file with a mistake is refused with its file and line."""

from __future__ import annotations

import json
import os
import re
import shutil
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from oomreplay import open_trace
from oomreplay.ingest import convert
from oomreplay.review.notes import Anchor, Mark, Notes, NotesError, find, parse, sidecar

from ..commands import cli
from ..conftest import SEED_LOG

ROOT = Path(__file__).resolve().parents[2]

HOSTILE = ['plain', '', '"', '""', '"""', '""""', 'ends with "', 'a\\b\\', '\\"""\\', "'''", "x\ny", "\r\n", "\r",
           "tab\there", "\x00\x01\x1b[31m\x7f\x9f", "進程 ✓ 🙂 \u2028 \u00e9", "trailing newline\n", "\n\nlead",
           "back\\\nslash at end of line", '"""\n"""', "# not a comment", "[[mark]]", "title = \"fake\""]
MARKDOWN = """## Why the reaper failed

khugepaged holds `mmap_sem` for **write**:

```
 #0:  (&mm->mmap_sem){++++++}, at: [<ffffffff811f6aa9>] khugepaged+0x99d/0x1af0
```

* the reaper's `down_read_trylock()` fails 10 times
* "MMF_OOM_SKIP" is set \\ a new victim may be chosen
"""


def _anchor(kind: str = "oom_kill", pid: int | None = 3163, ts: int = 493_791_708_000) -> Anchor:
    return Anchor(kind, pid, ts, 0, 1)


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed incident converted now (the store's format may differ from the bundled file's)."""
    out = tmp_path_factory.mktemp("notes") / "seed.oomtrace"
    convert([str(SEED_LOG)], out)
    return out


@pytest.fixture()
def trace_copy(seed: Path, tmp_path: Path) -> Path:
    path = tmp_path / "seed.oomtrace"
    shutil.copy(seed, path)
    return path


@pytest.mark.parametrize("text", HOSTILE + [MARKDOWN])
def test_hostile_text_round_trips_exactly(text: str, tmp_path: Path):
    trace = tmp_path / "t.oomtrace"
    notes = Notes(sidecar(trace), [Mark(text, text, _anchor(ts=1)), Mark("second", MARKDOWN, _anchor("log", None, 2))])
    notes.save()
    doc = tomllib.loads(sidecar(trace).read_text(encoding="utf-8"))  # any TOML reader gets the same text
    assert [(m["title"], m["note"]) for m in doc["mark"]] == [(text, text), ("second", MARKDOWN)]
    back = Notes.load(trace)
    assert back.marks == notes.marks
    assert back.marks[1].anchor == Anchor("log", None, 2, 0, 1)


def test_markdown_note_is_readable_in_the_file(tmp_path: Path):
    """Multi-line notes are written as TOML multi-line strings, so the file diffs like the Markdown it holds."""
    trace = tmp_path / "t.oomtrace"
    Notes(sidecar(trace), [Mark("why", MARKDOWN, _anchor())]).save()
    raw = sidecar(trace).read_text(encoding="utf-8")
    assert "* the reaper's `down_read_trylock()` fails 10 times\n" in raw
    assert 'note = """\n## Why the reaper failed\n' in raw


@settings(max_examples=300, deadline=None)
@given(title=st.text(), note=st.text(), pid=st.none() | st.integers(-2**40, 2**40),
       ts=st.integers(0, 2**62), occ=st.integers(0, 50), seq=st.none() | st.integers(0, 2**40))
def test_any_text_round_trips(title: str, note: str, pid: int | None, ts: int, occ: int, seq: int | None):
    mark = Mark(title, note, Anchor("log", pid, ts, occ, seq))
    assert parse(Notes("x.notes.toml", [mark]).dumps()) == [mark]


def test_save_is_atomic_and_leaves_no_temporary_file(tmp_path: Path):
    trace = tmp_path / "t.oomtrace"
    notes = Notes.load(trace)
    assert notes.marks == [] and notes.path == tmp_path / "t.oomtrace.notes.toml"
    notes.add(Mark("a", "b", _anchor()))
    notes.save()
    notes.add(Mark("c", "d", _anchor(ts=1)))
    notes.save()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.oomtrace.notes.toml"]
    assert [m.title for m in Notes.load(trace).marks] == ["c", "a"]  # time order


def test_add_edit_delete(tmp_path: Path):
    notes = Notes(tmp_path / "n.toml")
    a = notes.add(Mark("a", "", _anchor(ts=20)))
    b = notes.add(Mark("b", "", _anchor(ts=10)))
    assert notes.marks == [b, a]
    a2 = notes.edit(a, note="now with a note")
    assert notes.marks == [b, a2] and a2.title == "a" and a2.note == "now with a note" and a2.anchor == a.anchor
    notes.delete(b)
    assert notes.marks == [a2]
    with pytest.raises(KeyError):
        notes.delete(b)
    with pytest.raises(ValueError, match="unknown event kind"):
        notes.add(Mark("x", "", _anchor(kind="nope")))
    with pytest.raises(ValueError, match="surrogate"):
        notes.add(Mark("\ud800", "", _anchor()))


def _shifted_log(tmp: Path) -> Path:
    """The seed log with unrelated kernel chatter first: every event of the incident gets a new seq."""
    chatter = [f"[  {100 + i}.000000] usb 1-{i}: new high-speed USB device number {i} using xhci_hcd" for i in range(7)]
    path = tmp / "shifted.log"
    path.write_text("\n".join(chatter) + "\n" + SEED_LOG.read_text(), encoding="utf-8")
    return path


def test_marks_survive_reconversion(seed: Path, tmp_path: Path):
    """Mark events in one conversion, re-convert a longer log: the marks find the same events at new seqs."""
    with open_trace(seed) as t:
        picks = {1: "the kill", 4: "unable to reap", 6: "the second log line of one stamp", 39: "a.out 3164 holds"}
        notes = Notes(sidecar(seed), [Mark(title, f"note on {seq}", Anchor.of(t, seq)) for seq, title in picks.items()])
        before = {m.title: t.event(seq) for m, seq in notes.resolve(t)}
        assert notes.marks[2].anchor.occurrence == 1  # seq 5 is a log line with the same stamp
    notes.save()
    again = tmp_path / "again.oomtrace"
    convert([str(_shifted_log(tmp_path))], again)
    shutil.copy(sidecar(seed), sidecar(again))
    with open_trace(again) as t:
        resolved = Notes.load(again).resolve(t)
        assert [seq for _, seq in resolved] == [seq + 7 for seq in sorted(picks)]
        for mark, seq in resolved:
            ev = t.event(seq)
            old = before[mark.title]
            assert (ev.kind, ev.pid, ev.ts_ns, ev.fields) == (old.kind, old.pid, old.ts_ns, old.fields)


def test_a_stale_seq_hint_is_checked_not_trusted(seed: Path):
    with open_trace(seed) as t:
        right = Anchor.of(t, 6)
        for hint in (None, 5, 0, 46, 10_000):
            assert find(t, Anchor(right.kind, right.pid, right.ts_ns, right.occurrence, hint)) == 6
        assert find(t, Anchor("log", None, right.ts_ns, 0, 6)) == 5
        assert find(t, Anchor("oom_kill", 3163, 1, 0, 1)) is None
        assert find(t, Anchor("oom_kill", 9999, t.event(1).ts_ns, 0, 1)) is None


def test_a_mark_whose_event_is_gone_is_reported_not_dropped(trace_copy: Path):
    with open_trace(trace_copy) as t:
        notes = Notes(sidecar(trace_copy), [Mark("gone", "", Anchor("oom_kill", 1, 5, 0, 3)),
                                            Mark("kill", "", Anchor.of(t, 1))])
        assert [(m.title, seq) for m, seq in notes.resolve(t)] == [("kill", 1), ("gone", None)]
    notes.save()
    r = cli("notes", str(trace_copy))
    assert r.returncode == 0, r.stderr
    assert re.search(r"^\s+gone\s+0\.000000\s+oom_kill\s+gone$", r.stdout, re.M)
    assert "1 mark(s) anchored to events that are not in" in r.stderr
    assert len(Notes.load(trace_copy).marks) == 2


BROKEN = {
    "syntax": ('[[mark]]\ntitle = "a"\nkind = "oom_kill"\nts_ns = 1\nnote = "unterminated\n', ":5:"),
    "missing field": ('[[mark]]\ntitle = "a"\nkind = "log"\nts_ns = 1\n\n[[mark]]\ntitle = "b"\nkind = "log"\n',
                      ":6: this mark has no ts_ns"),
    "wrong type": ('[[mark]]\ntitle = "a"\nkind = "log"\nts_ns = "493.79"\n', ":4: ts_ns must be an integer, not str"),
    "bool is not an int": ('[[mark]]\ntitle = "a"\nkind = "log"\npid = true\nts_ns = 1\n', ":4: pid must be"),
    "unknown field": ('[[mark]]\ntitle = "a"\nnote = """\nx\ntitel = 1\n"""\nkind = "log"\ntitel = "b"\nts_ns = 1\n',
                      ":8: unknown field 'titel'"),
    "unknown kind": ('[[mark]]\ntitle = "a"\nkind = "oom_kil"\nts_ns = 1\n', ":3: unknown event kind 'oom_kil'"),
    "not tables": ('mark = "x"\n', ":1: 'mark' must be an array of tables"),
    "unknown top key": ('\nversion = 2\n', ":2: unknown key 'version'"),
    "unterminated at the end": ('[[mark]]\ntitle = "a"\nnote = """\nnever closed\n', ":4: "),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_hand_edited_file_with_an_error_names_file_and_line(trace_copy: Path, case: str):
    text, where = BROKEN[case]
    path = sidecar(trace_copy)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(NotesError) as e:
        Notes.load(trace_copy)
    message = str(e.value)
    assert message.startswith(f"{path}{where.split(' ')[0]}") and where in message and "\n" not in message
    r = cli("notes", str(trace_copy))
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert r.stderr.startswith(f"oomreplay: error: {path}{where.split(' ')[0]}")


def test_not_utf8_is_one_line(trace_copy: Path):
    sidecar(trace_copy).write_bytes(b'[[mark]]\ntitle = "\xff"\n')
    r = cli("notes", str(trace_copy))
    assert r.returncode == 2 and "not UTF-8" in r.stderr and r.stderr.count("\n") == 1


def test_cli_prints_marks_in_seq_order_in_each_format(trace_copy: Path):
    with open_trace(trace_copy) as t:
        Notes(sidecar(trace_copy), [Mark("Reaper gives up", "after 10 tries\nsee the lock dump", Anchor.of(t, 4)),
                                    Mark("The kill \x1b[31m", "", Anchor.of(t, 1))]).save()
    text = cli("notes", str(trace_copy)).stdout.splitlines()
    assert text[0].split() == ["seq", "time", "(s)", "kind", "title"]
    assert text[1].split() == ["1", "493.791708", "oom_kill", "The", "kill", "\\x1b[31m"]
    assert text[2].split() == ["4", "494.838382", "reaper_done", "Reaper", "gives", "up"]
    assert text[3].strip() == "after 10 tries" and text[4].strip() == "see the lock dump"
    md = cli("notes", str(trace_copy), "--format", "markdown").stdout
    assert md.index("## The kill") < md.index("## Reaper gives up")
    assert "*seq 4, 494.838382 s, `reaper_done`, pid 3163*\n\nafter 10 tries\nsee the lock dump" in md
    assert "\x1b" not in md
    data = json.loads(cli("notes", str(trace_copy), "--format", "json").stdout)
    assert [(d["seq"], d["kind"], d["pid"], d["ts_ns"], d["title"]) for d in data] == [
        (1, "oom_kill", 3163, 493_791_708_000, "The kill \x1b[31m"), (4, "reaper_done", 3163, 494_838_382_000,
                                                                       "Reaper gives up")]
    assert data[1]["note"] == "after 10 tries\nsee the lock dump"


def test_cli_without_notes(trace_copy: Path):
    r = cli("notes", str(trace_copy))
    assert r.returncode == 0 and "no marks" in r.stdout and "seed.oomtrace.notes.toml" in r.stdout


def test_cli_lists_the_marks_kept_beside_a_replayed_log(tmp_path: Path):
    """`replay LOG` keeps its marks beside the log (its trace lives in the cache): `notes LOG` finds them there."""
    log = tmp_path / "dmesg.txt"
    shutil.copy(SEED_LOG, log)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    converted = tmp_path / "seed.oomtrace"
    convert([str(log)], converted)
    with open_trace(converted) as t:
        Notes(sidecar(log), [Mark("Reaper gives up", "", Anchor.of(t, 4))]).save()
    r = cli("notes", str(log), env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[1].split() == ["4", "494.838382", "reaper_done", "Reaper", "gives", "up"]
