"""Scenarios as an input of ``convert``: a ``.toml`` file (or one that starts with ``[scenario]``) is compiled
(``scenario_compiler``) into a trace of its own, with its text stored as the trace's source.
"""

from __future__ import annotations

import os
from collections import Counter

from ..store import TraceWriter
from .errors import ScenarioError
from .report import ConvertReport, SourceReport
from .scenario_compiler import compile_scenario
from .sources import Probe


def is_scenario(name: str) -> bool:
    """A ``.toml`` input, or a file whose first meaningful line is ``[scenario]``."""
    if name == "-":
        return False
    if name.lower().endswith(".toml"):
        return True
    try:
        with open(name, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    for raw in head.splitlines():
        line = raw.strip()
        if line and not line.startswith(b"#"):
            return line.replace(b" ", b"") == b"[scenario]"
    return False


def read_scenario_text(path: str) -> str:
    """The scenario's text; ``ScenarioError`` naming the file (and the line) when it cannot be read as UTF-8."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
        return raw.decode("utf-8")
    except OSError as e:
        raise ScenarioError(f"{path}: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise ScenarioError(f"{path}:{line}: not UTF-8 text") from None


def convert_scenario(path: str, output: str | os.PathLike) -> ConvertReport:
    """Compile the scenario at ``path`` into the trace ``output``: a ``ConvertReport``; raises ``ScenarioError``."""
    text = read_scenario_text(path)
    info, events = compile_scenario(path, text)
    lines = text.splitlines()
    report = ConvertReport(str(output))
    src = SourceReport(path, len(lines), "scenario", info.get("kernel"), Counter(ev.kind for ev in events))
    report.sources.append(src)
    meta = {"converter": "oomreplay scenario", "kernel": info.get("kernel"), "clock": "scenario",
            "title": info.get("title")}
    with TraceWriter(output, meta=meta) as w:
        w.add_source(path)
        w.add_source_lines(0, lines)
        for ev in events:
            ev.seq = None
            w.append(ev)
    report.events = len(events)
    return report


class Scenario:
    """The registry's scenario: known by its name or its first line, converted on its own (it is a whole
    incident, never merged with a log)."""

    name = "scenario"
    alone = True

    def sniff(self, probe: Probe, fmt: str) -> bool:
        return is_scenario(probe.path)

    def convert(self, probe: Probe, output: str | os.PathLike) -> ConvertReport:
        return convert_scenario(probe.path, output)
