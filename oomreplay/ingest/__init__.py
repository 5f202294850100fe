"""Kernel logs in, events out: the line prefixes of every log tool and the OOM report's message families.

``convert`` is the entry point the CLI uses; ``LogConverter`` turns one source's lines into events and can be fed
line by line (tests, other converters).
"""

from .convert import ConvertError, ConvertReport, convert
from .kernel_log import LogConverter
from .prefix import FORMATS, Prefixed, split_prefix

__all__ = ["FORMATS", "ConvertError", "ConvertReport", "LogConverter", "Prefixed", "convert", "split_prefix"]
