"""The replay's keys and its command palette: every action by key (``BINDINGS``) and by name (``COMMANDS``).

Both write actions the same way (``find('oom_kill', True, 'kill')``); the actions themselves are ``ReplayApp``'s.
Keys follow the habits of ``less``, asciinema's player and lnav (DESIGN.md, "The TUI").
"""

from __future__ import annotations

from textual.binding import Binding, BindingType

#: shift+←/→ moves this many events.
SHIFT_STEP = 10


def _find(kinds: str, forward: str, label: str) -> str:
    return f"find('{kinds}', {forward}, '{label}')"


#: The command palette's entries: every action by name (title, help, action as the bindings write it).
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("Next OOM kill", "go to the next oom_kill event", _find("oom_kill", "True", "kill")),
    ("Previous OOM kill", "go to the previous oom_kill event", _find("oom_kill", "False", "kill")),
    ("Next reaper attempt", "go to the next reaper_attempt event", _find("reaper_attempt", "True", "reaper attempt")),
    ("Previous reaper attempt", "go to the previous reaper_attempt event",
     _find("reaper_attempt", "False", "reaper attempt")),
    ("Next OOM invocation", "go to the next oom_invoke event", _find("oom_invoke", "True", "OOM invocation")),
    ("Next event of the selected task", "what the task in the tasks panel does next", "task_change(True)"),
    ("Previous event of the selected task", "what the task in the tasks panel did before", "task_change(False)"),
    ("Next invariant violation", "where the incident breaks a rule the kernel keeps", "find_violation(True)"),
    ("Previous invariant violation", "the violation before the cursor", "find_violation(False)"),
    ("Explain this moment", "why the OOM happened, the reaper, who waits for whom, invariants", "explain"),
    ("Go to a seq or a time", "jump to 1234, #1234, 1338.05 or 1338s", "go_to"),
    ("Search", "events and log lines containing a text", "search"),
    ("Play / pause", "step through the trace at the chosen speed", "play"),
    ("Faster", "play more events per second", "speed(1)"),
    ("Slower", "play fewer events per second", "speed(-1)"),
    ("First event", "go to the start of the trace", "edge(False)"),
    ("Last event", "go to the end of the trace", "edge(True)"),
    ("Zoom in", "the timeline shows a quarter of its range, around the cursor", "zoom(True)"),
    ("Zoom out", "the timeline shows four times its range", "zoom(False)"),
    ("Only involved tasks", "toggle: all tasks, or only those involved in the OOM", "toggle_involved"),
    ("Sort tasks", "next sort order of the tasks panel", "order"),
    ("Mark this event", "a title and a Markdown note on the cursor's event, saved beside the trace", "mark"),
    ("Marks", "list the marks: go to, edit or delete one", "marks"),
    ("Screenshot", "save the screen as an SVG in the current directory", "screenshot"),
    ("Presentation mode", "chapters from the marks (or the key moments), one after the other", "present"),
    ("Next colour theme", "cycle through the replay themes", "cycle_theme"),
    ("Event list", "every event, filtered by kind, pid, comm, CPU or a regex; Enter goes to one", "events"),
    ("Set marker A", "marker A on the cursor's event", "marker('a')"),
    ("Set marker B", "marker B on the cursor's event", "marker('b')"),
    ("Between the markers", "the time from A to B, the events and the state changes in between", "between"),
    ("Maximise the panel", "the focused panel fills the screen, or goes back (escape too)", "maximize_panel"),
    ("The log full screen", "the log fills the screen and scrolls (up/down), or goes back", "log_full"),
    ("Grow the panel", "the focused panel takes more room", "resize(1)"),
    ("Shrink the panel", "the focused panel gives room back", "resize(-1)"),
    ("Help", "list the keys", "help"),
)

#: The keys; all are priority bindings, so a focused panel cannot swallow them (overlays turn them off: see
#: ``ReplayApp.check_action``).
BINDINGS: list[BindingType] = [
    Binding("left", "step(-1)", "-1", priority=True),
    Binding("right", "step(1)", "+1", priority=True),
    Binding("shift+left", f"step(-{SHIFT_STEP})", show=False, priority=True),
    Binding("shift+right", f"step({SHIFT_STEP})", show=False, priority=True),
    Binding("pageup", "page(-1)", show=False, priority=True),
    Binding("pagedown", "page(1)", show=False, priority=True),
    Binding("left_square_bracket", _find("oom_kill", "False", "kill"), show=False, priority=True),
    Binding("right_square_bracket", _find("oom_kill", "True", "kill"), "kill", key_display="[/]",
            priority=True),
    Binding("left_curly_bracket", _find("reaper_attempt", "False", "reaper attempt"), show=False,
            priority=True),
    Binding("right_curly_bracket", _find("reaper_attempt", "True", "reaper attempt"), "reaper",
            key_display="{/}", priority=True),
    Binding("comma", "task_change(False)", show=False, priority=True),
    Binding("full_stop", "task_change(True)", show=False, priority=True),
    Binding("colon", "go_to", show=False, priority=True),
    Binding("slash", "search", "search", key_display="/", priority=True),
    Binding("n", "search_again(True)", show=False, priority=True),
    Binding("N", "search_again(False)", show=False, priority=True),
    Binding("space", "play", "play", priority=True),
    Binding("plus,equals_sign", "speed(1)", show=False, priority=True),
    Binding("minus", "speed(-1)", show=False, priority=True),
    Binding("o", "order", show=False, priority=True),
    Binding("z", "zoom(True)", show=False, priority=True),
    Binding("Z", "zoom(False)", show=False, priority=True),
    Binding("v", "find_violation(True)", show=False, priority=True),
    Binding("V", "find_violation(False)", show=False, priority=True),
    Binding("e", "explain", "explain", priority=True),
    Binding("m", "mark", "mark", priority=True),
    Binding("apostrophe", "marks", show=False, priority=True),
    Binding("p", "present", "present", priority=True),
    Binding("s", "screenshot", show=False, priority=True),
    Binding("g", "edge(False)", show=False, priority=True),
    Binding("G", "edge(True)", show=False, priority=True),
    Binding("f", "toggle_involved", show=False, priority=True),
    Binding("t", "cycle_theme", show=False, priority=True),
    Binding("E", "events", "events", priority=True),
    Binding("a", "marker('a')", show=False, priority=True),
    Binding("b", "marker('b')", show=False, priority=True),
    Binding("A", "between", show=False, priority=True),
    Binding("x", "maximize_panel", show=False, priority=True),
    Binding("L", "log_full", show=False, priority=True),
    Binding("greater_than_sign", "resize(1)", show=False, priority=True),
    Binding("less_than_sign", "resize(-1)", show=False, priority=True),
    Binding("question_mark", "help", "help", key_display="?", priority=True),
    Binding("q", "quit", "quit", priority=True),
]
