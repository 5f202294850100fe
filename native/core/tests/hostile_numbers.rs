//! Issue 23's crashers, one line each, through the two converters: a number that does not fit the kernel's own
//! type (`unsigned long` pages, u64 ns, `pid_t`) or the trace's range (i64 ns) keeps its line as a `log` event
//! with the whole text and lists it in `overflow`; it is never read at a time or with a value the line does not
//! say, and never panics. `tests/data/fuzz/` holds the same lines for the Python side's replay.

use oomreplay_core::ftrace::{FtraceConverter, PlainConsole};
use oomreplay_core::klog::{Format, Item, LogConverter};
use oomreplay_core::model::schema::kind_name;
use oomreplay_core::model::{Event, Value};

fn klog(lines: &[&str]) -> (LogConverter, Vec<Event>) {
    let mut conv = LogConverter::new(0, Format::Auto);
    conv.sniff(lines);
    let mut data = lines.join("\n");
    data.push('\n');
    let mut items = Vec::new();
    conv.feed_block(1, data.as_bytes(), &mut items);
    let mut events = Vec::new();
    for item in items {
        match item {
            Item::Event(e) => events.push(e),
            Item::Run(run) => events.extend(run.events()),
        }
    }
    conv.finish(&mut events);
    (conv, events)
}

fn kinds(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(|e| kind_name(e.kind)).collect()
}

fn text(e: &Event) -> String {
    match e.get("text") {
        Value::Str(s) => s.to_string(),
        other => panic!("no text: {other:?}"),
    }
}

#[test]
fn a_printk_stamp_past_the_trace_keeps_its_line_as_text() {
    for stamp in [
        "[99999999999.9]",           // past a u64 of ns: no kernel prints it
        "[18446744073.709551]",      // a u64 of ns, past the trace's i64
        "[9223372036.854776]",       // one microsecond past i64 ns
        "[999999999999.999999]",     // twelve digits, the most the stamp takes
        "[18446744073.709551] [T1]", // with a caller id
        "<6>[18446744073.709551]",   // after a kmsg level
        "Jan  1 00:00:00 h kernel: [99999999999.000000]", // inside a syslog line
    ] {
        let line = format!(
            "{stamp} Out of memory: Killed process 3163 (java) total-vm:1kB, anon-rss:1kB, file-rss:0kB"
        );
        let lines = [
            "[    1.000000] before",
            line.as_str(),
            "[    2.000000] after",
        ];
        let (conv, events) = klog(&lines);
        assert_eq!(kinds(&events), ["log", "log", "log"], "{stamp}");
        assert!(
            text(&events[1]).contains(stamp.rsplit(' ').next().unwrap()),
            "{stamp}: {}",
            text(&events[1])
        );
        assert_eq!(
            events[1].ts_ns, 1_000_000_000,
            "{stamp}: at the last time read"
        );
        assert_eq!(conv.overflow, [2], "{stamp}");
    }
    // the last stamp that fits is read
    let (conv, events) = klog(&["[9223372036.854775] x"]);
    assert_eq!(
        (events[0].ts_ns, conv.overflow.len()),
        (9_223_372_036_854_775_000, 0)
    );
}

#[test]
fn a_kmsg_or_journal_time_past_the_trace_keeps_its_line_as_text() {
    for line in [
        "6,1,99999999999999999999,-;hello",
        r#"{"__MONOTONIC_TIMESTAMP": "12345678901234567890123456", "MESSAGE": "hello"}"#,
        r#"{"__MONOTONIC_TIMESTAMP": Infinity, "MESSAGE": "hello"}"#,
        r#"{"__MONOTONIC_TIMESTAMP": NaN, "MESSAGE": "hello"}"#,
        r#"{"__REALTIME_TIMESTAMP": 1e400, "MESSAGE": "hello"}"#,
    ] {
        let (conv, events) = klog(&[line]);
        assert_eq!(kinds(&events), ["log"], "{line}");
        assert_eq!(text(&events[0]), line);
        assert_eq!(conv.overflow, [1], "{line}");
    }
}

#[test]
fn numbers_past_the_kernels_types_keep_their_lines_as_text() {
    let lines = [
        "[    1.000000] Out of memory: Killed process 3163 (java) total-vm:1kB, anon-rss:99999999999999999999kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:0kB oom_score_adj:0",
        "[    1.000001] Out of memory: Killed process 99999999999 (java) total-vm:1kB, anon-rss:1kB, file-rss:0kB",
    ];
    let (_, events) = klog(&lines);
    assert_eq!(kinds(&events), ["log", "log"]);
    for (e, l) in events.iter().zip(lines) {
        assert_eq!(text(e), &l[15..]);
    }
}

#[test]
fn deep_and_wide_json_is_text() {
    let deep = "[".repeat(3000) + &"]".repeat(3000);
    let nested = "{\"a\":".repeat(3000) + "1" + &"}".repeat(3000);
    for line in [deep.as_str(), nested.as_str()] {
        let (_, events) = klog(&[line]);
        assert_eq!(kinds(&events), ["log"]);
    }
}

fn ftrace(lines: &[&str]) -> (Vec<Event>, Vec<i64>) {
    let mut conv = FtraceConverter::new(0, PlainConsole { file_id: 0 });
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        conv.feed(i as i64 + 1, l, &mut out);
    }
    conv.finish(&mut out);
    (out, conv.report().overflow.clone())
}

#[test]
fn ftrace_pids_and_times_past_their_types_keep_their_lines_as_text() {
    let long_pid = format!(
        "           bash-{} [000] .... 12.345678: sched_process_exit: comm=x pid=1 prio=120",
        "9".repeat(5000)
    );
    let long_field = format!(
        "           bash-12 [000] .... 12.345678: sched_process_exit: comm=x pid={} prio=120",
        "9".repeat(5000)
    );
    for line in [
        "           <...>-99999999999999999999 [000] .... 12.345678: sched_process_exit: comm=x pid=1 prio=120",
        "           bash-2147483648 [000] .... 12.345678: sched_process_exit: comm=x pid=1 prio=120",
        "           bash-123   [000] .... 99999999999999999999.345678: sched_process_exit: comm=x pid=1 prio=120",
        "           bash-123   [000] .... 9223372037.000000: sched_process_exit: comm=x pid=1 prio=120",
        "           bash-12 [000] .... 12.345678: sched_process_exit: comm=x pid=2147483648 prio=120",
        long_pid.as_str(),
        long_field.as_str(),
    ] {
        let (events, overflow) = ftrace(&[line]);
        assert_eq!(kinds(&events), ["log"], "{}", &line[..80.min(line.len())]);
        // a line longer than the parser reads (`MATCH_CHARS`) is text without being read
        if line.len() <= oomreplay_core::ftrace::MATCH_CHARS {
            assert_eq!(overflow, [1], "{line}");
        }
    }
}
