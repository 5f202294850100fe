"""Messages from the loader thread and the timeline to the app."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from ..session.messages import Loaded, Result


@dataclass
class LoaderResult(Message):
    """Something the loader thread produced; a newer frame replaces one still queued, so a UI that falls
    behind skips frames instead of painting each of them late."""

    result: Result

    def can_replace(self, message: Message) -> bool:
        return (isinstance(message, LoaderResult) and isinstance(message.result, Loaded)
                and isinstance(self.result, Loaded))


@dataclass
class Scrubbed(Message):
    """The user clicked or dragged on the timeline at this time."""

    ts_ns: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Scrubbed)
