"""Compares the Rust kernel-log converter with Python's, event by event, on every log of the corpus, the recorded
incidents' dmesg, the Python tests' inputs (compressed, hostile, the bulk path's tricky lines) and variants of them
(chatter interleaved, rewritten as syslog, read under every ``--format``); prints the first difference of each
input that differs and exits non-zero if any.

Run from the worktree, after ``cargo build --release --example klog_events -p oomreplay-core``::

    PYTHONPATH=/work/wt-klog /work/venv/bin/python native/core/tests/compare_klog.py [--corpus DIR] [--only NAME]

Python runs as ``convert`` drives a log: the reader's blocks into ``LogConverter.feed_block`` after ``sniff``
on the head, then ``finish``. The Rust side (``examples/klog_events``) reads the same bytes (decompressed here:
decompression is no part of the converter) in the same blocks. Compared: every event (kind, ts, pid, fields,
inferred, src), the runs of chatter (first line, length), the counts, clock, kernel, not-understood lines and
the line count.
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import json
import lzma
import random
import subprocess
import sys
import tempfile
from itertools import chain
from pathlib import Path

from oomreplay.ingest.kernel_log import LogConverter
from oomreplay.ingest.prefix import FORMATS

NATIVE = Path(__file__).resolve().parents[2]
BINARY = NATIVE / "target" / "release" / "examples" / "klog_events"
REPO = NATIVE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).parent))
from _compat import SNIFF_LINES, LogRun, open_blocks, test_module  # noqa: E402  (beside this script)

hostile = test_module("test_ingest_hostile")  # the Python tests' own inputs
prefilter = test_module("test_ingest_prefilter")


def python_side(path: Path, file_id: int, fmt: str) -> tuple[list[dict], list[list[int]], dict]:
    with open_blocks(str(path)) as blocks:
        blocks = list(blocks)
    conv = LogConverter(file_id, fmt)
    conv.sniff(list(chain.from_iterable(blocks))[:SNIFF_LINES])
    events, runs, n = [], [], 0
    for block in blocks:
        for item in conv.feed_block(n + 1, block):
            if type(item) is LogRun:
                assert item.file_id == file_id
                runs.append([item.first_line, len(item.ts)])
                events += [ev.to_dict() for ev in item.events()]
            else:
                events.append(item.to_dict())
        n += len(block)
    events += [ev.to_dict() for ev in conv.finish()]
    events = json.loads(json.dumps(events))  # tuples become lists, as in the Rust JSON
    report = {"counts": dict(conv.counts), "clock": conv.clock, "kernel": conv.kernel,
              "unparsed": [list(u) for u in conv.unparsed], "unparsed_count": conv.unparsed_count, "lines": n}
    return events, runs, report


def rust_side(path: Path, file_id: int, fmt: str, work: Path) -> tuple[list[dict], list[list[int]], dict]:
    raw = path.read_bytes()
    for magic, unpack in ((b"\x1f\x8b", gzip.decompress), (b"\xfd7zXZ\x00", lzma.decompress),
                          (b"BZh", bz2.decompress)):
        if raw.startswith(magic):
            plain = work / "decompressed"
            plain.write_bytes(unpack(raw))
            path = plain
            break
    run = subprocess.run([str(BINARY), str(path), "--file-id", str(file_id), "--format", fmt],
                         capture_output=True, check=True)
    events, runs = [], []
    for line in run.stdout.decode().splitlines():
        row = json.loads(line)
        if "run" in row:
            runs.append(row["run"])
        elif "report" in row:
            report = row["report"]
        else:
            events.append(row)
    return events, runs, report


def compare(name: str, path: Path, work: Path, file_id: int = 0, fmt: str = "auto") -> tuple[bool, int]:
    """Whether the two sides agree on ``path`` read as ``fmt``, and the events compared."""
    py, py_runs, py_report = python_side(path, file_id, fmt)
    rs, rs_runs, rs_report = rust_side(path, file_id, fmt, work)
    overflow = rs_report.pop("overflow")
    ok = True
    if overflow:
        print(f"{name}: Rust kept {len(overflow)} line(s) as text for numbers too large (first {overflow[0]})")
        ok = False
    for i, (a, b) in enumerate(zip(py, rs)):
        if a != b:
            line = a.get("src", {}).get("line")
            text = None
            if line is not None:
                with open_blocks(str(path)) as blocks:
                    text = next((t for n, t in enumerate(chain.from_iterable(blocks), 1) if n == line), None)
            print(f"{name}: event {i} differs (line {line}: {(text or '')[:300]!r})\n  python: {a}\n  rust:   {b}")
            return False, i
    if len(py) != len(rs):
        extra = (py if len(py) > len(rs) else rs)[min(len(py), len(rs))]
        print(f"{name}: {len(py)} events in Python, {len(rs)} in Rust; the first unmatched: {extra}")
        ok = False
    if py_runs != rs_runs:
        first = next((i for i, (a, b) in enumerate(zip(py_runs, rs_runs)) if a != b), min(len(py_runs), len(rs_runs)))
        print(f"{name}: runs differ from run {first}\n  python: {py_runs[first:first + 3]}\n"
              f"  rust:   {rs_runs[first:first + 3]}")
        ok = False
    for key in py_report:
        if py_report[key] != rs_report.get(key):
            print(f"{name}: report {key} differs\n  python: {py_report[key]}\n  rust:   {rs_report.get(key)}")
            ok = False
    return ok, len(py)


def write(work: Path, name: str, data: bytes) -> tuple[str, Path]:
    path = work / name.replace("/", "_")
    path.write_bytes(data)
    return name, path


#: Characters a mutation may put into a line: Python's odd blanks and digits, a letter of each script width.
_ODD = ["\u2003", "\x1c", "\u0663", "\uff11", "\u00a0", "\t", "\n", "é", "\u0130", "\U0001d7d8", ":", "(", ")", "[",
        "]", "{", "}", "/", "'", "#", "-", ".", ",", " ", "0x", "kB", "oom", "Kill", "\ufffd"]


def restyled(lines: list[str], rng: random.Random) -> dict[str, list[str]]:
    """The lines of a log under other prefixes: each stamped line's message (Python's ``split_prefix``) with the
    prefix of another tool, and the whole log mutated (cut short, odd characters put in)."""
    from oomreplay.ingest.prefix import split_prefix
    out: dict[str, list[str]] = {k: [] for k in ("kmsg", "json", "iso", "dmesg-T", "quoted", "numbered", "level",
                                                    "caller", "monotonic", "logcat", "mutated", "bsd-frac")}
    for i, line in enumerate(lines):
        p = split_prefix(line)
        us = (p.mono_ns or i * 1000) // 1000
        msg = p.text
        sec = i % 60
        out["kmsg"].append(f"{i % 8},{i},{us},-;{msg}")
        rec = {"MESSAGE": msg if i % 7 else list(msg.encode()), "__MONOTONIC_TIMESTAMP": str(us),
               "__REALTIME_TIMESTAMP": 1_700_000_000_000_000 + us, "_TRANSPORT": "kernel" if i % 11 else "stdout"}
        if i % 13 == 0:
            rec["SYSLOG_IDENTIFIER"] = "systemd"
        out["json"].append(json.dumps(rec, ensure_ascii=bool(i % 2)))
        out["iso"].append(f"2024-03-0{1 + i % 9}T10:00:{sec:02d}.{i:06d}{'+01:00' if i % 3 else 'Z'} host "
                          f"{'kernel' if i % 5 else 'dockerd[42]'}: {msg}")
        out["dmesg-T"].append(f"[{'Thu ' if i % 2 else ''}Apr  {1 + i % 28} 15:52:{sec:02d} 2020] {msg}")
        out["quoted"].append(("> " * (1 + i % 2)) + line)
        out["numbered"].append(f"{i:5d}{':' if i % 2 else ''} {line}")
        out["level"].append(f"<{i % 8}>{line}")
        out["caller"].append(f"[{us // 1_000_000:5d}.{us % 1_000_000:06d}] [{'TC'[i % 2]}{i}] {msg}")
        out["monotonic"].append(f"[{us // 1_000_000:5d}.{us % 1_000_000:06d}] myhost kernel: {msg}")
        out["logcat"].append(f"03-17 10:00:{sec:02d}.{i % 1000:03d}  1234  {i} I "
                             f"{'lowmemorykiller' if i % 3 else 'ActivityManager'}: {msg}")
        out["bsd-frac"].append(f"Dec 31 23:59:{sec:02d}.{i:06d} host kernel: {line}" if i % 4 else
                               f"Jan  1 00:00:{sec:02d} host kernel: {line}")
        cut = line[:rng.randrange(len(line) + 1)] if rng.random() < 0.3 else line
        for _ in range(rng.randrange(3)):
            at = rng.randrange(len(cut) + 1)
            cut = cut[:at] + rng.choice(_ODD) + cut[at:]
        out["mutated"].append(cut)
    return out


def inputs(corpus: Path, work: Path) -> list[tuple[str, Path, str]]:
    """(name, file, format) of every input."""
    logs = sorted((corpus / "logs").glob("*.log")) + sorted((corpus / "recorded").glob("*/dmesg.txt"))
    out: list[tuple[str, Path, str]] = []
    for log in logs:
        label = f"{log.parent.name}/{log.name}"
        for fmt in FORMATS:
            out.append((f"{label} [{fmt}]", log, fmt))
        lines = log.read_text(errors="replace").splitlines()
        chatty = prefilter._interleaved(lines)
        for variant, text in (("interleaved", chatty), ("as-syslog", prefilter._as_syslog(chatty))):
            name, path = write(work, f"{label}.{variant}", ("\n".join(text) + "\n").encode())
            for fmt in ("auto", "syslog", "journal", "dmesg"):
                out.append((f"{name} [{fmt}]", path, fmt))
        for style, text in restyled(lines, random.Random(label)).items():
            name, path = write(work, f"{label}.{style}", ("\n".join(text) + "\n").encode())
            for fmt in FORMATS:
                out.append((f"{name} [{fmt}]", path, fmt))
    # the Python tests' inputs: compressed, hostile, the bulk path's tricky lines
    report = hostile.REPORT
    biggest = max(logs[:26], key=lambda p: p.stat().st_size).read_bytes() if logs else report
    for label, pack in (("gzip", gzip.compress), ("xz", lzma.compress), ("bzip2", bz2.compress)):
        out.append((*write(work, f"report.{label}", pack(report)), "auto"))
        out.append((*write(work, f"biggest-log.{label}", pack(biggest)), "auto"))
    for label, data in (("binary", bytes(range(256)) * 64), ("nul", b"\x00\x00\x00abc\x00\n\x00\n"),
                        ("utf8", b"\xff\xfe\xc3\x28 invalid utf-8 \xed\xa0\x80\n" + report),
                        ("crlf", report.replace(b"\n", b"\r\n")), ("10mb-line", b"x" * (10 << 20) + b"\n" + report),
                        ("17mb-line", b"[    1.000000] " + b"y" * (17 << 20) + b"\n" + report),
                        ("no-newline-at-end", report + b"[  495.000000] the end\r"), ("empty", b""),
                        ("no-oom", b"[    1.000000] eth0: link up\n[    2.000000] usb 1-1: new device\n")):
        out.append((*write(work, f"hostile/{label}", data), "auto"))
    pre = ["[    0.000000] Linux version 6.1.0", "[    1.000000] chatter"]
    syslog_pre = ["Nov 27 10:00:00 host kernel: [    0.000000] Linux", "Nov 27 10:00:00 host x[1]: chatter"]
    rng = random.Random(17)
    for fmt in ("auto", "dmesg", "kmsg", "syslog", "journal"):
        for label, head in (("dmesg", pre), ("syslog", syslog_pre)):
            text = "\n".join(head + prefilter.TRICKY + ["[    9.500000] chatter after"]) + "\n"
            out.append((*write(work, f"tricky/{label}.{fmt}", text.encode()), fmt))
        for k in range(4):
            picks = [rng.choice(prefilter.TRICKY + prefilter.CHATTER) for _ in range(200)]
            text = "\n".join(pre[:1] + picks) + "\n"
            out.append((*write(work, f"tricky/shuffled{k}.{fmt}", text.encode()), fmt))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=Path("/work/shared/corpus"))
    ap.add_argument("--only", help="compare only the inputs whose name holds this")
    args = ap.parse_args()
    if not BINARY.is_file():
        print(f"{BINARY} is missing: cargo build --release --example klog_events -p oomreplay-core")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        failed, total, count = [], 0, 0
        for i, (name, path, fmt) in enumerate(inputs(args.corpus, work)):
            if args.only and args.only not in name:
                continue
            ok, n = compare(name, path, work, file_id=i % 3, fmt=fmt)
            total += n
            count += 1
            if not ok:
                failed.append(name)
            print(f"{'ok  ' if ok else 'DIFF'} {name}: {n} events")
    print(f"\n{count} inputs, {total} events compared")
    print(f"{len(failed)} input(s) differ{': ' + ', '.join(failed) if failed else ''}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
