"""Ftrace converter benchmark: a real recording repeated with shifted times, converted, against a naive parse.

    python benchmarks/ftrace_bench.py [--lines 10000000] [--source PATH] [--json] [--no-trace-cmd]

The recording (by default the corpus's ``recorded/005*/ftrace.txt``) is written again and again, each copy's times
moved past the last, to a temporary file, streaming, until it holds ``--lines`` lines. The converter runs in a
child process (``oomreplay convert``, the store included), so its peak RSS is its own. The naive baseline is a
plain regex per line (the ftrace grammar's columns, no payload mapping, no store), timed in this process on the
same file: the ratio says what the mapping and the store cost on top of reading and splitting the lines. The
converter alone (read, parse, map to events; no store) is also timed in a child process, to show the split.

When trace-cmd is installed, ``trace-cmd report`` is timed on the corpus's own ``trace.dat`` (in lines per
second). A trace.dat of the repeated text cannot be made (trace-cmd has no text-to-dat converter), and the output
says so.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from baselines import regex_loop  # beside this script

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
_TS = re.compile(r"(\d+)\.(\d{6}):")
#: the naive baseline: the event line's columns by one regex, nothing else
_NAIVE = re.compile(r"\s*(.*?)-(\d+)\s+\[(\d+)\]\s+(?:\S+\s+)?(\d+)\.(\d+):\s+(\S+):\s*(.*)")


def _template(source: Path) -> tuple[list[str], list[tuple[str, int, str]], int]:
    """The leading header lines (written once), each other line split around its time in µs (-1: none); the
    span of the times."""
    header: list[str] = []
    body: list[tuple[str, int, str]] = []
    for line in source.read_text(errors="replace").splitlines():
        m = _TS.search(line)
        if m is not None:
            body.append((line[:m.start()], int(m.group(1)) * 1_000_000 + int(m.group(2)), line[m.end() - 1:]))
        elif body or not line.startswith("#"):
            body.append((line, -1, ""))
        else:
            header.append(line)
    stamps = [t for _, t, _ in body if t >= 0]
    return header, body, max(stamps) - min(stamps)


def build(path: Path, source: Path, lines: int) -> int:
    """Write ``lines`` lines (at least) of ``source`` repeated, each copy one second after the one before."""
    header, body, span = _template(source)
    shift = 0
    written = 0
    with open(path, "w") as f:
        f.write("".join(h + "\n" for h in header))
        written += len(header)
        while written < lines:
            chunk = [f"{pre}{(t + shift) // 1_000_000}.{(t + shift) % 1_000_000:06d}{post}\n" if t >= 0
                     else pre + "\n" for pre, t, post in body]
            f.write("".join(chunk))
            written += len(chunk)
            shift += span + 1_000_000
    return written


def naive(path: Path) -> float:
    """Seconds for the plain regex-per-line parse of ``path`` (text decoded, lines split, columns matched)."""
    return regex_loop(path, _NAIVE)


def convert(path: Path, out: Path) -> tuple[float, int]:
    """Seconds and peak RSS (kB) of ``oomreplay convert`` in a child process."""
    probe = ("import sys; from oomreplay.ingest import convert\n"
             f"convert([{str(path)!r}], {str(out)!r})\n"
             "print([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1])")
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"oomreplay convert failed:\n{done.stderr}")
    return time.perf_counter() - t0, int(done.stdout.strip().splitlines()[-1])


def parse_only(path: Path) -> float:
    """Seconds for the converter without the store (read, parse, map to events), in a child process: the part of
    ``convert`` that is the ftrace converter's own."""
    probe = ("import time; from oomreplay.ingest.ftrace import FtraceText\n"
             "from oomreplay.ingest.sources import probe\n"
             "t = time.perf_counter(); ftrace = FtraceText(); reader = ftrace.reader(0, 'auto')\n"
             f"with probe({str(path)!r}) as source:\n"
             "    for chunk in ftrace.chunks(source):\n"
             "        reader.read(chunk)\n"
             "reader.end()\n"
             "print(time.perf_counter() - t)")
    done = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    return float(done.stdout.strip().splitlines()[-1])


def trace_cmd_report() -> dict[str, object]:
    """``trace-cmd report`` on the corpus's trace.dat, in lines per second; or why it was not timed."""
    dat = next(iter(sorted(CORPUS.glob("recorded/*/trace.dat"))), None)
    if shutil.which("trace-cmd") is None:
        return {"trace_cmd_report": "not timed: trace-cmd is not installed"}
    if dat is None:
        return {"trace_cmd_report": "not timed: no trace.dat in the corpus"}
    t0 = time.perf_counter()
    done = subprocess.run(["trace-cmd", "report", "-i", str(dat)], check=True, capture_output=True)
    took = time.perf_counter() - t0
    lines = done.stdout.count(b"\n")
    return {"trace_cmd_report": f"{dat.parent.name}/trace.dat ({lines:,} lines; a trace.dat of the repeated text "
                                "cannot be made: trace-cmd has no text-to-dat converter)",
            "trace_cmd_report_s": round(took, 3), "trace_cmd_report_lines_per_s": round(lines / took)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=10_000_000, help="lines to convert (default 10^7)")
    ap.add_argument("--source", type=Path, help="the recording to repeat (default recorded/005*/ftrace.txt)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--no-trace-cmd", action="store_true", help="do not time trace-cmd report")
    args = ap.parse_args()
    source = args.source or next(iter(sorted(CORPUS.glob("recorded/005*/ftrace.txt"))), None)
    if source is None or not source.is_file():
        sys.exit(f"no recording to repeat: give --source (the corpus is not at {CORPUS})")
    with tempfile.TemporaryDirectory() as tmp:
        text, out = Path(tmp) / "big.txt", Path(tmp) / "big.oomtrace"
        lines = build(text, source, args.lines)
        size = text.stat().st_size
        naive_s = naive(text)
        took, rss_kb = convert(text, out)
        parse_s = parse_only(text)
        result: dict[str, object] = {
            "source": str(source), "lines": lines, "text_mb": round(size / (1 << 20), 1),
            "convert_s": round(took, 2), "lines_per_s": round(lines / took),
            "mb_per_s": round(size / (1 << 20) / took, 1),
            "peak_rss_mb": round(rss_kb / 1024, 1), "naive_regex_s": round(naive_s, 2),
            "naive_lines_per_s": round(lines / naive_s), "convert_over_naive": round(took / naive_s, 2),
            "parse_map_only_s": round(parse_s, 2), "parse_map_only_lines_per_s": round(lines / parse_s),
            "trace_mb": round(out.stat().st_size / (1 << 20), 1)}
    if not args.no_trace_cmd:
        result.update(trace_cmd_report())
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:<30} {v}")


if __name__ == "__main__":
    main()
