"""Explanations of an incident, computed from ``State`` and the public ``Trace`` API: no Textual, no file I/O
of their own, nothing rendered (the CLI lays the sentences out)."""

from .evidence import Evidence, cite
from .explain import TOPICS, Explanation, Finding, explain, to_json
from .invariants import RULES, Violation, check_all
from .kernel import Kernel, kernel_of
from .oom import OomCause, badness, oom_causes
from .reaper import Reaped, ReaperFailure, Suspect, mm_locks, reaped, unreaped, why_unreaped
from .waitfor import WaitEdge, WaitGraph, wait_graph

__all__ = ["RULES", "TOPICS", "Evidence", "Explanation", "Finding", "Kernel", "OomCause", "Reaped", "ReaperFailure",
           "Suspect", "Violation", "WaitEdge", "WaitGraph", "badness", "check_all", "cite", "explain", "kernel_of",
           "mm_locks", "oom_causes", "reaped", "to_json", "unreaped", "wait_graph", "why_unreaped"]
