//! The ftrace tokenizer on every line form the corpus and the tools print: tracefs `trace` / `trace_pipe` (4- and
//! 5-column flags, the TGID column, a blank or dashed tgid), trace-cmd report (its buffer / file prefix),
//! `perf script` (`comm [pid/]tid [cpu] ts: [period] system:event: payload`, with and without the cpu column);
//! call chains, perf's summaries and printk lines are not events; lost-event markers and the recording's head.

use oomreplay_core::ftrace::{lost_marker, parse_line, sniff, FtraceLine, Parsed};

fn columns(line: &str) -> (&str, i64, Option<i64>, i64, i64, &str, &str) {
    match parse_line(line) {
        Parsed::Event(FtraceLine {
            comm,
            pid,
            tgid,
            cpu,
            ts_ns,
            event,
            payload,
            ..
        }) => (comm, pid, tgid, cpu, ts_ns, event, payload),
        other => panic!("{line:?} is no event: {other:?}"),
    }
}

#[test]
fn tracefs_and_trace_cmd_columns() {
    for (line, want) in [
        (
            "        allocate-502   [001] ....    91.836405: mark_victim: pid=502",
            (
                "allocate",
                502,
                None,
                1,
                91_836_405_000,
                "mark_victim",
                "pid=502",
            ),
        ),
        (
            "stress-33431   [001] ..... 13223.617311: reclaim_retry_zone: node=0",
            (
                "stress",
                33431,
                None,
                1,
                13_223_617_311_000,
                "reclaim_retry_zone",
                "node=0",
            ),
        ),
        (
            " surfaceflinger-1155  ( 1155) [001] ...1 12839.528756: x: y",
            (
                "surfaceflinger",
                1155,
                Some(1155),
                1,
                12_839_528_756_000,
                "x",
                "y",
            ),
        ),
        (
            "     Web Content-77 (-------) [002] d..2. 1.000001: x: y",
            ("Web Content", 77, None, 2, 1_000_001_000, "x", "y"),
        ),
        (
            "buf-9:   oomr-dio-alloc-10921 [001]  1560.772700: mark_victim:    pid=1",
            (
                "oomr-dio-alloc",
                10921,
                None,
                1,
                1_560_772_700_000,
                "mark_victim",
                "pid=1",
            ),
        ),
    ] {
        assert_eq!(columns(line), want, "{line}");
    }
}

#[test]
fn perf_script_columns() {
    for (line, want) in [
        (
            "         python3 26878 [000] 12781.639293:          oom:mark_victim: pid=26878",
            ("python3", 26878, None, 0, 12_781_639_293_000, "oom:mark_victim", "pid=26878"),
        ),
        (
            "python3 26877/26878 [001] 12781.639276754:   signal:signal_generate: sig=9 pid=26878",
            ("python3", 26878, Some(26877), 1, 12_781_639_276_754, "signal:signal_generate", "sig=9 pid=26878"),
        ),
        (
            "sched-messaging    3409 [001]  7152.904029: lock:contention_begin: 0xc00000c80904ef00 (flags=SPIN)",
            ("sched-messaging", 3409, None, 1, 7_152_904_029_000, "lock:contention_begin", "0xc00000c80904ef00 (flags=SPIN)"),
        ),
        (
            "     Web Content 77  12.000001:          1 sched:sched_process_exit: comm=x pid=77",
            ("Web Content", 77, None, -1, 12_000_001_000, "sched:sched_process_exit", "comm=x pid=77"),
        ),
    ] {
        assert_eq!(columns(line), want, "{line}");
    }
}

#[test]
fn call_chains_summaries_and_printk_lines_are_no_events() {
    for line in [
        "\tffffffff81595c4a mark_oom_victim+0xba ([kernel.kallsyms])",
        "                       0 [unknown] ([unknown])",
        "[ perf record: Captured and wrote 0.153 MB /tmp/oom2.perf (3 samples) ]",
        "[  123.456789] Memory cgroup out of memory: Killed process 5 (a) total-vm:1kB, anon-rss:1kB",
        "# tracer: nop",
        "",
    ] {
        assert_eq!(parse_line(line), Parsed::Text, "{line:?}");
    }
}

#[test]
fn lost_event_markers() {
    let lost = lost_marker("CPU:1 [LOST 42 EVENTS]").expect("a marker");
    assert_eq!(
        (lost.cpu.as_deref(), lost.count.as_deref()),
        (Some("1"), Some("42"))
    );
    let perf = lost_marker("            perf  1234 [001]  1.100000: PERF_RECORD_LOST lost 17")
        .expect("perf's");
    assert_eq!(
        (perf.cpu.as_deref(), perf.count.as_deref()),
        (Some("1"), Some("17"))
    );
    let chunks = lost_marker("Processed 2000 events and lost 3 chunks!").expect("perf's summary");
    assert_eq!((chunks.cpu, chunks.count), (None, None));
    assert!(lost_marker("usb 1-1: new high-speed USB device").is_none());
}

#[test]
fn a_recording_is_known_by_its_head() {
    assert!(sniff(&["# tracer: nop", "#"]));
    assert!(sniff(&["cpus=2"]));
    assert!(sniff(&[
        "  a-1 [000] .... 1.000000: x: y",
        "[ 1.0] a printk line"
    ]));
    assert!(!sniff(&[
        "[ 1.0] one",
        "[ 2.0] two",
        "  a-1 [000] .... 1.000000: x: y"
    ]));
    assert!(!sniff(&["cpus=two"]));
}
