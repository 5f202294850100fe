"""Explanations of an incident, computed from ``State`` and the public ``Trace`` API: no Textual, no file I/O
of their own, nothing rendered (the CLI lays the sentences out) beyond the notations every view shares: who is
involved, how a holding is marked, where evidence comes from."""

from .evidence import Evidence, cite, source_of
from .explain import TOPICS, Explanation, Finding, explain, to_json
from .invariants import RULES, Violation, check_all
from .involved import involved_pids, other_involved, task_is_involved
from .kernel import Kernel, kernel_of
from .oom import OomCause, badness, oom_causes
from .reaper import Reaped, ReaperFailure, Suspect, mm_locks, reaped, unreaped, why_unreaped
from .waitfor import WaitEdge, WaitGraph, holding_mark, wait_graph

__all__ = ["RULES", "TOPICS", "Evidence", "Explanation", "Finding", "Kernel", "OomCause", "Reaped", "ReaperFailure",
           "Suspect", "Violation", "WaitEdge", "WaitGraph", "badness", "check_all", "cite", "explain", "holding_mark",
           "involved_pids", "kernel_of", "mm_locks", "oom_causes", "other_involved", "reaped", "source_of",
           "task_is_involved", "to_json", "unreaped", "wait_graph", "why_unreaped"]
