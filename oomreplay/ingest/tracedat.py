"""A binary ``trace.dat`` (trace-cmd record / extract) read through ``trace-cmd report``.

The file format (versions 6 and 7, compressed sections, options, per-CPU pages and the event formats it carries) is
trace-cmd's own and changes with it; its report is the rendering every user already reads and the text parser
already knows (the native ftrace converter). So the binary is never parsed here: ``trace-cmd report`` renders it and its text is
streamed to the converter as any other input. Without trace-cmd the user is told in one line what to install or
what to give instead.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator

from .. import _native
from .converter import LineReader
from .errors import TraceDatError
from .logrun import LogRun
from .sources import Probe, chunks

#: a trace.dat starts with these bytes (trace-cmd's ``tracecmd_output`` header: 0x17 0x08 'D' "tracing")
MAGIC = b"\x17\x08Dtracing"


def is_trace_dat(head: bytes) -> bool:
    """Whether the first bytes of an input are those of a trace.dat."""
    return head.startswith(MAGIC)


def report_command(path: str, display: str) -> list[str]:
    """The command that renders ``path``; raises ``TraceDatError`` (naming ``display``) when trace-cmd is not
    installed."""
    exe = shutil.which("trace-cmd")
    if exe is None:
        raise TraceDatError(f"{display}: a trace-cmd trace.dat; rendering it needs trace-cmd, which is not installed "
                            "(apt-get install trace-cmd), or convert its `trace-cmd report` text instead")
    return [exe, "report", "-i", path]


def rendered(probe: Probe) -> Iterator[bytes]:
    """The text ``trace-cmd report`` renders of the trace.dat ``probe`` (stdin is spooled to a temporary file
    first, trace-cmd needs to seek), a read at a time."""
    name, display = probe.path, probe.display
    with tempfile.TemporaryDirectory(prefix="oomreplay-dat-") as tmp:
        path = name
        if name == "-":
            path = f"{tmp}/stdin.dat"
            with open(path, "wb") as f:
                shutil.copyfileobj(probe.stream, f)
        cmd = report_command(path, display)
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err)
            rendered_any = False
            try:
                assert proc.stdout is not None
                for chunk in chunks(proc.stdout, display, "trace-cmd report"):
                    rendered_any = True
                    yield chunk
                status = proc.wait()
            finally:
                if proc.poll() is None:  # the reader stopped early: do not leave trace-cmd behind
                    proc.kill()
                    proc.wait()
                proc.stdout.close()  # type: ignore[union-attr]
            if status != 0 or not rendered_any:  # trace-cmd renders a truncated file as nothing, and exits 0
                err.seek(0)
                said = [line for line in err.read().decode("utf-8", "replace").splitlines() if line.strip()]
                why = said[-1].strip() if said else f"exit status {status}" if status else "it rendered no line"
                raise TraceDatError(f"{display}: trace-cmd report failed ({why}): a damaged or truncated trace.dat?")


class TraceDat:
    """The registry's trace.dat: known by its magic bytes, read as the ftrace text trace-cmd renders from it (as
    a kernel log with a prefix style, when ``--format`` names one, as any text then is)."""

    name = "trace.dat"
    alone = False

    def sniff(self, probe: Probe, fmt: str) -> bool:
        return is_trace_dat(probe.raw)

    def chunks(self, probe: Probe) -> Iterator[bytes]:
        return rendered(probe)

    def reader(self, file_id: int, fmt: str) -> LineReader:
        return _native.FtraceReader(file_id) if fmt == "auto" else _native.LogReader(file_id, fmt, LogRun)
