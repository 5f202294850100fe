"""Counts in sentences: "1 line", "2 lines" (a message that says "its 1 lines" reads as a bug)."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` (with thousands separators) and ``noun``, in its plural (``plural``, else ``noun`` + s) unless n is 1."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
