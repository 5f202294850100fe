"""The `.oomtrace` file: streaming writer, lazy reader, index, keyframes, verify and repair, over the native core.

Knows the event model and bytes; knows no log format and no widget.
"""

from __future__ import annotations

import os
import tempfile

from .._native import FORMAT_VERSION, TraceError, TraceTruncated, TraceVersionError, is_trace
from .overview import Bucket
from .reader import Trace
from .repair import VerifyReport, recover, repair, verify
from .writer import TraceWriter


def open_trace(path: str | os.PathLike) -> Trace:
    """Open a trace for reading. An unfinished file (a killed recorder) opens up to its last whole block, with
    ``trace.recovered`` saying so; any other damage raises ``TraceError`` naming the place."""
    try:
        return Trace(path)
    except TraceTruncated:
        with tempfile.TemporaryDirectory(prefix="oomreplay-") as tmp:
            return recover(path, tmp)  # the open file outlives the directory


__all__ = ["FORMAT_VERSION", "Bucket", "Trace", "TraceError", "TraceTruncated", "TraceVersionError", "TraceWriter",
           "VerifyReport", "is_trace", "open_trace", "repair", "verify"]
