"""What the converters' benchmarks time beside them, in the same run and on the same file: the naive Python loop
(the file decoded, split into lines, one regex matched per line: the most a converter written in Python could
do), and a command's run (``cat``, ``wc -l``: the physical limit of reading the file)."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path


def regex_loop(path: Path, pattern: re.Pattern[str]) -> float:
    """Seconds for matching ``pattern`` at the start of each line of ``path``."""
    match = pattern.match
    t0 = time.perf_counter()
    n = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if match(line) is not None:
                n += 1
    return time.perf_counter() - t0


def timed(cmd: list[str]) -> float:
    """Seconds for ``cmd``, its output thrown away."""
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0
