"""The scenario compiler as a fuzz target (hypothesis): a bundled scenario with its numbers replaced by hostile
ones (past i64 and u64, negative, non-finite floats, strings) and lines cut or duplicated compiles, or is refused
with ``ScenarioError`` (one line naming the file and the step at the CLI); no other exception, and what compiles
writes a trace that reads back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oomreplay import TraceWriter, open_trace
from oomreplay.ingest.errors import ScenarioError
from oomreplay.ingest.scenario_compiler import compile_scenario

SCENARIO = Path(__file__).parents[2] / "traces" / "scenarios" / "reaper-vs-khugepaged.toml"
TEXT = SCENARIO.read_text()
NUMBER = re.compile(r"(?<=[=\s\[,])-?\d+(\.\d+)?(?=\s*(,|\]|$))", re.M)
HOSTILE = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["9223372036854775808", "18446744073709551616", "-9223372036854775809", "inf", "-inf", "nan",
                     "1e308", "1.5e300", "0", "-1", '"x"', "[]", "{}", "true", "9" * 5000]),
)


def _mutated(choices: list[tuple[int, str]], cuts: list[int]) -> str:
    spans = list(NUMBER.finditer(TEXT))
    text = TEXT
    for at, value in sorted(((spans[i % len(spans)], v) for i, v in choices), key=lambda p: -p[0].start()):
        text = text[:at.start()] + value + text[at.end():]
    lines = text.splitlines()
    for c in cuts:
        if lines:
            del lines[c % len(lines)]
    return "\n".join(lines) + "\n"


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(choices=st.lists(st.tuples(st.integers(min_value=0), HOSTILE), min_size=1, max_size=4),
       cuts=st.lists(st.integers(min_value=0), max_size=2))
def test_the_scenario_compiler_takes_hostile_numbers(tmp_path: Path, choices: list[tuple[int, str]],
                                                      cuts: list[int]) -> None:
    text = _mutated(choices, cuts)
    try:
        meta, events = compile_scenario(str(SCENARIO), text)
    except ScenarioError as e:
        assert str(SCENARIO) in str(e) and "\n" not in str(e).strip()
        return
    out = tmp_path / "s.oomtrace"
    with TraceWriter(out, meta=meta) as w:
        for ev in events:
            w.append(ev)
    with open_trace(out) as t:
        assert len(t) == len(events)
