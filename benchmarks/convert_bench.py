"""Converter benchmark: a large kernel log built from the real corpus, converted, against ``grep -c oom``.

    python benchmarks/convert_bench.py [--mb 1024] [--chatter 9] [--syslog] [--json]

The log repeats the corpus's dmesg-style OOM reports (with their times shifted forward) between stretches of
ordinary kernel chatter, ``--chatter`` lines of it before each report line (9 by default: one report line in ten;
a real log has far fewer report lines). Prints MB/s, lines/s and the converter's peak RSS (it runs
in a child process, so the figure is its own), beside baselines timed in the same run over the same file: the
naive Python loop that only matches each line's printk stamp, ``grep -c oom``, ``cat`` and ``wc -l``.
``--chatter 0`` gives an OOM-dense log (the reports only, over and over).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from baselines import regex_loop, timed  # beside this script

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
STAMP = re.compile(r"^\[\s*\d+\.\d{6}\]")
CHATTER = ["usb 1-1: new high-speed USB device number {n} using xhci_hcd",
           "EXT4-fs (sda1): mounted filesystem with ordered data mode. Quota mode: none.",
           "audit: type=1400 audit({n}.123:45): apparmor=\"STATUS\" operation=\"profile_load\"",
           "IPv6: ADDRCONF(NETDEV_CHANGE): eth0: link becomes ready",
           "systemd[1]: Started Session {n} of user root."]


def report_lines() -> list[str]:
    """The messages of every stamped line of the corpus's dmesg-style logs (they get new stamps)."""
    out = []
    for path in sorted((CORPUS / "logs").glob("*.log")) + sorted(CORPUS.glob("recorded/*/dmesg.txt")):
        for line in path.read_text(errors="replace").splitlines():
            m = STAMP.match(line)
            if m:
                out.append(line[m.end():])
    return out


def build(path: Path, megabytes: int, chatter: int = 9, syslog: bool = False) -> int:
    """Write the log (as rsyslog writes ``kern.log`` with ``syslog``: each line after a syslog prefix, the chatter
    of systemd as its own program's); returns its line count."""
    reports = report_lines()
    target = megabytes << 20
    written = lines = 0
    base_us = 0
    with open(path, "w") as f:
        while written < target:
            chunk = []
            for i, msg in enumerate(reports):
                t = base_us + i * 100
                stamp = f"[{t // 1_000_000:5d}.{t % 1_000_000:06d}]"
                host = ""
                if syslog:
                    sec = t // 1_000_000
                    host = f"Nov 27 {sec // 3600 % 24:02d}:{sec // 60 % 60:02d}:{sec % 60:02d} host "
                kernel = f"{host}kernel: {stamp}" if syslog else stamp
                for n in range(lines + len(chunk), lines + len(chunk) + chatter):
                    text = CHATTER[n % len(CHATTER)].format(n=n)
                    daemon = syslog and text.startswith("systemd[1]: ")
                    chunk.append(f"{host}{text}\n" if daemon else f"{kernel} {text}\n")
                chunk.append(f"{kernel}{msg}\n")
            base_us += len(reports) * 100 + 1_000_000
            text = "".join(chunk)
            f.write(text)
            written += len(text)
            lines += len(chunk)
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=1024, help="size of the log to build (default 1024)")
    ap.add_argument("--chatter", type=int, default=9, help="lines of chatter before each report line (default 9)")
    ap.add_argument("--syslog", action="store_true", help="write it as a syslog file (kern.log)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not CORPUS.is_dir():
        sys.exit(f"the corpus is not at {CORPUS}")
    with tempfile.TemporaryDirectory() as tmp:
        log, out = Path(tmp) / "big.log", Path(tmp) / "big.oomtrace"
        lines = build(log, args.mb, args.chatter, args.syslog)
        size = log.stat().st_size
        t0 = time.perf_counter()
        subprocess.run(["grep", "-c", "oom", str(log)], check=True, capture_output=True)
        grep_s = time.perf_counter() - t0
        stamps_s = regex_loop(log, STAMP)
        cat_s, wc_s = timed(["cat", str(log)]), timed(["wc", "-l", str(log)])
        probe = ("import resource, sys; from oomreplay.cli import main; sys.argv = ['oomreplay', 'convert', "
                 f"{str(log)!r}, '-o', {str(out)!r}]\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
                 "print([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1], "
                 "file=sys.stderr)")
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
        took = time.perf_counter() - t0
        result = {"log_mb": round(size / (1 << 20), 1), "lines": lines, "convert_s": round(took, 1),
                  "mb_per_s": round(size / (1 << 20) / took, 1), "lines_per_s": round(lines / took),
                  "peak_rss_mb": round(int(done.stderr.strip().splitlines()[-1]) / 1024, 1),
                  "grep_c_oom_s": round(grep_s, 2), "convert_over_grep": round(took / grep_s, 1),
                  "python_stamp_loop_mb_per_s": round(size / (1 << 20) / stamps_s, 1),
                  "convert_over_stamp_loop": round(stamps_s / took, 2),
                  "cat_mb_per_s": round(size / (1 << 20) / cat_s), "wc_l_mb_per_s": round(size / (1 << 20) / wc_s),
                  "trace_mb": round(out.stat().st_size / (1 << 20), 1)}
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:<18} {v}")


if __name__ == "__main__":
    main()
