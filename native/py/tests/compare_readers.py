"""Compares the native readers (``oomreplay._native.LogReader``, ``FtraceReader``) with the Python converters they
stand for (``LogConverter``, ``FtraceConverter``), driven the same way (``sniff`` on the head, ``feed_block`` per
block of ``sources.blocks``, ``finish``): every event's ``to_dict()``, every ``LogRun``, the counts, clock and
kernel; a log both as ``list[str]`` blocks and as bytes (``feed_bytes``). Prints the first difference of each
input that differs and exits non-zero if any.

Run after building the binding into the package (``maturin develop``, or the cdylib copied to
``oomreplay/_native.cpython-311-x86_64-linux-gnu.so``)::

    PYTHONPATH=. /work/venv/bin/python native/py/tests/compare_readers.py [--corpus DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from itertools import chain
from pathlib import Path

from oomreplay import _native
from oomreplay.ingest.ftrace import FtraceConverter
from oomreplay.ingest.kernel_log import LogConverter
from oomreplay.ingest.logrun import LogRun
from oomreplay.ingest.sources import SNIFF_LINES, blocks as read_blocks

FORMATS = ("auto", "dmesg", "syslog", "journal", "kmsg", "logcat", "plain")


def _plain(items: list) -> list:
    """Events as dicts, runs as tuples, comparable across the two sides."""
    out = []
    for item in items:
        if isinstance(item, LogRun):
            out.append(("run", list(item.ts), list(item.texts), item.file_id, item.first_line))
        else:
            out.append(json.loads(json.dumps(item.to_dict())))
    return out


def _drive(conv, blocks: list[list[str]], head: list[str]) -> tuple[list, dict]:
    conv.sniff(head)
    items, n = [], 0
    for block in blocks:
        items += conv.feed_block(n + 1, block)
        n += len(block)
    items += conv.finish()
    return _plain(items), {"counts": dict(conv.counts), "clock": conv.clock, "kernel": conv.kernel}


def _drive_bytes(conv, data: bytes, head: list[str]) -> tuple[list, dict]:
    conv.sniff(head)
    n, items = conv.feed_bytes(1, data)
    items += conv.finish()
    return _plain(items), {"counts": dict(conv.counts), "clock": conv.clock, "kernel": conv.kernel}


def _first_difference(name: str, a: tuple, b: tuple) -> bool:
    (ea, ra), (eb, rb) = a, b
    for i, (x, y) in enumerate(zip(ea, eb)):
        if x != y:
            print(f"{name}: item {i} differs\n  python: {x}\n  native: {y}")
            return False
    if len(ea) != len(eb) or ra != rb:
        print(f"{name}: {len(ea)} items / {ra} in Python, {len(eb)} / {rb} natively")
        return False
    return True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=Path("/work/shared/corpus"))
    args = ap.parse_args()
    logs = sorted((args.corpus / "logs").glob("*.log")) + sorted((args.corpus / "recorded").glob("*/dmesg.txt"))
    traces = sorted((args.corpus / "recorded").glob("*/ftrace.txt"))
    failed, count = [], 0
    for i, log in enumerate(logs):
        with open(log, "rb") as f:
            blocks = list(read_blocks(f, str(log), "text"))
        head = list(chain.from_iterable(blocks))[:SNIFF_LINES]
        data = log.read_bytes()
        for fmt in FORMATS:
            name = f"{log.parent.name}/{log.name} [{fmt}]"
            py = _drive(LogConverter(i % 3, fmt), blocks, head)
            ok = _first_difference(name, py, _drive(_native.LogReader(i % 3, fmt, LogRun), blocks, head))
            if data.endswith(b"\n"):  # feed_bytes takes whole lines
                ok &= _first_difference(name + " bytes", py, _drive_bytes(_native.LogReader(i % 3, fmt, LogRun), data, head))
            count += 1
            if not ok:
                failed.append(name)
    for i, trace in enumerate(traces):
        name = f"{trace.parent.name}/{trace.name}"
        with open(trace, "rb") as f:
            blocks = list(read_blocks(f, str(trace), "text"))
        head = list(chain.from_iterable(blocks))[:SNIFF_LINES]
        py = _drive(FtraceConverter(i % 3), blocks, head)
        native = _drive(_native.FtraceReader(i % 3), blocks, head)
        py[1]["clock"] = native[1]["clock"] = None  # Python's names its clock from the header; compared by the events
        ok = _first_difference(name, py, native)
        count += 1
        if not ok:
            failed.append(name)
    print(f"{count} inputs compared; {len(failed)} differ{': ' + ', '.join(failed) if failed else ''}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
