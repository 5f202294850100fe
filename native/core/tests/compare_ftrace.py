"""Compares the Rust ftrace converter with Python's, event by event, on the corpus, the tests' inputs and
synthetic variants of them; prints the first difference of each input that differs and exits non-zero if any.

Run from the worktree, after ``cargo build --release --example ftrace_events -p oomreplay-core``::

    PYTHONPATH=. /work/venv/bin/python native/core/tests/compare_ftrace.py [--corpus DIR] [--only NAME]

Python runs as ``convert`` drives it: the reader's blocks into ``FtraceConverter.feed_block``, then
``finish``. The Rust side (``examples/ftrace_events``) reads the same file; its ``printk:console`` lines are parsed by the
Rust kernel-log converter (``klog::LogConverter``), as Python's are by ``LogConverter``, so every event is
compared, console lines' included; the inputs that hold console lines are listed.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from itertools import chain
from pathlib import Path

from oomreplay.ingest.ftrace import FtraceConverter
from oomreplay.ingest.ftrace_line import parse_line

sys.path.insert(0, str(Path(__file__).parent))
import ftrace_variants  # noqa: E402  (beside this script)
from _compat import MATCH_CHARS, SNIFF_LINES, is_ftrace, open_blocks  # noqa: E402

NATIVE = Path(__file__).resolve().parents[2]
BINARY = NATIVE / "target" / "release" / "examples" / "ftrace_events"
REPO = NATIVE.parent


def python_side(path: Path, file_id: int) -> tuple[list[dict], dict, list[str]]:
    with open_blocks(str(path)) as blocks:
        blocks = list(blocks)
    lines = list(chain.from_iterable(blocks))
    conv = FtraceConverter(file_id)
    out, n = [], 0
    for block in blocks:
        out.extend(conv.feed_block(n + 1, block))
        n += len(block)
    out.extend(conv.finish())
    events = json.loads(json.dumps([ev.to_dict() for ev in out]))  # tuples become lists, as in the Rust JSON
    report = {"counts": dict(conv.counts), "clock": conv.clock, "kernel": conv.kernel, "warnings": conv.warnings,
              "rejects": conv.rejects, "lost_markers": conv.lost_markers, "late": conv.late,
              "lost_events": conv.lost_events, "reordered": conv.reordered,
              "sniff": is_ftrace(lines[:SNIFF_LINES]), "lines": n}
    return events, report, lines


def rust_side(path: Path, file_id: int) -> tuple[list[dict], dict]:
    run = subprocess.run([str(BINARY), str(path), "--file-id", str(file_id)], capture_output=True, check=True)
    rows = [json.loads(line) for line in run.stdout.decode().splitlines()]
    report = rows.pop()["report"]
    return rows, report


def console_lines(lines: list[str]) -> set[int]:
    """The lines the console parser reads (``printk:console``), numbered from 1."""
    out = set()
    for n, line in enumerate(lines, 1):
        text = line[:MATCH_CHARS]
        rec = parse_line(text.lstrip("> ") if text.startswith(">") else text)
        if rec is not None and rec.event.rpartition(":")[2] == "console":
            out.add(n)
    return out


def compare(name: str, path: Path, file_id: int = 0) -> tuple[bool, int, bool]:
    """Whether the two sides agree on ``path``; the events compared; whether it holds console lines."""
    py, py_report, lines = python_side(path, file_id)
    rs, rs_report = rust_side(path, file_id)
    overflow = rs_report.pop("overflow")
    console = console_lines(lines)
    ok = True
    if overflow:
        print(f"{name}: Rust kept {len(overflow)} line(s) as text for numbers too large (first {overflow[0]})")
        ok = False
    for i, (a, b) in enumerate(zip(py, rs)):
        if a != b:
            line = a.get("src", {}).get("line")
            print(f"{name}: event {i} differs (line {line}: {lines[line - 1][:300]!r})\n  python: {a}\n  rust:   {b}")
            return False, i, bool(console)
    if len(py) != len(rs):
        extra = (py if len(py) > len(rs) else rs)[min(len(py), len(rs))]
        print(f"{name}: {len(py)} events in Python, {len(rs)} in Rust; the first unmatched: {extra}")
        ok = False
    for key in py_report:
        if py_report[key] != rs_report.get(key):
            print(f"{name}: report {key} differs\n  python: {py_report[key]}\n  rust:   {rs_report.get(key)}")
            ok = False
    return ok, len(py), bool(console)


def inputs(corpus: Path, work: Path) -> list[tuple[str, Path]]:
    recorded = sorted(corpus.glob("recorded/*/ftrace.txt")) + sorted(corpus.glob("recorded/*/trace-cmd-report.txt"))
    raw = sorted((corpus / "traces-raw").glob("*"))
    data = sorted((REPO / "tests" / "data").glob("perf-script-*.txt"))
    named = [(f"{p.parent.name}/{p.name}", p) for p in recorded + raw + data]
    named += ftrace_variants.write_all(work, recorded, raw + data)
    return named


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=Path("/work/shared/corpus"))
    ap.add_argument("--only", help="compare only the inputs whose name holds this")
    args = ap.parse_args()
    if not BINARY.is_file():
        print(f"{BINARY} is missing: cargo build --release --example ftrace_events -p oomreplay-core")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        failed, total, with_console = [], 0, []
        for i, (name, path) in enumerate(inputs(args.corpus, Path(tmp))):
            if args.only and args.only not in name:
                continue
            ok, n, console = compare(name, path, file_id=i % 3)
            total += n
            if console:
                with_console.append(name)
            if not ok:
                failed.append(name)
            print(f"{'ok  ' if ok else 'DIFF'} {name}: {n} events{' (with console lines)' if console else ''}")
    print(f"\n{total} events compared; {len(with_console)} input(s) with console lines")
    print(f"{len(failed)} input(s) differ{': ' + ', '.join(failed) if failed else ''}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
