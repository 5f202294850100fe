"""Each line-prefix style on its own, and the clock the converter derives from them."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from oomreplay.ingest import split_prefix

from .readers import read_log

KILL = "Out of memory: Killed process 3163 (a.out) total-vm:4268108kB, anon-rss:2754236kB"
STAMP = 493_791_708_000


def _epoch_ns(*args: int) -> int:
    return int(datetime(*args, tzinfo=timezone.utc).timestamp()) * 1_000_000_000


@pytest.mark.parametrize("line, mono", [
    (f"[  493.791708] {KILL}", STAMP),                                # dmesg
    (f"[493.791708] {KILL}", STAMP),                                  # stamp without padding
    (f"<3>[  493.791708] {KILL}", STAMP),                             # dmesg -r / kmsg level
    (f"[  493.791708][ T3163] {KILL}", STAMP),                       # CONFIG_PRINTK_CALLER
    (f"[  493.791708] [    C1] {KILL}", STAMP),
    (f"3,1234,493791708,-;{KILL}", STAMP),                           # /dev/kmsg record
    (f"[  493.791708] host kernel: {KILL}", STAMP),                  # journalctl -o short-monotonic
    (f"Jun 18 07:44:52 host kernel: [  493.791708] {KILL}", STAMP),  # syslog keeping the printk stamp
    (f"> [  493.791708] {KILL}", STAMP),                              # quoted in a mail
    (f">> > [  493.791708] {KILL}", STAMP),
    (f"  12 [  493.791708] {KILL}", STAMP),                           # line-numbered paste
    (f"12: [  493.791708] {KILL}", STAMP),
    (f"kernel: {KILL}", None),                                        # journalctl -o cat with identifier
    (KILL, None),                                                     # no prefix at all
])
def test_prefix_styles_give_the_message(line: str, mono: int | None):
    p = split_prefix(line)
    assert p.text == KILL and p.mono_ns == mono and p.kernel


@pytest.mark.parametrize("line, wall", [
    (f"[Thu Apr  2 15:52:54 2020] {KILL}", _epoch_ns(2020, 4, 2, 15, 52, 54)),           # dmesg -T
    (f"Apr  2 15:52:54 host kernel: {KILL}", _epoch_ns(2000, 4, 2, 15, 52, 54)),         # BSD syslog / short
    (f"Apr 02 15:52:54.250000 host kernel: {KILL}", _epoch_ns(2000, 4, 2, 15, 52, 54) + 250_000_000),
    (f"Mär  2 15:52:54 host kernel: {KILL}", _epoch_ns(2000, 3, 2, 15, 52, 54)),         # German month
    (f"2020-04-02T15:52:54+0200 host kernel: {KILL}", _epoch_ns(2020, 4, 2, 13, 52, 54)),  # short-iso
    (f"2020-04-02T15:52:54.5Z host kernel: {KILL}", _epoch_ns(2020, 4, 2, 15, 52, 54) + 500_000_000),
])
def test_wall_clock_prefixes(line: str, wall: int):
    p = split_prefix(line)
    assert p.text == KILL and p.wall_ns == wall and p.mono_ns is None and p.kernel


def test_journal_json_record():
    p = split_prefix('{"MESSAGE": "' + KILL + '", "_TRANSPORT": "kernel", "__MONOTONIC_TIMESTAMP": "493791708"}')
    assert p.text == KILL and p.mono_ns == STAMP and p.kernel


def test_userspace_lines_are_not_kernel_text():
    for line in ("Dec 11 10:48:08 host dockerd: Killed process 1 (x) total-vm:1kB",
                 "Nov 12 12:29:23 alien kernel[19202]: Start for oom-killer",
                 "10-24 14:24:26.035  1310  3312 I WifiHAL : event received"):
        assert not split_prefix(line).kernel


def test_forced_format_only_strips_its_own_prefix():
    assert split_prefix(f"[  493.791708] {KILL}", "plain").text == f"[  493.791708] {KILL}"
    assert split_prefix(f"[  493.791708] {KILL}", "dmesg").text == KILL


def test_task_table_rows_and_brackets_are_not_stamps():
    for text in ("[ 1905]     0  1905     3236     1714      10       4        0             0 systemd-journal",
                 "[main] 31727 iterations. [F:23666 S:7901 HI:2077]", "[dledford@aic-cvs dledford]$ more kill-list"):
        assert split_prefix(text) == (text, None, None, True, False)


def _times(lines: list[str]) -> list[int]:
    return [ev.ts_ns for ev in read_log(lines)[0]]


def test_unstamped_lines_inherit_and_backward_stamps_are_clamped():
    ts = _times(["LTP harness line", "[    2.000000] a", " continuation", "[    1.500000] earlier", "[    3.0] b"])
    assert ts == [0, 2_000_000_000, 2_000_000_000, 2_000_000_000, 3_000_000_000]


def test_printk_clock_wins_over_syslog_wall_time():
    ts = _times(["Mar 14 14:31:20 h kernel: [  5.000000] x", "Mar 14 14:31:22 h kernel: lowmem_reserve[]: 0 1 1"])
    assert ts == [5_000_000_000, 5_000_000_000]


def test_syslog_year_rolls_over_new_year():
    ts = _times(["Dec 31 23:59:59 h kernel: a", "Jan  1 00:00:01 h kernel: b"])
    assert ts[1] - ts[0] == 2_000_000_000
