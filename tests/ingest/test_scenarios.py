"""Scenarios (traces/scenarios/*.toml): every bundled one compiles and replays; impossible steps are refused
with the file, the step's line and the reason, exit 2, through the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import oomreplay
from oomreplay.ingest import ConvertError, convert
from oomreplay.ingest.scenario import is_scenario
from oomreplay.ingest.scenario_compiler import STEPS

SCENARIOS = Path(__file__).resolve().parents[2] / "traces" / "scenarios"
SEED = SCENARIOS / "reaper-vs-khugepaged.toml"
BUNDLED = sorted(SCENARIOS.glob("*.toml"))


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "oomreplay", *args], capture_output=True, text=True, timeout=120)


def _compile(path: Path, tmp_path: Path) -> oomreplay.Trace:
    out = tmp_path / (path.stem + ".oomtrace")
    convert([str(path)], out)
    return oomreplay.open_trace(out)


def _marks(trace) -> list[str]:
    return [ev.get("title") for ev in trace.events(0, len(trace), kind="mark")]


def test_bundled_scenarios_exist():
    names = {p.name for p in BUNDLED}
    assert {"reaper-vs-khugepaged.toml", "oom-skip-vs-last-alloc.toml",
            "oom-skip-vs-last-alloc-patched.toml"} <= names
    assert (SCENARIOS / "README.md").is_file()


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_every_bundled_scenario_compiles_and_replays(path, tmp_path):
    trace = _compile(path, tmp_path)
    with trace:
        assert len(trace) > 0
        assert trace.meta["converter"] == "oomreplay scenario"
        end = trace.state_at(len(trace) - 1)
        assert len(end.anomalies) == 0
        assert _marks(trace), "a bundled scenario should carry marks for presentation"
        for ev in trace.events(0, len(trace)):
            assert ev.src is not None and ev.src.line >= 1
            assert trace.source_lines(ev.src.line, ev.src.line)  # points into the stored scenario text


def test_seed_race_reaper_gives_up(tmp_path):
    with _compile(SEED, tmp_path) as trace:
        kills = list(trace.events(0, len(trace), kind="oom_kill"))
        assert [(k.pid, k.get("comm")) for k in kills] == [(3163, "a.out")]
        attempts = list(trace.events(0, len(trace), kind="reaper_attempt"))
        assert [a.get("n") for a in attempts] == list(range(1, 11))
        assert {a.get("outcome") for a in attempts} == {"lock_busy"}
        end = trace.state_at(len(trace) - 1)
        assert end.victims[3163].outcome == "unable"
        lock = end.locks["mmap_sem"]
        assert [h.pid for h in lock.holders] == [63] and lock.mm == 3163
        assert "unable to reap pid:3163" in _marks(trace)
        assert "MMF_OOM_SKIP" in end.mms[3163].flags


def test_oom_skip_race_kills_twice_and_patch_once(tmp_path):
    race = _compile(SCENARIOS / "oom-skip-vs-last-alloc.toml", tmp_path)
    patched = _compile(SCENARIOS / "oom-skip-vs-last-alloc-patched.toml", tmp_path)
    with race, patched:
        assert [k.pid for k in race.events(0, len(race), kind="oom_kill")] == [4100, 4200]
        assert [k.pid for k in patched.events(0, len(patched), kind="oom_kill")] == [4100]
        for trace in (race, patched):
            end = trace.state_at(len(trace) - 1)
            assert end.victims[4100].outcome == "reaped"
            assert "MMF_OOM_SKIP" in end.mms[4100].flags
            assert len(end.ooms) == 2
        assert "Needless second kill" in _marks(race)
        assert "Last-second allocation after selection succeeds" in _marks(patched)


def _variant(tmp_path: Path, name: str, edit) -> Path:
    text = SEED.read_text()
    out = tmp_path / name
    out.write_text(edit(text))
    return out


def _appended(step: str):
    return lambda text: text + "\n" + step


def _line_of_last_step(path: Path) -> int:
    lines = path.read_text().splitlines()
    return max(i for i, line in enumerate(lines, 1) if line.strip() == "[[step]]")


def _eleventh_attempt(text: str) -> str:
    i = text.index("[[step]]\nat = 494.838382")
    return text[:i] + '[[step]]\nat = 494.80\ndo = "reaper_try"\ntask = "aout"\n\n' + text[i:]


INVALID = {
    "release-not-held": (_appended('[[step]]\ndo = "release"\ntask = "aout2"\nlock = "mmap_sem"\nmm = "aout"\n'),
                         "which it does not hold"),
    "reaper-attempt-11": (_eleventh_attempt, "reaper attempt 11"),
    "unknown-task": (_appended('[[step]]\ndo = "kill"\ntask = "nobody"\n'), "unknown task 'nobody'"),
    "unknown-step": (_appended('[[step]]\ndo = "teleport"\ntask = "aout"\n'), "unknown step type 'teleport'"),
    "reaped-while-locked": (_appended('[[step]]\ndo = "reaper_try"\ntask = "aout"\noutcome = "reaped"\n'),
                            "khugepaged holds mmap_sem"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_impossible_steps_are_refused_with_their_line(case, tmp_path):
    edit, reason = INVALID[case]
    path = _variant(tmp_path, case + ".toml", edit)
    if case == "reaper-attempt-11":
        # the 0-based index of "at" is the 1-based line of the [[step]] header just above it
        line = path.read_text().splitlines().index("at = 494.80")
    else:
        line = _line_of_last_step(path)
    out = tmp_path / "out.oomtrace"
    r = _cli("convert", str(path), "-o", str(out))
    assert r.returncode == 2, r.stderr
    msg = r.stderr.strip()
    assert "\n" not in msg and "Traceback" not in msg
    assert f"{path}:{line}: " in msg, msg
    assert reason in msg
    assert not out.exists()


def test_bad_toml_is_refused_with_its_line(tmp_path):
    path = _variant(tmp_path, "bad.toml", _appended('[[step]]\ndo = "kill\n'))
    line = len(path.read_text().splitlines())
    r = _cli("convert", str(path), "-o", str(tmp_path / "out.oomtrace"))
    assert r.returncode == 2
    msg = r.stderr.strip()
    assert "\n" not in msg and f"{path}:{line}: bad TOML" in msg, msg


def test_unknown_key_and_backwards_time_refused(tmp_path):
    typo = _variant(tmp_path, "typo.toml", _appended('[[step]]\ndo = "kill"\ntask = "aout"\npoint = 3\n'))
    with pytest.raises(ConvertError, match=rf"typo.toml:{_line_of_last_step(typo)}: .*unknown key 'point'"):
        convert([str(typo)], tmp_path / "o1.oomtrace")
    back = _variant(tmp_path, "back.toml", _appended('[[step]]\nat = 1.0\ndo = "exit"\ntask = "aout2"\n'))
    with pytest.raises(ConvertError, match=rf"back.toml:{_line_of_last_step(back)}: time goes backwards"):
        convert([str(back)], tmp_path / "o2.oomtrace")


def test_a_table_header_quoted_in_a_note_moves_no_line(tmp_path):
    """A note may quote a scenario: a ``[[step]]`` inside its multi-line string is text, not the next step."""
    quoted = '[[step]]\ndo = "note"\ntask = "aout"\nnote = """\nwhat the reaper saw:\n[[step]]\ndo = "kill"\n"""\n'
    path = _variant(tmp_path, "quoted.toml", _appended(quoted + '\n[[step]]\ndo = "kill"\ntask = "nobody"\n'))
    with pytest.raises(ConvertError, match=rf"quoted.toml:{_line_of_last_step(path)}: unknown task 'nobody'"):
        convert([str(path)], tmp_path / "out.oomtrace")


def test_scenario_sniffed_by_content(tmp_path):
    plain = tmp_path / "race.txt"
    plain.write_text(SEED.read_text().split("[scenario]", 1)[1].join(["[scenario]", ""]))
    assert is_scenario(str(plain))
    r = _cli("convert", str(plain), "-o", str(tmp_path / "out.oomtrace"))
    assert r.returncode == 0, r.stderr
    log = tmp_path / "dmesg.log"
    log.write_text("[  1.000000] hello\n")
    assert not is_scenario(str(log))


def test_readme_documents_every_step_type():
    readme = (SCENARIOS / "README.md").read_text()
    for do in STEPS:
        assert f"`{do}`" in readme, do


@pytest.mark.parametrize(("text", "reason"), [
    ('\n[[step]]\ndo = "alloc"\ntask = "aout"\norder = "x"\n', "'order' must be an integer"),
    ('\n[[step]]\nat = nan\ndo = "exit"\ntask = "aout"\n', "'at' must be a time in seconds"),
    ('\n[[step]]\ndo = "take"\ntask = "aout2"\nlock = "mmap_lock"\n', "is an mm's lock"),
    ('\n[[task]]\nname = "aout"\npid = 9\n', "declared twice"),
])
def test_malformed_values_refused(text, reason, tmp_path):
    path = _variant(tmp_path, "bad.toml", _appended(text))
    line = len(path.read_text().splitlines()) - text.strip().count("\n")
    with pytest.raises(ConvertError) as e:
        convert([str(path)], tmp_path / "o.oomtrace")
    assert f"bad.toml:{line}: " in str(e.value) and reason in str(e.value)
