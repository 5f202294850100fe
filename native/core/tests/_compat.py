"""What the comparison scripts take from the Python package and its tests, wherever the package's layout keeps
it: the ``ingest`` of the ports (``sources.open_source``, constants in ``kernel_log``, tests in ``tests/``) or
the later one (``sources.probe``, ``log_scan``, ``logrun``, tests in ``tests/ingest/``). The scripts compare the
Rust converters with whichever Python converter the tree holds."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager

from oomreplay.ingest import ftrace, sources

try:
    from oomreplay.ingest.kernel_log import MATCH_CHARS, SNIFF_LINES, LogRun
except ImportError:
    from oomreplay.ingest.log_scan import MATCH_CHARS
    from oomreplay.ingest.logrun import LogRun
    from oomreplay.ingest.sources import SNIFF_LINES


@contextmanager
def open_blocks(path: str) -> Iterator[Iterator[list[str]]]:
    """The blocks of lines the reader hands on for ``path`` (decompressed)."""
    if hasattr(sources, "open_source"):
        with sources.open_source(path) as (_, blocks):
            yield blocks
    else:
        with sources.probe(path) as p:
            yield p.text()


def is_ftrace(head: list[str]) -> bool:
    """Whether ``convert`` reads an input with this head as an ftrace recording."""
    if hasattr(ftrace, "sniff") and callable(ftrace.sniff):
        return ftrace.sniff(head)
    from oomreplay.ingest.ftrace_line import is_ftrace as sniff
    return sniff(head)


def test_module(name: str):
    """A module of the Python tests, ``tests/NAME.py`` or ``tests/ingest/NAME.py``."""
    try:
        return importlib.import_module(f"tests.{name}")
    except ModuleNotFoundError:
        return importlib.import_module(f"tests.ingest.{name}")


__all__ = ["MATCH_CHARS", "SNIFF_LINES", "LogRun", "is_ftrace", "open_blocks", "test_module"]
