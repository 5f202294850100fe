"""Reviewing an incident: the marks and notes a person keeps beside a trace, the chapters they make, and the
kernel glossary that says what each event means. No Textual: the TUI, the story and the CLI all read them."""
