"""``search``: every interleaving of a program's actors through the one state machine, in the native core
(``native/core/src/explore``). ``oomreplay.explore`` builds the program from a scenario and reads the report;
this is only its door into the core, kept in the model because the search is ``apply`` run over many orders."""

from __future__ import annotations

from typing import Any

from .._native import explore as _explore


def search(program: dict[str, Any], max_states: int, reduce: bool = True) -> dict[str, Any]:
    """The report of the search over ``program`` (see ``oomreplay._native.explore``), at most ``max_states``
    distinct states, with the partial-order reduction when ``reduce``."""
    return _explore(program, max_states, reduce)


__all__ = ["search"]
