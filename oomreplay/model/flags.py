"""Kernel constants the model needs: which flags live on a task and which on an mm, and the reaper's patience.

The meaning of each flag, per kernel version, is in shared/research/kernel-formats.md §6; the glossary that shows
it to users lives with the views. Both are the core's, so apply and the converters agree.
"""

from __future__ import annotations

from .._native import MAX_OOM_REAP_RETRIES, flag_target

__all__ = ["MAX_OOM_REAP_RETRIES", "flag_target"]
