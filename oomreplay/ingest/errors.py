"""Bad input, as ingest says it: every error is one line naming the file and the place (the CLI prints it and
exits 2), and they are all defined here."""

from __future__ import annotations


class ConvertError(Exception):
    """Input that cannot be converted: one line naming the file and the place."""


class SourceError(Exception):
    """An input that cannot be read to the end: one line naming the file and the place."""


class TraceDatError(SourceError):
    """A trace.dat that cannot be rendered: one line naming the file and what is missing or wrong."""


class ScenarioError(ValueError):
    """An impossible or unreadable scenario: ``file:line: reason`` in one line."""
