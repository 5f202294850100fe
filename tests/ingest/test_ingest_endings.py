"""OOM invocations that end without a kill (no killable process, panics) and the Mem-Info summary: every variant of
kernel-formats.md §1.8 and §2.2 through the native log reader, what ``apply`` makes of them, and the corpus logs that
print them."""

from __future__ import annotations

import re

import pytest

from oomreplay import open_trace
from oomreplay.analysis.explain import explain
from oomreplay.ingest import LogReader, convert
from oomreplay.model import Event, State, apply
from oomreplay.model.events import KINDS

from ..conftest import CORPUS
from .readers import read_log

LOGS = CORPUS / "logs"
needs_corpus = pytest.mark.skipif(not LOGS.is_dir(), reason=f"the shared corpus is not at {LOGS}")


def run(*lines: str) -> tuple[list[Event], LogReader]:
    return read_log(lines)


def replay(events: list[Event]) -> State:
    state = State()
    for seq, ev in enumerate(events):
        ev.seq = seq
        state = apply(state, ev)
    return state


def of(events: list[Event], kind: str) -> list[Event]:
    return [e for e in events if e.kind == kind]


HEADER = ("[ 5.0] oom02:4585 invoked oom-killer: gfp_mask=0x16080c0(GFP_KERNEL|__GFP_ZERO), nodemask=1,  order=0, "
          "oom_score_adj=0")


# -- OOM endings -------------------------------------------------------------------------------------------------

def test_4_15_panic_with_no_killable_process_ends_the_current_invocation():
    evs, conv = run(HEADER, "[ 5.1] Kernel panic - not syncing: Out of memory and no killable processes...")
    (end,) = of(evs, "oom_end")
    assert (end.pid, end.fields, end.src.line) == (4585, {"outcome": "panic", "reason": "no_killable"}, 2)
    assert conv.unparsed == []
    inv = replay(evs).last_oom()
    assert (inv.invoker, inv.outcome, inv.reason, inv.victims) == (4585, "panic", "no_killable", ())


def test_an_ending_after_an_invocation_that_killed_is_a_new_invocation():
    """An OOM that ended with its kill is over: a later panic whose report the log lost is another OOM, by the
    task its CPU line names, never an ending of the first one."""
    evs, _ = run(HEADER, "[ 5.1] Killed process 9 (a) total-vm:8kB, anon-rss:4kB, file-rss:0kB, shmem-rss:0kB",
                 "[ 900.0] Kernel panic - not syncing: Out of memory: system-wide panic_on_oom is enabled",
                 "[ 900.0] CPU: 3 PID: 55 Comm: b Not tainted 5.10.0 #1")
    (end,) = of(evs, "oom_end")
    assert end.pid == 55
    state = replay(evs)
    first, second = state.ooms.values()
    assert (first.victims, first.outcome) == ((9,), None)
    assert (second.invoker, second.outcome, second.reason, second.victims) == (55, "panic", "panic_on_oom", ())
    assert [a.kind for a in state.anomalies.values()] == ["oom_end"]


def test_4_19_global_warns_then_panics_deadlocked_and_the_panic_names_current():
    evs, conv = run("[ 7.0] a.out invoked oom-killer: gfp_mask=0x6200ca(GFP_HIGHUSER_MOVABLE), order=0, "
                    "oom_score_adj=0",
                    "[ 7.0] CPU: 3 PID: 812 Comm: a.out Not tainted 4.19.78 #1",
                    "[ 7.2] Out of memory and no killable processes...",
                    "[ 7.2] Kernel panic - not syncing: System is deadlocked on memory",
                    "[ 7.2] CPU: 3 PID: 812 Comm: a.out Not tainted 4.19.78 #1")
    warn, panic = of(evs, "oom_end")
    assert (warn.pid, warn.get("outcome"), warn.get("reason")) == (812, "no_killable", "no_killable")
    assert (panic.pid, panic.get("outcome"), panic.get("reason"), panic.get("comm")) == \
        (812, "panic", "deadlocked", "a.out")
    assert [e.src.line for e in evs] == sorted(e.src.line for e in evs), "the held panic keeps line order"
    state = replay(evs)
    assert (state.last_oom().outcome, state.last_oom().reason) == ("panic", "deadlocked")
    assert len(state.ooms) == 1 and not len(state.anomalies)
    assert conv.unparsed == []


