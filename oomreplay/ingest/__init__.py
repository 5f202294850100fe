"""Logs, recordings and scenarios in, a trace out: one ``Converter`` per input format (``converter``), all in one
registry (``registry``) that decides each input's format once; merging by time and clock alignment (``convert``,
``align``). The line work (every log tool's prefixes, the OOM report's message families, ftrace's tracepoints) is
the native core's: ``LogReader`` and ``FtraceReader`` read an input's bytes into events.

``convert`` is the entry point the CLI uses. Bad input raises the errors of ``errors``, each one line.
"""

from .._native import FtraceReader, LogReader
from .convert import convert
from .errors import ConvertError
from .prefix import FORMATS, Prefixed, split_prefix
from .report import ConvertReport

__all__ = ["FORMATS", "ConvertError", "ConvertReport", "FtraceReader", "LogReader", "Prefixed", "convert",
           "split_prefix"]
