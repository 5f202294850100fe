"""``oomreplay record``: record a real OOM incident and convert it, in one command (recording.md §11).

As root: tracefs is mounted if it is not; a private instance (``instances/oomreplay-<pid>``) records the profile's
tracepoints in flight-recorder mode (the kernel's pre-allocated ring, overwriting its oldest data, read only after
the incident: recording competes for no memory and does no I/O while memory runs out); the kernel log is read from
``/dev/kmsg`` from the moment recording starts; COMMAND runs, inside a fresh memory cgroup when a limit is given;
recording goes on ``settle`` seconds (3 s: the reaper's timer is 2 s) after COMMAND ends, so a kill's reaper
outcome is in the ring; then the ring and the log are saved and merged into one trace with ``convert``.

Everything created or changed is undone in ``finally`` blocks, on success, error, Ctrl-C or SIGTERM alike: the
instance (and with it every event, filter and buffer setting of ours), the cgroup (its tasks killed first),
tracefs if we mounted it, the signal handlers. A second Ctrl-C during the cleanup is held until it is done.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from ..ingest import ConvertError, ConvertReport, convert
from .system import Instance, KernelLog, MemoryCgroup, RecordError, Tracefs, parse_size

_MINIMAL = ["oom", "sched/sched_process_fork", "sched/sched_process_exit", "sched/sched_process_free",
            "signal/signal_generate"]
_FULL = _MINIMAL + ["mmap_lock", "sched/sched_switch", "kmem/rss_stat", "vmscan/mm_vmscan_direct_reclaim_begin",
                    "vmscan/mm_vmscan_direct_reclaim_end", "vmscan/mm_vmscan_memcg_reclaim_begin",
                    "vmscan/mm_vmscan_memcg_reclaim_end", "printk/console"]
#: the tracepoints of each profile (``system`` or ``system/event``, as under ``events/``)
PROFILES: dict[str, list[str]] = {"minimal": _MINIMAL, "full": _FULL, "lockdep": _FULL + ["lock"]}
#: per-CPU ring size (KiB) per profile: the full profiles' events (rss_stat, sched_switch) come by the thousand
BUFFER_KB = {"minimal": 8192, "full": 65536, "lockdep": 131072}
#: only the SIGKILLs matter; the other signals would fill the ring
_FILTERS = {"signal/signal_generate": "sig == 9"}


@dataclass
class RecordReport:
    """What ``record`` did: the conversion's report, the events this kernel lacks, COMMAND's exit status."""

    output: str
    convert: ConvertReport | None = None
    enabled: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    status: int | None = None          # COMMAND's exit status (negative: killed by that signal), None: no COMMAND
    interrupted: bool = False          # stopped by Ctrl-C / SIGTERM
    warnings: list[str] = field(default_factory=list)


class _Stop(Exception):
    """Ctrl-C or SIGTERM: stop recording, clean up, convert what was recorded."""


@contextmanager
def _signals() -> Iterator[Callable[[], None]]:
    """SIGINT and SIGTERM raise ``_Stop`` while recording; the function yielded holds them (remembered, not
    acted on) for the cleanup; the old handlers come back at the end."""
    pending: list[int] = []

    def stop(signum: int, frame: FrameType | None) -> None:
        raise _Stop(signum)

    def hold_handler(signum: int, frame: FrameType | None) -> None:
        pending.append(signum)

    old = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}

    def hold() -> None:
        for s in old:
            signal.signal(s, hold_handler)

    try:
        yield hold
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def record(output: str | os.PathLike[str], command: Sequence[str] = (), *, profile: str = "minimal",
           memory_limit: str | int | None = None, duration: float | None = None, settle: float = 3.0,
           buffer_kb: int | None = None, keep: str | os.PathLike[str] | None = None,
           say: Callable[[str], None] | None = None) -> RecordReport:
    """Record an incident into the trace ``output``; raises ``RecordError`` (one line) when it cannot.

    ``command``: what to run (empty: record until ``duration`` runs out, or Ctrl-C); ``memory_limit`` (``64M``,
    bytes): run it in a fresh memory cgroup with that limit; ``duration``: stop after that many seconds (COMMAND
    is killed); ``settle``: seconds to go on recording after COMMAND ends (≥ 3 for the reaper); ``keep``: a
    directory to keep the raw ``dmesg.txt`` and ``ftrace.txt`` in; ``say``: progress lines (the CLI prints them
    on stderr)."""
    if profile not in PROFILES:
        raise RecordError(f"unknown profile {profile!r}; profiles are: {', '.join(PROFILES)}")
    limit = parse_size(memory_limit) if memory_limit is not None else None
    if memory_limit is not None and not command:
        raise RecordError("--memory-limit needs a COMMAND to run inside the cgroup")
    if os.geteuid() != 0:
        raise RecordError("oomreplay record needs root: tracefs, /dev/kmsg and cgroups are root's (run it with sudo)")
    tell = say or (lambda _: None)
    report = RecordReport(str(output))
    name = f"oomreplay-{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="oomreplay-record-") as tmp:
        where = Path(keep) if keep is not None else Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        dmesg, ftrace = where / "dmesg.txt", where / "ftrace.txt"
        with _signals() as hold:
            try:
                _record(report, name, list(command), profile, limit, duration, settle,
                        buffer_kb or BUFFER_KB[profile], dmesg, ftrace, tell, hold)
            except _Stop:  # before recording started: the cleanup ran, there is nothing to convert
                report.interrupted = True
        if not ftrace.exists():
            raise RecordError("interrupted before recording started; nothing recorded, nothing left behind")
        tell(f"converting {dmesg.name} and {ftrace.name} into {output}")
        inputs = [str(dmesg), str(ftrace)] if dmesg.stat().st_size else [str(ftrace)]
        try:
            report.convert = convert(inputs, output)
        except ConvertError as e:
            raise RecordError(f"recorded, but the conversion failed: {e}") from None
    if report.missing:
        report.warnings.append(f"not on this kernel, not recorded: {', '.join(report.missing)}")
    return report


def _record(report: RecordReport, name: str, command: list[str], profile: str, limit: int | None,
            duration: float | None, settle: float, buffer_kb: int, dmesg: Path, ftrace: Path,
            tell: Callable[[str], None], hold: Callable[[], None]) -> None:
    """Set up, run, save. Each resource's undo is registered before it is made (so a half-made one is undone
    too) and the ExitStack undoes them last-made-first after saving the recording; the signals are held from
    the moment the unwinding starts, so a second Ctrl-C cannot cut the cleanup short."""
    with ExitStack() as stack:
        try:
            tracefs = Tracefs()
            stack.callback(tracefs.close)
            root = tracefs.open()
            if not (root / "instances").is_dir():
                raise RecordError(f"no tracefs instances: {root}/instances is missing (kernel older than 3.10?)")
            if not (root / "events" / "oom").is_dir():
                raise RecordError(f"no oom tracepoints: {root}/events/oom is missing (kernel older than 4.6?)")
            cgroup = None
            if limit is not None:
                cgroup = MemoryCgroup(name, limit)
                stack.callback(cgroup.remove)
                cgroup.create()
            klog = KernelLog()
            stack.callback(klog.close)
            klog.open()
            instance = Instance(root, name)
            stack.callback(instance.remove)
            instance.create(buffer_kb)
            instance.enable(PROFILES[profile], _FILTERS)
            report.enabled, report.missing = instance.enabled, instance.missing
            stack.callback(_save, instance, klog, ftrace, dmesg, report, tell)
            instance.start()
            instance.mark(f"oomreplay-record start pid={os.getpid()}")
            tell(f"recording {profile} ({len(instance.enabled)} event groups) into {instance.path}")
            try:
                _run(report, command, cgroup, duration, tell)
                if settle > 0:
                    tell(f"waiting {settle:g} s for the OOM reaper")
                    time.sleep(settle)
            except _Stop:
                report.interrupted = True
                tell("interrupted: saving what was recorded and cleaning up")
        finally:
            hold()


def _save(instance: Instance, klog: KernelLog, ftrace: Path, dmesg: Path, report: RecordReport,
          tell: Callable[[str], None]) -> None:
    instance.mark(f"oomreplay-record end pid={os.getpid()}")
    instance.stop_and_read(ftrace)
    klog.save(dmesg)
    if klog.overwritten:
        report.warnings.append(f"the kernel log overwrote {klog.overwritten} record(s) before they were read")


def _run(report: RecordReport, command: list[str], cgroup: MemoryCgroup | None, duration: float | None,
         tell: Callable[[str], None]) -> None:
    """Run COMMAND to its end (its status in ``report``), or record for ``duration`` or until Ctrl-C."""
    deadline = None if duration is None else time.monotonic() + duration
    if not command:
        tell("recording; press Ctrl-C to stop" if deadline is None else f"recording for {duration:g} s")
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.1 if deadline is None else min(0.1, max(0.0, deadline - time.monotonic())))
        return
    procs = cgroup.procs_file() if cgroup is not None else None

    def enter() -> None:  # in the child, before exec: into the cgroup, so every allocation is charged there
        if procs is not None:
            with open(procs, "w") as f:
                f.write("0")

    try:
        proc = subprocess.Popen(command, preexec_fn=enter, start_new_session=True)  # noqa: PLW1509
    except FileNotFoundError:
        raise RecordError(f"{command[0]}: command not found") from None
    except PermissionError:
        raise RecordError(f"{command[0]}: permission denied") from None
    except subprocess.SubprocessError as e:
        raise RecordError(f"{command[0]}: could not be started: {e}") from None
    try:
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            report.status = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            tell(f"{duration:g} s elapsed: stopping {command[0]}")
            report.status = _kill(proc)
    finally:
        if proc.poll() is None:  # interrupted: COMMAND does not outlive the recording
            report.status = _kill(proc)


def _kill(proc: subprocess.Popen[bytes]) -> int:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return proc.wait()