def test_memcg_without_killable_process_only_warns():
    evs, _ = run("[ 9.0] sh invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
                 "[ 9.0] CPU: 0 PID: 77 Comm: sh Not tainted 6.6.9 #1",
                 "[ 9.1] memory: usage 10240kB, limit 10240kB, failcnt 12",
                 "[ 9.1] Memory cgroup stats for /box:",
                 "[ 9.2] Out of memory and no killable processes...",
                 "[ 9.3] sh invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0")
    (end,) = of(evs, "oom_end")
    assert (end.pid, end.fields) == (77, {"outcome": "no_killable", "reason": "no_killable"})
    state = replay(evs)
    first, second = state.ooms.get(0), state.ooms.get(1)
    assert (first.outcome, second.outcome) == ("no_killable", None), "a new invocation starts with no ending"


@pytest.mark.parametrize("line, reason", [
    ("Kernel panic - not syncing: Out of memory: system-wide panic_on_oom is enabled ", "panic_on_oom"),
    ("Kernel panic - not syncing: Out of memory: compulsory panic_on_oom is enabled", "panic_on_oom_compulsory"),
    ("Out of memory: compulsory panic_on_oom is enabled", "panic_on_oom_compulsory"),  # the panic prefix cut
])
def test_panic_on_oom_without_a_header_takes_the_task_from_the_panic_stack(line, reason):
    evs, conv = run(f"[ 185.1] {line}",
                    "[ 185.2] CPU: 1 PID: 2272 Comm: memeater Kdump: loaded Tainted: G X 5.14.21-default #1")
    (end,) = of(evs, "oom_end")
    assert (end.pid, end.get("comm"), end.get("outcome"), end.get("reason")) == (2272, "memeater", "panic", reason)
    assert conv.unparsed == [] and conv.kernel == "5.14.21-default"
    state = replay(evs)
    inv = state.last_oom()
    assert (inv.index, inv.seq, inv.invoker, inv.outcome, inv.reason) == (0, end.seq, 2272, "panic", reason)
    assert state.tasks[2272].comm == "memeater"
    (anomaly,) = state.anomalies.values()
    assert anomaly.kind == "oom_end" and "no invocation" in anomaly.message


def test_other_panics_and_other_wordings_are_not_oom_endings():
    evs, conv = run("Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000009",
                    "Kernel panic - not syncing: Out of memory and no killable processes, in a wording from the future",
                    "Out of memory: Kill process 7 (a.out) score 900 or sacrifice child")
    assert not of(evs, "oom_end")
    assert [line for line, _ in conv.unparsed] == [2]


def test_unknown_outcome_and_reason_are_anomalies():
    state = replay([Event(1, "oom_invoke", 5, {"comm": "x"}),
                    Event(2, "oom_end", 5, {"outcome": "exploded", "reason": "gremlins"})])
    messages = [a.message for a in state.anomalies.values()]
    assert any("unknown outcome 'exploded'" in m for m in messages)
    assert any("unknown reason 'gremlins'" in m for m in messages)
    assert state.last_oom().outcome == "exploded", "kept as said, flagged as odd"


# -- Mem-Info ----------------------------------------------------------------------------------------------------

def _meminfo(*lines: str) -> tuple[Event, State, list[Event]]:
    evs, conv = run(*lines)
    assert conv.unparsed == []
    (mi,) = of(evs, "meminfo")
    return mi, replay(evs), evs


def test_2_6_30_summary_after_per_cpu_lists():
    mi, state, _ = _meminfo(
        "[ 1.0] Mem-Info:",
        "[ 1.0] DMA per-cpu:",
        "[ 1.0] CPU    0: hi:    0, btch:   1 usd:   0",
        "[ 1.0] DMA32 per-cpu:",
        "[ 1.0] CPU    0: hi:  186, btch:  31 usd: 103",
        "[ 1.1] Active_anon:290797 active_file:28 inactive_anon:97034",
        "[ 1.1]  inactive_file:61 unevictable:11322 dirty:0 writeback:0 unstable:0",
        "[ 1.2]  free:3341 slab:13776 mapped:5880 pagetables:6851 bounce:0",
        "[ 1.3] DMA free:7776kB min:40kB low:48kB high:60kB present:15340kB")
    assert mi.fields == {"active_anon_kb": 290797 * 4, "active_file_kb": 28 * 4, "inactive_anon_kb": 97034 * 4,
                         "inactive_file_kb": 61 * 4, "unevictable_kb": 11322 * 4, "dirty_kb": 0, "writeback_kb": 0,
                         "unstable_kb": 0, "free_kb": 3341 * 4, "slab_kb": 13776 * 4, "mapped_kb": 5880 * 4,
                         "pagetables_kb": 6851 * 4, "bounce_kb": 0}
    assert mi.inferred == set(mi.fields), "pages to kB assumes 4 KiB pages"
    assert (mi.src.line, mi.ts_ns) == (8, 1_200_000_000), "at the summary's last line"
    rec = state.meminfo["global"]
    assert dict(rec.counters) == mi.fields and rec.since == mi.seq
    assert [name for name, _ in rec.counters] == [n for n in KINDS["meminfo"] if n in mi.fields]


