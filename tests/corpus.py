"""Where the shared corpus of real kernel data is, and how to read the tables of its ``facts.md`` files."""

from __future__ import annotations

from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def facts_table(facts: str, heading: str) -> list[list[str]]:
    """The body rows (cells stripped) of the first Markdown table after the line starting with ``heading``."""
    rows, inside = [], False
    for line in facts[facts.index(heading):].splitlines()[1:]:
        if line.startswith("|"):
            inside = True
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not set("".join(cells)) <= set("-: "):
                rows.append(cells)
        elif inside:
            break
    return rows[1:]  # the header row
