"""oomreplay: replay Linux OOM incidents step by step.

The scripting API is ``open_trace(path) -> Trace`` (see the README); writing is ``oomreplay.store.TraceWriter``.
"""

from .model import Event, State, apply
from .store import Trace, TraceError, TraceWriter, open_trace

__version__ = "0.1.0"

__all__ = ["Event", "State", "Trace", "TraceError", "TraceWriter", "__version__", "apply", "open_trace"]
