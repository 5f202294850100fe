"""The replay TUI: one screen of panels following a single cursor (an event seq) through a trace.

Only ``app.ReplayApp`` is meant to be imported from outside; the CLI imports it lazily so its other commands
never load Textual.
"""
