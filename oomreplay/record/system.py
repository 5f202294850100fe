"""What ``oomreplay record`` changes on the machine, each piece able to undo itself: tracefs (mounted if it was
not), a private tracefs instance, a fresh memory cgroup (v1 or v2), and the kernel log read from ``/dev/kmsg``.

Each resource records what it created or changed and ``close()`` puts it back, whatever happened in between, so
``record`` can stack them in one ``ExitStack`` and be interrupted anywhere. A private instance
(``instances/oomreplay-<pid>``) has its own ring buffer, events, filters, clock and options: removing it undoes
every tracing setting we made, and the top-level tracer that someone else may be using is never touched.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


class RecordError(Exception):
    """Recording is impossible or failed: one line saying what is missing or what went wrong."""


def _write(path: Path, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def _mounts() -> list[tuple[str, str, list[str]]]:
    """``(mount point, fs type, options)`` of every mount."""
    out = []
    with open("/proc/mounts") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 4:
                out.append((parts[1].replace("\\040", " "), parts[2], parts[3].split(",")))
    return out


# -- tracefs ---------------------------------------------------------------------------------------------------


class Tracefs:
    """tracefs, mounted at ``/sys/kernel/tracing`` by us when it was mounted nowhere (unmounted again on close)."""

    def __init__(self) -> None:
        self.root: Path | None = None
        self.mounted_by_us = False

    def open(self) -> Path:
        for point, fstype, _ in _mounts():
            if fstype == "tracefs" and Path(point, "instances").is_dir():
                self.root = Path(point)
                return self.root
        with open("/proc/filesystems") as f:
            if not any(line.split()[-1:] == ["tracefs"] for line in f):
                raise RecordError("no tracefs: this kernel was built without tracing (CONFIG_TRACING)")
        target = Path("/sys/kernel/tracing")
        if not target.is_dir():
            raise RecordError(f"no tracefs: {target} does not exist to mount it on")
        done = subprocess.run(["mount", "-t", "tracefs", "nodev", str(target)], capture_output=True, text=True)
        if done.returncode != 0:
            raise RecordError(f"no tracefs: mounting it on {target} failed: {done.stderr.strip()}")
        self.root, self.mounted_by_us = target, True
        return target

    def close(self) -> None:
        if self.mounted_by_us and self.root is not None:
            subprocess.run(["umount", str(self.root)], capture_output=True)
            self.mounted_by_us = False


class Instance:
    """A private tracefs instance in flight-recorder mode: a large per-CPU ring buffer that overwrites its oldest
    data, read once after the incident, so the recording takes no memory or I/O while memory runs out."""

    def __init__(self, tracefs: Path, name: str) -> None:
        self.path = tracefs / "instances" / name
        self.enabled: list[str] = []
        self.missing: list[str] = []

    def create(self, buffer_kb: int) -> None:
        try:
            self.path.mkdir()
        except FileExistsError:
            raise RecordError(f"a tracefs instance {self.path} already exists (another recording?)") from None
        except OSError as e:
            raise RecordError(f"cannot create the tracefs instance {self.path}: {e.strerror}") from None
        _write(self.path / "tracing_on", "0")
        _write(self.path / "buffer_size_kb", str(buffer_kb))
        overwrite = self.path / "options" / "overwrite"
        if overwrite.exists():
            _write(overwrite, "1")

    def enable(self, events: list[str], filters: dict[str, str]) -> None:
        """Enable ``system`` or ``system/event`` entries; those this kernel lacks are listed in ``missing``."""
        for spec in events:
            d = self.path / "events" / spec
            if not (d / "enable").exists():
                self.missing.append(spec.replace("/", ":"))
                continue
            if spec in filters and (d / "filter").exists():
                _write(d / "filter", filters[spec])
            _write(d / "enable", "1")
            self.enabled.append(spec.replace("/", ":"))

    def start(self) -> None:
        _write(self.path / "trace", "")  # an empty ring
        _write(self.path / "tracing_on", "1")

    def mark(self, text: str) -> None:
        try:
            _write(self.path / "trace_marker", text)
        except OSError:
            pass  # a marker is a convenience, never a reason to fail

    def stop_and_read(self, out: Path) -> None:
        """Stop writing and copy the ring (the ``trace`` file, header included) to ``out``."""
        _write(self.path / "tracing_on", "0")
        with open(self.path / "trace", "rb") as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)

    def remove(self) -> None:
        """Remove the instance and with it every event enablement, filter and buffer of ours; retried while the
        kernel still holds it busy for a moment."""
        if not self.path.exists():
            return
        try:
            _write(self.path / "tracing_on", "0")
            _write(self.path / "set_event", "")
        except OSError:
            pass
        _rmdir_when_free(self.path, "the tracefs instance", tries=50, pause=0.1)


# -- the memory cgroup -------------------------------------------------------------------------------------------


@dataclass
class MemoryCgroup:
    """A fresh memory cgroup with a limit and no swap: v2 where the unified hierarchy has the memory controller,
    else the v1 memory hierarchy. Its tasks are killed and it is removed on close."""

    name: str
    limit: int
    path: Path | None = None
    version: int = 0
    enabled_controller: Path | None = field(default=None)  # a v2 subtree_control we turned memory on in

    def create(self) -> Path:
        v2, v1 = _memory_hierarchies()
        if v2 is None and v1 is None:
            raise RecordError("no memory controller: neither a cgroup v2 hierarchy with the memory controller nor "
                              "a cgroup v1 memory hierarchy is mounted (see /proc/mounts)")
        if v2 is not None:
            self.version, parent = 2, v2
            control = parent / "cgroup.subtree_control"
            if "memory" not in control.read_text().split():
                _write(control, "+memory")
                self.enabled_controller = control
        else:
            assert v1 is not None
            self.version, parent = 1, v1
        path = parent / self.name
        try:
            path.mkdir()
        except OSError as e:
            raise RecordError(f"cannot create the memory cgroup {path}: {e.strerror}") from None
        self.path = path
        if self.version == 2:
            _write(path / "memory.max", str(self.limit))
            if (path / "memory.swap.max").exists():
                _write(path / "memory.swap.max", "0")
        else:
            _write(path / "memory.limit_in_bytes", str(self.limit))
            if (path / "memory.swappiness").exists():
                _write(path / "memory.swappiness", "0")
        return path

    def procs_file(self) -> Path:
        assert self.path is not None
        return self.path / "cgroup.procs"

    def remove(self) -> None:
        """Kill whatever is still inside, wait for it to leave, remove the cgroup, turn back what we turned on."""
        if self.path is not None and self.path.exists():  # None: create() failed before the mkdir
            for _ in range(100):
                pids = [int(p) for p in self.procs_file().read_text().split()]
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                time.sleep(0.05)
            _rmdir_when_free(self.path, "the memory cgroup", tries=100, pause=0.05)
        if self.enabled_controller is not None:
            try:
                _write(self.enabled_controller, "-memory")
            except OSError:
                pass  # someone else now uses it: leaving it on harms nobody
            self.enabled_controller = None


def _memory_hierarchies() -> tuple[Path | None, Path | None]:
    """The cgroup v2 mount whose root offers the memory controller, and the v1 memory mount (each or None)."""
    v2 = v1 = None
    for point, fstype, options in _mounts():
        if fstype == "cgroup2" and v2 is None:
            controllers = Path(point, "cgroup.controllers")
            if controllers.exists() and "memory" in controllers.read_text().split():
                v2 = Path(point)
        elif fstype == "cgroup" and "memory" in options and v1 is None:
            v1 = Path(point)
    return v2, v1


def parse_size(text: str | int) -> int:
    """``64M``, ``64MiB``, ``1g``, ``65536`` (bytes) into bytes; raises ``RecordError`` on anything else."""
    if isinstance(text, int):
        return text
    s = text.strip().lower().removesuffix("ib").removesuffix("b")
    scale = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}.get(s[-1:], 1)
    digits = s[:-1] if s[-1:] in "kmg" else s
    try:
        value = int(float(digits) * scale)
    except ValueError:
        raise RecordError(f"--memory-limit {text!r}: not a size (examples: 64M, 512MiB, 1G)") from None
    if value < 1 << 20:
        raise RecordError(f"--memory-limit {text!r}: below 1 MiB, nothing could run in it")
    return value


# -- the kernel log ----------------------------------------------------------------------------------------------


class KernelLog:
    """The kernel log from now on: ``/dev/kmsg`` opened and moved to its end before recording starts, read to
    its end after; records are written as ``dmesg`` lines (``[sec.usec] text``), the format the converter and a
    reader both know. A record overwritten before it was read (EPIPE) is counted, not fatal."""

    def __init__(self) -> None:
        self.fd: int | None = None
        self.overwritten = 0

    def open(self) -> None:
        try:
            self.fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
        except OSError as e:
            raise RecordError(f"cannot read the kernel log: /dev/kmsg: {e.strerror}") from None
        os.lseek(self.fd, 0, os.SEEK_END)

    def save(self, out: Path) -> int:
        """Write the records since ``open`` to ``out``; returns how many."""
        n = 0
        with open(out, "w", encoding="utf-8") as f:
            while self.fd is not None:
                try:
                    rec = os.read(self.fd, 8192)
                except BlockingIOError:
                    break
                except BrokenPipeError:
                    self.overwritten += 1
                    continue
                if not rec:
                    break
                line = _dmesg_line(rec.decode("utf-8", "replace"))
                if line is not None:
                    f.write(line + "\n")
                    n += 1
        return n

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _dmesg_line(record: str) -> str | None:
    """``prio,seq,usec,flags;text`` (and dictionary lines after it) as ``[sec.usec] text``."""
    head, sep, rest = record.partition(";")
    fields = head.split(",")
    if not sep or len(fields) < 3 or not fields[2].isdigit():
        return None
    usec = int(fields[2])
    return f"[{usec // 1_000_000:5d}.{usec % 1_000_000:06d}] {rest.splitlines()[0] if rest else ''}"


def _rmdir_when_free(path: Path, what: str, tries: int, pause: float) -> None:
    """Remove a kernel directory (a tracefs instance, a cgroup), retrying while the kernel still holds it busy for a
    moment after its last user went; gone already is fine."""
    for _ in range(tries):
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as e:
            if e.errno != errno.EBUSY:
                raise RecordError(f"cannot remove {what} {path}: {e.strerror}") from None
            time.sleep(pause)
    raise RecordError(f"cannot remove {what} {path}: still busy")
