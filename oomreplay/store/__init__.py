"""The `.oomtrace` file: streaming writer, lazy reader, index, keyframes, verify and repair.

Knows the event model and bytes; knows no log format and no widget.
"""

from __future__ import annotations

import os
import tempfile

from .blocks import is_trace
from .format import FORMAT_VERSION, TraceError, TraceVersionError
from .overview import Bucket
from .reader import Trace, TraceTruncated
from .repair import VerifyReport, recover, repair, verify
from .tracker import WorkerError
from .writer import TraceWriter


def open_trace(path: str | os.PathLike) -> Trace:
    """Open a trace for reading. An unfinished file (a killed recorder) opens up to its last whole block, with
    ``trace.recovered`` saying so; any other damage raises ``TraceError`` naming the place."""
    try:
        return Trace(path)
    except TraceTruncated:
        with tempfile.TemporaryDirectory(prefix="oomreplay-") as tmp:
            return recover(path, tmp)  # the open mapping outlives the directory


__all__ = ["FORMAT_VERSION", "Bucket", "Trace", "TraceError", "TraceVersionError", "TraceWriter", "VerifyReport",
           "WorkerError", "is_trace", "open_trace", "repair", "verify"]
