"""Recording a real OOM on this machine: tracefs and the kernel log around a command in a memory cgroup, every
setting put back afterwards, the recording handed to ``ingest`` to convert (nothing is parsed here).

``record(out, command, …)`` is the Python face of ``oomreplay record``; ``system`` holds what it changes on the
machine, each piece able to undo itself.
"""

from .recorder import PROFILES, RecordReport, record
from .system import RecordError

__all__ = ["PROFILES", "RecordError", "RecordReport", "record"]
