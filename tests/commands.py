"""Running ``oomreplay`` as a user does: a real process, its exit status, stdout and stderr."""

from __future__ import annotations

import subprocess
import sys
from typing import Any


def cli(*args: str, timeout: float = 300, **kw: Any) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "oomreplay", *args], capture_output=True, text=True,
                          timeout=timeout, **kw)
