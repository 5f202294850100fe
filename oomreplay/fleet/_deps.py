"""The fleet's libraries are an extra (``pip install 'oomreplay[fleet]'``: pyarrow, duckdb, dask[distributed]); the
core install stays without them. Each is imported here, when first needed, and its absence is a ``MissingExtra``
saying what to install."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

INSTALL = "pip install 'oomreplay[fleet]'"


class MissingExtra(ImportError):
    """A fleet library is not installed: the message says which and how to install them all."""


def _load(name: str, package: str) -> ModuleType:
    module = sys.modules.get(name)
    if module is not None:
        return module
    try:
        return importlib.import_module(name)
    except ImportError as e:
        raise MissingExtra(f"oomreplay fleet needs {package}, which is not installed ({e}); install the fleet "
                           f"extra: {INSTALL}") from None


def pyarrow() -> ModuleType:
    return _load("pyarrow", "pyarrow")


def parquet() -> ModuleType:
    pyarrow()
    return _load("pyarrow.parquet", "pyarrow")


def duckdb() -> ModuleType:
    return _load("duckdb", "duckdb")


def distributed() -> ModuleType:
    return _load("distributed", "dask[distributed]")
