"""A row's wall clock and day, from what its file tells.

An event's ``ts_ns`` is the converter's: the printk stamp when the log has them, else the wall clock of its
prefix. For the day partitions and the ``time`` column the wall clock is wanted: it is ``ts_ns`` itself for a wall-
clocked log; for a printk-stamped one with syslog prefixes (``kern.log``) it is ``ts_ns`` plus the offset between
the two stamps of its first line that has both (one boot: a reboot inside the file moves the offset, which this
does not follow); a dmesg capture has none, and its rows take the day of the file's modification time.

A BSD syslog stamp has no year: the converter counts from 2000 (adding one at each turn of the year), and here the
years are moved so that the file's last row is no later than a day after the file was last written.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ..ingest.prefix import split_prefix

#: how far into a file's head a line with a wall-clock prefix is looked for
HEAD_LINES = 200
_EPOCH = datetime(1970, 1, 1)


def _naive(ns: int) -> datetime | None:
    try:
        return _EPOCH + timedelta(microseconds=ns // 1000)
    except OverflowError:
        return None


def _with_year(dt: datetime, year: int) -> datetime | None:
    try:
        return dt.replace(year=year)
    except ValueError:  # 29 February in a year without one
        try:
            return dt.replace(year=year, day=28)
        except ValueError:
            return None


class WallClock:
    """The wall clock of one file's rows (``clock``: the converter's, ``head``: its first lines)."""

    def __init__(self, clock: str | None, head: list[str], mtime_ns: int, fmt: str = "auto") -> None:
        self.offset: int | None = None  # ns to add to ts_ns
        self.yearless = False
        self.mtime = datetime.fromtimestamp(mtime_ns / 1e9, timezone.utc).replace(tzinfo=None)
        for line in head[:HEAD_LINES]:
            p = split_prefix(line, fmt)
            if clock == "wall" and p.wall_ns is not None:
                self.offset, self.yearless = 0, p.yearless
                break
            if clock == "printk" and p.wall_ns is not None and p.mono_ns is not None:
                self.offset, self.yearless = p.wall_ns - p.mono_ns, p.yearless
                break

    def times(self, ts: list[int]) -> list[datetime | None]:
        """The wall clock of each of ``ts`` (None where unknown)."""
        if self.offset is None or not ts:
            return [None] * len(ts)
        out = [_naive(t + self.offset) for t in ts]
        if not self.yearless:
            return out
        last = max((d for d in out if d is not None), default=None)
        if last is None:
            return out
        year = self.mtime.year
        moved = _with_year(last, year)
        if moved is not None and moved > self.mtime + timedelta(days=1):
            year -= 1
        shift = year - last.year
        return [None if d is None else _with_year(d, d.year + shift) for d in out]

    def days(self, times: list[datetime | None]) -> list[str]:
        """``YYYY-MM-DD`` of each time; the file's modification day where the time is unknown."""
        fallback = self.mtime.strftime("%Y-%m-%d")
        return [fallback if t is None else t.strftime("%Y-%m-%d") for t in times]
