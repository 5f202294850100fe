"""``oomreplay record`` on this machine: a real OOM in a 64 MiB memory cgroup, recorded through a private tracefs
instance and the kernel log, converted, and read back with the public API; then nothing of ours is left behind
(no instance, no enabled event, no cgroup, tracefs mounted as before), on success, on error and on Ctrl-C.
Skipped with the reason where the machine cannot record (not root, no tracefs, no memory controller)."""

from __future__ import annotations

import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from oomreplay import open_trace
from oomreplay.record import RecordError, record
from oomreplay.record import system as record_sys

ALLOC = "a = []\nwhile True:\n    a.append(bytearray(1 << 20))\n"


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "recording needs root"
    with open("/proc/filesystems") as f:
        if "tracefs" not in f.read():
            return "this kernel has no tracefs"
    if record_sys._memory_hierarchies() == (None, None):
        return "no memory cgroup controller is mounted"
    return None


needs_recording = pytest.mark.skipif(_why_not() is not None, reason=_why_not() or "")


def _tracing(state: dict[str, object]) -> None:
    """The tracefs instances and top-level event enablement, read through a private mount of our own when tracefs
    is mounted nowhere (its instances outlive any mount, so an unmounted tracefs can still hide one of ours)."""
    with tempfile.TemporaryDirectory() as point:
        if subprocess.run(["mount", "-t", "tracefs", "nodev", point], capture_output=True).returncode != 0:
            return
        try:
            root = Path(point)
            state["instances"] = sorted(p.name for p in (root / "instances").iterdir())
            state["set_event"] = (root / "set_event").read_text()
        finally:
            subprocess.run(["umount", point], capture_output=True)


def _ours() -> dict[str, object]:
    """Everything record may touch: mounts, tracefs instances and top-level events, cgroups named oomreplay-*."""
    mounts = sorted((p, t) for p, t, _ in record_sys._mounts() if t in ("tracefs", "cgroup", "cgroup2"))
    state: dict[str, object] = {"mounts": mounts}
    _tracing(state)
    for point, fstype, _ in record_sys._mounts():
        if fstype in ("cgroup", "cgroup2"):
            state[point] = sorted(p.name for p in Path(point).glob("oomreplay-*"))
            control = Path(point, "cgroup.subtree_control")
            if control.exists():
                state[point + ":control"] = control.read_text()
    return state


@pytest.fixture
def nothing_left():
    before = _ours()
    yield
    after = _ours()
    assert after == before
    assert "instances" in after  # the check saw tracefs
    assert not [k for k, v in after.items() if isinstance(v, list) and any("oomreplay-" in str(x) for x in v)]


@needs_recording
def test_records_a_memcg_oom(tmp_path: Path, nothing_left):
    out = tmp_path / "rec.oomtrace"
    report = record(out, [sys.executable, "-c", ALLOC], memory_limit="64M", keep=tmp_path / "raw")
    assert report.status == -signal.SIGKILL and not report.interrupted
    assert (tmp_path / "raw" / "ftrace.txt").stat().st_size > 0
    with open_trace(out) as trace:
        kills = list(trace.events(kind="oom_kill"))
        assert len(kills) == 1  # seen by mark_victim and by the kernel log, kept once
        victim = kills[0].pid
        assert [e.pid for e in trace.events(kind="task_exit") if e.pid == victim]
        assert any(e.get("flag") == "TIF_MEMDIE" for e in trace.events(kind="flag_set", pid=victim))
        assert trace.meta.get("clock_offsets")  # the log and the recording were aligned
        assert trace.meta.get("kernel") == platform.release()  # recorded on the running kernel, not unknown


def _loop_and_blkio(tmp_path: Path) -> tuple[str, Path] | str:
    """A loop device and a blkio cgroup throttling writes to it (the victim's writer sleeps in D), or why not."""
    if shutil.which("losetup") is None:
        return "no losetup"
    blkio = next((Path(p) for p, t, o in record_sys._mounts() if t == "cgroup" and "blkio" in o), None)
    if blkio is None:
        return "no cgroup v1 blkio hierarchy to throttle the victim's writes"
    backing = tmp_path / "disk.img"
    with open(backing, "wb") as f:
        f.truncate(8 << 20)
    done = subprocess.run(["losetup", "-f", "--show", str(backing)], capture_output=True, text=True)
    if done.returncode != 0:
        return f"no loop device: {done.stderr.strip()}"
    return done.stdout.strip(), blkio


# the victim: one thread in a throttled O_DIRECT write (state D, the process cannot exit), the main one allocating
DIO_VICTIM = """
import mmap, os, sys, threading, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_DIRECT)
buf = mmap.mmap(-1, 40960)
buf.write(b"x" * 40960)
threading.Thread(target=os.write, args=(fd, buf), daemon=True).start()
time.sleep(0.5)
a = []
while True:
    a.append(bytearray(1 << 20))
"""


