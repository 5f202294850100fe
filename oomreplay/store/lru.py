"""The reader's caches: small, bounded, thread-safe LRUs of decoded blocks, pages and states."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any


class LRU:
    """A small thread-safe LRU: the TUI reads from worker threads while the CLI reads from one."""

    def __init__(self, capacity: int) -> None:
        self._d: OrderedDict = OrderedDict()
        self._cap = capacity
        self._lock = threading.Lock()

    def get(self, key: Any, load: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._d:
                self._d.move_to_end(key)
                return self._d[key]
        value = load()
        self.put(key, value)
        return value

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._d[key] = value
            self._d.move_to_end(key)
            if len(self._d) > self._cap:
                self._d.popitem(last=False)
