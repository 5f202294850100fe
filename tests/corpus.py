"""How to read the tables of the corpus' ``facts.md`` files (the corpus' location is in ``conftest``)."""

from __future__ import annotations


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
