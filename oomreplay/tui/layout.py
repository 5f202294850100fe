"""Panel room: maximise the focused panel (Textual's ``Screen.maximize``), read the log full screen, and grow or
shrink the focused panel.

A mixin of ``ReplayApp``. The cursor keys stay the app's (priority bindings), so a maximised panel still follows
every step: reading the log full screen while stepping is the point. Sizes are set on the panels' styles, so
they last until the app quits and are never written anywhere.
"""

from __future__ import annotations

from textual.app import App
from textual.css.scalar import Scalar, Unit
from textual.widget import Widget

#: The panels that can be focused, maximised and resized (the header and the chapter card cannot).
PANELS = ("timeline", "tasks", "memory", "locks", "reaper", "log")
#: Rows the log and the timeline change by at each ``<`` / ``>``; fractions the others change by.
ROWS_STEP = 3
#: Bounds of a panel's share: fixed rows for the log and the timeline, ``fr`` for the rest.
ROWS = {"log": (3, 60), "timeline": (3, 20)}
FRACTIONS = (1, 8)


class Layout(App[None]):
    """``x``, ``L``, ``<`` / ``>``."""

    def _focused_panel(self) -> Widget | None:
        focused = self.screen.focused
        while focused is not None and focused.id not in PANELS:
            parent = focused.parent
            focused = parent if isinstance(parent, Widget) else None
        return focused

    def action_maximize_panel(self) -> None:
        """The focused panel fills the screen (the footer stays), or the screen goes back to all panels."""
        screen = self.screen
        if screen.maximized is not None:
            screen.minimize()
            return
        panel = self._focused_panel()
        if panel is None:
            self.notify("focus a panel first (tab), or L for the log", timeout=2, markup=False)
            return
        screen.maximize(panel, container=False)

    def action_log_full(self) -> None:
        """The log alone on the screen, focused so ↑/↓ scroll it; again, or escape, to go back."""
        screen = self.screen
        log = self.query_one("#log")
        if screen.maximized is log:
            screen.minimize()
            return
        log.focus()
        screen.maximize(log, container=False)

    def action_resize(self, delta: int) -> None:
        """Grow (``delta`` 1) or shrink (-1) the focused panel: the log and the timeline by rows, the tasks panel
        against the side panels, and a side panel against its neighbours."""
        panel = self._focused_panel()
        if panel is None or panel.id is None:
            self.notify("focus a panel first (tab)", timeout=2, markup=False)
            return
        if panel.id in ROWS:
            low, high = ROWS[panel.id]
            rows = min(max(panel.outer_size.height + delta * ROWS_STEP, low), max(low, min(high, self.size.height - 8)))
            panel.styles.height = rows
            what = f"{rows} rows"
        else:
            low, high = FRACTIONS
            styles = panel.styles
            scalar = styles.width if panel.id == "tasks" else styles.height
            default = 3 if panel.id == "tasks" else 1  # the stylesheet's shares
            now = int(scalar.value) if scalar is not None and scalar.unit == Unit.FRACTION else default
            share = min(max(now + delta, low), high)
            value = Scalar(share, Unit.FRACTION, Unit.WIDTH if panel.id == "tasks" else Unit.HEIGHT)
            if panel.id == "tasks":
                styles.width = value
            else:
                styles.height = value
            what = f"{share} shares"
        self.notify(f"{panel.id}: {what}", timeout=1.5, markup=False)
