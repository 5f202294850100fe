"""The help's content, generated from the bindings themselves, so the list cannot drift from what the keys do.

Every binding of the app (and of the screen and the panels that have keys of their own) becomes a row: its key as
Textual displays it, and what it does, looked up by its action string (``DESCRIPTIONS``), else by the command
palette's entry for the same action (``keys.COMMANDS``), else the binding's own description. A binding with none
of those shows its action's name, which ``tests/tui/test_help.py`` refuses, so a new key without a description
fails a test rather than appearing blank. Rows are grouped by what the action is for (``GROUPS``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

from textual.actions import parse as parse_action
from textual.binding import Binding, BindingType

from . import keys

#: The groups, in the order the help lists them, and the action names (without arguments) each holds.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Move the cursor", ("step", "page", "edge", "go_to")),
    ("Jump and search", ("find", "task_change", "find_violation", "search", "search_again", "events")),
    ("Play, explain, present", ("play", "speed", "explain", "present")),
    ("Marks and markers", ("mark", "marks", "marker", "between")),
    ("Compare (replay --against)", ("difference", "swap")),
    ("Panels", ("app.focus_next", "app.focus_previous", "maximize_panel", "log_full", "resize", "zoom", "order",
                "toggle_involved", "move", "scroll_lines")),
    ("Other", ("screenshot", "cycle_theme", "help", "quit", "command_palette")),
)

#: What an action string does, where the command palette's wording does not fit a key list.
DESCRIPTIONS: dict[str, str] = {
    "step(-1)": "previous event (presenting: previous chapter)",
    "step(1)": "next event (presenting: next chapter)",
    f"step(-{keys.SHIFT_STEP})": f"{keys.SHIFT_STEP} events back",
    f"step({keys.SHIFT_STEP})": f"{keys.SHIFT_STEP} events forward",
    "page(-1)": "1 % of the trace back (at least 100 events; presenting: previous chapter)",
    "page(1)": "1 % of the trace forward (at least 100 events; presenting: next chapter)",
    "search_again(True)": "next search hit (hit k of n)",
    "search_again(False)": "previous search hit",
    "search": "search events and log lines: a regular expression, case ignored",
    "quit": "quit oomreplay",
    "app.focus_next": "focus the next panel (its keys, x, < and > act on it)",
    "app.focus_previous": "focus the previous panel",
    "move(-1)": "tasks panel: select the task above",
    "move(1)": "tasks panel: select the task below",
    "move(-1_000_000_000)": "tasks panel: select the first task",
    "move(1_000_000_000)": "tasks panel: select the last task",
    "scroll_lines(-1)": "log panel: scroll up a line",
    "scroll_lines(1)": "log panel: scroll down a line",
    "scroll_lines(-10)": "log panel: scroll up ten lines",
    "scroll_lines(10)": "log panel: scroll down ten lines",
    "scroll_lines(0)": "log panel: back to the cursor's line",
    "difference(True)": "next difference: both cursors on the next step that differs from the other incident",
    "difference(False)": "previous difference",
    "swap": "swap the sides: the other incident leads (each keeps its letter)",
}

#: Textual's own screen bindings worth listing (the rest, such as copying a selection, say nothing about replay).
SCREEN_ACTIONS = ("app.focus_next", "app.focus_previous")
#: Ways in that are not key bindings.
EXTRA: tuple[tuple[str, str, str], ...] = (
    ("Jump and search", "click / drag the timeline", "go to that time (drag to scrub)"),
    ("Panels", "escape", "restore a maximised panel"),
    ("Other", "ctrl+p", "command palette: every action by name"),
)


class KeyRow(NamedTuple):
    group: str
    keys: str  # the keys, as Textual displays them, "/"-separated when several do the same
    text: str  # what they do


def _group_of(action: str) -> str:
    name = action if action.startswith("app.") else parse_action(action)[1]
    return next((group for group, names in GROUPS if name in names), "Other")


def describe(action: str, binding_description: str = "", words: Mapping[str, str] | None = None) -> str:
    """What ``action`` does, in the help's words (``words`` first: an app's own wording of a shared key; its own
    name when nothing says: a test catches that)."""
    if words and action in words:
        return words[action]
    if action in DESCRIPTIONS:
        return DESCRIPTIONS[action]
    for title, help_text, palette_action in keys.COMMANDS:
        if palette_action == action:
            return f"{title[0].lower()}{title[1:]}: {help_text}"
    return binding_description or action


def key_rows(bindings: Iterable[BindingType], key_display: Callable[[Binding], str],
             extra: Iterable[tuple[str, str, str]] = EXTRA, words: Mapping[str, str] | None = None) -> list[KeyRow]:
    """One row per action (keys doing the same thing joined), grouped in ``GROUPS`` order, the bindings' order
    within a group; then the ways in that are not bindings (``extra``: the replay's unless told). ``words``
    override ``describe``'s, by action."""
    by_action: dict[str, tuple[list[str], str]] = {}
    for binding in Binding.make_bindings(bindings):
        if binding.system:
            continue
        shown, _ = by_action.setdefault(binding.action, ([], binding.description))
        display = key_display(binding)
        if display not in shown:
            shown.append(display)
    rows = [KeyRow(_group_of(action), " / ".join(shown), describe(action, description, words))
            for action, (shown, description) in by_action.items()]
    rows += [KeyRow(*row) for row in extra]
    order = [group for group, _ in GROUPS]
    return sorted(rows, key=lambda r: order.index(r.group))  # stable: bindings' order within a group