def test_3_10_summary_with_free_cma_on_its_own_line_and_unstamped_continuations():
    mi, _, evs = _meminfo(
        "[13933.594258] Mem-Info:",
        "[13933.594261] active_anon:26728 inactive_anon:2191 isolated_anon:0",
        " active_file:21362 inactive_file:46137 isolated_file:0",
        " unevictable:5409 dirty:24 writeback:0 unstable:0",
        " free:3870360 slab_reclaimable:16619 slab_unreclaimable:14290",
        " mapped:15288 shmem:2373 pagetables:1969 bounce:0",
        " free_cma:0",
        "[13933.594263] Node 0 DMA free:15872kB min:64kB low:80kB high:96kB managed:15896kB")
    assert (mi.get("free_kb"), mi.get("slab_unreclaimable_kb"), mi.get("free_cma_kb"), mi.src.line) == \
        (3870360 * 4, 14290 * 4, 0, 7)
    assert [e.kind for e in evs].count("log") == 7 and of(evs, "zone")[0].src.line == 8


def test_6_x_summary_with_sec_pagetables_and_kernel_misc_reclaimable():
    mi, state, _ = _meminfo(
        "[  505.051198] Mem-Info:",
        "[  505.052637] active_anon:239 inactive_anon:6756 isolated_anon:0",
        "                active_file:9815 inactive_file:20182 isolated_file:128",
        "                unevictable:3569 dirty:17048 writeback:2622",
        "                slab_reclaimable:3496 slab_unreclaimable:8712",
        "                mapped:5882 shmem:2558 pagetables:339",
        "                sec_pagetables:0 bounce:0",
        "                kernel_misc_reclaimable:0",
        "                free:919956 free_pcp:23 free_cma:128398")
    assert mi.get("unstable_kb") is None, "gone in 5.10: absent, not zero"
    assert (mi.get("sec_pagetables_kb"), mi.get("kernel_misc_reclaimable_kb"), mi.get("free_cma_kb")) == \
        (0, 0, 128398 * 4)
    assert dict(state.meminfo["global"].counters)["free_kb"] == 919956 * 4


def test_a_later_summary_replaces_the_earlier_whole_and_a_new_report_keeps_line_order():
    evs, _ = run("[ 1.0] Mem-Info:", "[ 1.0] active_anon:1 inactive_anon:2 isolated_anon:0",
                 "[ 1.0]  unevictable:0 dirty:0 writeback:0 unstable:7",
                 "[ 2.0] Mem-Info:", "[ 2.0] active_anon:5 inactive_anon:6 isolated_anon:0",
                 "[ 3.0] x invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
                 "[ 3.0] CPU: 0 PID: 9 Comm: x Not tainted 6.1.0 #1")
    first, second = of(evs, "meminfo")
    assert (first.src.line, second.src.line) == (3, 5)
    assert [e.src.line for e in evs] == sorted(e.src.line for e in evs), "the summary goes out before the hold"
    assert [e.ts_ns for e in evs] == sorted(e.ts_ns for e in evs)
    counters = dict(replay(evs).meminfo["global"].counters)
    assert counters == {"active_anon_kb": 20, "inactive_anon_kb": 24, "isolated_anon_kb": 0}, "unstable is unknown"


def test_mem_info_without_counters_makes_no_event():
    evs, _ = run("Mem-info:", "Free swap:       0kB", "1234 pages of RAM")
    assert not of(evs, "meminfo") and [e.kind for e in evs] == ["log"] * 3


# -- the corpus --------------------------------------------------------------------------------------------------

