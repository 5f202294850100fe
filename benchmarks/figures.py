"""What every benchmark script shares: percentiles, and printing its figures as a table or one JSON object."""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def machine() -> str:
    return f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"


def print_figures(result: dict[str, Any], as_json: bool) -> None:
    """One JSON object (for scripts and the README's tables), or aligned ``name  value`` lines."""
    if as_json:
        print(json.dumps(result))
        return
    width = max(map(len, result))
    for key, value in result.items():
        print(f"{key.ljust(width)}  {value}")
