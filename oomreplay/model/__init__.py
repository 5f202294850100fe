"""The event vocabulary, the machine state and the one function that moves between them: the Python face of the
native core's model.

Knows no file format and imports nothing from the store, the ingest parsers or the TUI.
"""

from .apply import apply, apply_fields
from .events import KIND_IDS, KIND_NAMES, KINDS, Event, Src
from .flags import MAX_OOM_REAP_RETRIES, flag_target
from .state import (TABLES, Anomaly, Holder, Lock, Memcg, MemInfo, Mm, OomInvocation, State, Table, Task, Victim, Zone,
                    reaper_status, attempts_text)

__all__ = [
    "KINDS", "KIND_IDS", "KIND_NAMES", "MAX_OOM_REAP_RETRIES", "TABLES", "Anomaly", "Event", "Holder", "Lock",
    "Memcg", "MemInfo", "Mm", "OomInvocation", "Src", "State", "Table", "Task", "Victim", "Zone", "apply",
    "apply_fields", "flag_target", "reaper_status", "attempts_text",
]