#: log -> its endings as (pid, outcome, reason, line), read by hand from the log and its .md
CORPUS_ENDINGS = {
    "002_ltp-oom02_panic_dmesg": [(4585, "panic", "no_killable", 47)],
    "022_memeater_sle15-5.14_kdump-dmesg-panic": [(2272, "panic", "panic_on_oom", 1)],
    "029_systemd-run-memorymax_6.17_kernel-prefix-only": [(None, "no_killable", "no_killable", 2)],
}
_MEMINFO_COUNTER = re.compile(r"\b(free|active_anon|slab_unreclaimable):(\d+)\b", re.IGNORECASE)


def _trace(tmp_path, name: str):
    out = tmp_path / f"{name}.oomtrace"
    report = convert([str(LOGS / f"{name}.log")], out)
    return report, open_trace(out)


@needs_corpus
@pytest.mark.parametrize("name", sorted(CORPUS_ENDINGS))
def test_corpus_endings(tmp_path, name):
    report, trace = _trace(tmp_path, name)
    with trace:
        ends = list(trace.events(kind="oom_end"))
        assert [(e.pid, e.get("outcome"), e.get("reason"), e.src.line) for e in ends] == CORPUS_ENDINGS[name]
        inv = trace.state_at(ends[-1].seq).last_oom()  # 029 goes on with a new invocation, not ended
        assert (inv.outcome, inv.reason) == CORPUS_ENDINGS[name][-1][1:3]
    assert report.sources[0].unparsed_count == 0, "--report lists nothing as not understood"
    assert not any("no OOM report found" in w for w in report.warnings)


@needs_corpus
def test_explain_says_how_an_invocation_ended(tmp_path):
    """002 killed once, then its third invocation found nothing to kill and panicked; 022 is only the panic."""
    for name, invocations, wording in (("002_ltp-oom02_panic_dmesg", 3, "no task could be killed"),
                                       ("022_memeater_sle15-5.14_kdump-dmesg-panic", 1, "vm.panic_on_oom=1")):
        _, trace = _trace(tmp_path, name)
        with trace:
            ex = explain(trace)
        assert len(ex.ooms) == invocations and ex.ooms[-1].outcome == "panic"
        assert all(c.end is None for c in ex.ooms[:-1]), "only the last one ended without a kill"
        (ending,) = [f for f in ex.findings if "ended without a kill" in f.text]
        assert wording in ending.text and "panicked" in ending.text
        assert [e.seq for e in ending.evidence] == [ex.ooms[-1].end.seq]
    assert ex.ooms[-1].invoke is None, "022's header is not in the log: the ending is not cited as one"


def _summaries(name: str) -> list[dict[str, int]]:
    """The counters each Mem-Info block of a log prints, read with a regex of its own: pages of the counters after
    each ``Mem-Info:`` line, up to the next line printed in kB."""
    out: list[dict[str, int]] = []
    inside = False
    for line in (LOGS / f"{name}.log").read_text(errors="replace").splitlines():
        if line.rstrip().endswith("Mem-Info:"):
            out.append({})
            inside = True
        elif inside and "kB" in line:
            inside = False
        elif inside:
            out[-1].update({k.lower(): int(v) for k, v in _MEMINFO_COUNTER.findall(line)})
    return out


@needs_corpus
def test_corpus_mem_info_blocks(tmp_path):
    with_blocks = sorted(p.stem for p in LOGS.glob("*.log") if "Mem-Info:" in p.read_text(errors="replace"))
    # the scan itself works: 2.6.30, 3.10 and 6.x layouts are among them
    assert {"001_apt-check_2.6.30_syslog", "007_sysrq-f_3.10-el7_global_dmesg",
            "037_raspberrypi-arm32_6.x_unwinder-from_dmesg"} <= set(with_blocks)
    for name in with_blocks:
        report, trace = _trace(tmp_path, name)
        with trace:
            events = list(trace.events(kind="meminfo"))
            last = trace.state_at(len(trace) - 1).meminfo.get("global")
        got = [{k[:-3]: v // 4 for k, v in ev.fields.items() if k[:-3] in ("free", "active_anon", "slab_unreclaimable")}
               for ev in events]
        assert got == _summaries(name), name
        assert last is not None and dict(last.counters) == events[-1].fields and last.since == events[-1].seq
        assert not any(_MEMINFO_COUNTER.search(text) for _, text in report.sources[0].unparsed), name
