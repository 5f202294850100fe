"""``apply``: the one state machine, in the native core. The writer's keyframes, the reader's replay, the scenario
compiler and scripts all use it; ``apply(state, event)`` returns a new state and leaves ``state`` alone,
``apply_fields`` applies an event given as its parts to a state in place (what a replay loop wants)."""

from __future__ import annotations

from .._native import apply, apply_fields

__all__ = ["apply", "apply_fields"]