@needs_recording
def test_records_the_reapers_outcome(tmp_path: Path, nothing_left):
    setup = _loop_and_blkio(tmp_path)
    if isinstance(setup, str):
        pytest.skip(setup)
    device, blkio = setup
    group = blkio / f"oomreplay-test-{os.getpid()}"
    try:
        group.mkdir()
        rdev = os.stat(device).st_rdev
        (group / "blkio.throttle.write_bps_device").write_text(f"{os.major(rdev)}:{os.minor(rdev)} 8192")
        script = tmp_path / "victim.py"
        script.write_text(DIO_VICTIM)
        command = ["sh", "-c", f'echo $$ > {group}/cgroup.procs && exec "$0" "$@"', sys.executable, str(script),
                   device]
        out = tmp_path / "rec.oomtrace"
        record(out, command, memory_limit="64M", profile="full")
        with open_trace(out) as trace:
            kills = list(trace.events(kind="oom_kill"))
            assert len(kills) == 1
            victim = kills[0].pid
            done = list(trace.events(kind="reaper_done", pid=victim))
            assert [e.get("outcome") for e in done] == ["reaped"]
            attempts = list(trace.events(kind="reaper_attempt", pid=victim))
            assert attempts and attempts[-1].get("outcome") == "reaped"
            assert kills[0].seq < done[0].seq
    finally:
        subprocess.run(["losetup", "-d", device], capture_output=True)
        for _ in range(100):
            try:
                group.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.1)


@needs_recording
def test_a_command_that_does_not_exist_leaves_nothing(tmp_path: Path, nothing_left):
    with pytest.raises(RecordError, match="no-such-command-xyz: command not found"):
        record(tmp_path / "rec.oomtrace", ["no-such-command-xyz"], memory_limit="64M")
    assert not (tmp_path / "rec.oomtrace").exists()


def _runs_sleep(procs: Path) -> bool:
    """Whether a process of the cgroup whose ``cgroup.procs`` this is runs ``sleep``."""
    try:
        pids = procs.read_text().split()
    except OSError:
        return False
    for pid in pids:
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == "sleep":
                return True
        except OSError:
            continue
    return False


@needs_recording
def test_ctrl_c_stops_cleans_up_and_converts(tmp_path: Path, nothing_left):
    out = tmp_path / "rec.oomtrace"
    code = ("import sys; from oomreplay.record import record\n"
            f"r = record({str(out)!r}, ['sleep', '60'], memory_limit='64M')\n"
            "print('interrupted' if r.interrupted else 'ran out', r.status)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        cgroups = [Path(p) for p, t, o in record_sys._mounts() if (t == "cgroup" and "memory" in o) or t == "cgroup2"]
        deadline = time.monotonic() + 20
        # the command is in the recorder's cgroup and has become `sleep` (exec'd, so the recorder's Popen has
        # returned and it holds the command): only then is Ctrl-C the interruption of a running command
        while not any(_runs_sleep(c / f"oomreplay-{proc.pid}" / "cgroup.procs") for c in cgroups):
            assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.05)
        time.sleep(0.2)  # Popen returns just after the exec: leave it that long
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert stdout.split() == ["interrupted", str(-signal.SIGKILL)]
    with open_trace(out) as trace:
        assert len(trace) > 0


@needs_recording
def test_records_for_a_duration_without_command(tmp_path: Path, nothing_left):
    out = tmp_path / "rec.oomtrace"
    report = record(out, duration=0.5, settle=0, profile="full")
    assert report.status is None and not report.interrupted
    assert "oom" in report.enabled and "sched:sched_switch" in report.enabled
    with open_trace(out) as trace:
        assert trace.sources  # the ring's text is stored, whatever it held


def test_not_root_says_so(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(RecordError, match="needs root"):
        record(tmp_path / "x.oomtrace", ["true"])


def test_no_memory_controller_says_so(monkeypatch):
    monkeypatch.setattr(record_sys, "_mounts", lambda: [("/sys/fs/cgroup/cpu", "cgroup", ["rw", "cpu"])])
    with pytest.raises(RecordError, match="no memory controller"):
        record_sys.MemoryCgroup("oomreplay-never", 64 << 20).create()


@pytest.mark.parametrize("text, size", [("64M", 64 << 20), ("64MiB", 64 << 20), ("1g", 1 << 30),
                                        ("1048576", 1 << 20)])
def test_sizes(text: str, size: int):
    assert record_sys.parse_size(text) == size


@pytest.mark.parametrize("text", ["lots", "12k", ""])
def test_bad_sizes_are_one_line(text: str):
    with pytest.raises(RecordError, match="--memory-limit"):
        record_sys.parse_size(text)


def test_kmsg_records_become_dmesg_lines():
    assert record_sys._dmesg_line("6,1234,12636536056,-;Memory cgroup out of memory: Killed process 5\n"
                                  " SUBSYSTEM=x\n") == "[12636.536056] Memory cgroup out of memory: Killed process 5"
    assert record_sys._dmesg_line("garbage") is None
