"""The one list of input formats, in the order they are asked: a scenario (by its name or first line, before
anything reads the input as text), a trace.dat (by its magic bytes), ftrace text (by its head), and the kernel
log, which reads anything. ``choose`` decides each input's format once."""

from __future__ import annotations

from collections.abc import Sequence

from .converter import LineConverter, WholeConverter
from .errors import ConvertError
from .ftrace import FtraceText
from .kernel_log import KernelLog
from .scenario import Scenario
from .sources import Probe
from .tracedat import TraceDat

CONVERTERS: tuple[LineConverter | WholeConverter, ...] = (Scenario(), TraceDat(), FtraceText(), KernelLog())


def choose(probes: Sequence[Probe], fmt: str) -> list[LineConverter | WholeConverter]:
    """The converter of each input: the first in ``CONVERTERS`` whose ``sniff`` accepts it. Each format is asked of
    every input still undecided before the next format is, so a scenario among several inputs is refused before
    any of them is read as text."""
    chosen: list[LineConverter | WholeConverter | None] = [None] * len(probes)
    for converter in CONVERTERS:
        for i, probe in enumerate(probes):
            if chosen[i] is None and converter.sniff(probe, fmt):
                chosen[i] = converter
                if converter.alone and len(probes) > 1:
                    raise ConvertError(f"a {converter.name} is converted on its own, not merged with other inputs")
    assert None not in chosen  # the kernel log reads anything
    return chosen  # type: ignore[return-value]
