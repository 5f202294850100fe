"""Logs, recordings and scenarios in, a trace out: one ``Converter`` per input format (``converter``), all in one
registry (``registry``) that decides each input's format once; merging by time and clock alignment (``convert``,
``align``); the line prefixes of every log tool and the OOM report's message families.

``convert`` is the entry point the CLI uses; ``LogConverter`` turns one source's lines into events and can be fed
line by line (tests, other converters). Bad input raises the errors of ``errors``, each one line.
"""

from .convert import convert
from .errors import ConvertError
from .kernel_log import LogConverter
from .prefix import FORMATS, Prefixed, split_prefix
from .report import ConvertReport

__all__ = ["FORMATS", "ConvertError", "ConvertReport", "LogConverter", "Prefixed", "convert", "split_prefix"]
