//! Property tests standing in for a fuzzer (the toolchain here is stable; cargo-fuzz needs nightly): the block
//! decoder, the index reader and whole-file reading take arbitrary and mutated bytes without a panic, and what they
//! refuse they refuse with an error. Failing cases proptest finds are kept in `proptest-regressions/` and replayed
//! first on every run.

mod synth;

use oomreplay_core::ftrace::{FtraceConverter, PlainConsole};
use oomreplay_core::klog::{Format, LogConverter};
use oomreplay_core::model::value::Value;
use oomreplay_core::store::codec::{EventBlock, Schema};
use oomreplay_core::store::msgpack::unpack;
use oomreplay_core::store::reader::Trace;
use oomreplay_core::store::repair::verify;
use oomreplay_core::store::writer::TraceWriter;
use proptest::prelude::*;

/// `PROPTEST_CASES` when set (a longer campaign), else `default`: an explicit `cases` in a config would
/// otherwise win over the variable.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Real lines of each form, the seeds the parser targets mutate.
const KLOG_SEEDS: &[&str] = &[
    "[  493.791708] Out of memory: Killed process 3163 (a.out) total-vm:4198040kB, anon-rss:3930676kB, file-rss:4kB, shmem-rss:0kB, UID:0 pgtables:7744kB oom_score_adj:0",
    "[  493.791000] a.out invoked oom-killer: gfp_mask=0x6280ca(GFP_HIGHUSER_MOVABLE|__GFP_ZERO), order=0, oom_score_adj=0",
    "[  493.791100] Node 0 Normal free:42252kB min:42408kB low:53008kB high:63608kB reserved_highatomic:0KB active_anon:0kB",
    "[  493.791200] lowmem_reserve[]: 0 2966 7890 7890",
    "[  493.791300] [   3163]     0  3163  1049510   982669  7946240        0             0 a.out",
    "[  493.791400] oom_reaper: reaped process 3163 (a.out), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB",
    "Jan  1 00:00:00 host kernel: [    1.000000] memory: usage 1048576kB, limit 1048576kB, failcnt 93",
    "2024-01-01T00:00:00+0100 host kernel: oom_reaper: unable to reap pid:3163 (a.out)",
    r#"{"__MONOTONIC_TIMESTAMP": "493791708", "MESSAGE": "Killed process 3163 (a.out)", "_TRANSPORT": "kernel"}"#,
    "6,1234,493791708,-;Out of memory: Killed process 3163 (a.out)",
];

const FTRACE_SEEDS: &[&str] = &[
    "           a.out-3163    [001] .....   493.791708: mark_victim: pid=3163",
    "      oom_reaper-62      [000] .....   493.800001: start_task_reaping: pid=3163",
    "           a.out-3163    [001] d..1.   493.791000: oom_score_adj_update: pid=3163 comm=a.out oom_score_adj=0",
    "           a.out-3163    [001] .....   493.791500: reclaim_retry_zone: node=0 zone=Normal order=0 reclaimable=1 available=2 min_wmark=3 no_progress_loops=1 wmark_check=0",
    "          <idle>-0       [000] d..2.   493.790000: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=a.out next_pid=3163 next_prio=120",
    "           a.out-3163    [001] .....   493.791600: sched_process_exit: comm=a.out pid=3163 prio=120",
    "           a.out-3163    [001] .....   493.791650: console: [  493.791650] Out of memory: Killed process 3163 (a.out)",
];

/// What a mutation puts in place of a number or a byte: the values a fuzzer tries first.
const HOSTILE: &[&str] = &[
    "99999999999999999999",
    "18446744073709551616",
    "9223372036854775808",
    "2147483648",
    "-1",
    "Infinity",
    "NaN",
    "\0",
    "\u{fffd}",
    "\r",
    "[",
    "]",
    ":",
    "",
];

/// A seed line with a few cuts and insertions at arbitrary places (on character boundaries).
fn mutate(seed: &str, edits: &[(usize, usize, usize)]) -> String {
    let mut s = seed.to_string();
    for &(at, len, what) in edits {
        let mut a = at % (s.len() + 1);
        while !s.is_char_boundary(a) {
            a -= 1;
        }
        let mut b = (a + len % 8).min(s.len());
        while !s.is_char_boundary(b) {
            b += 1;
        }
        let h = HOSTILE[what % HOSTILE.len()];
        s.replace_range(a..b, h);
    }
    s
}

fn edits() -> impl Strategy<Value = Vec<(usize, usize, usize)>> {
    proptest::collection::vec((any::<usize>(), any::<usize>(), any::<usize>()), 0..4)
}

/// A small real trace, the seed every mutation starts from.
fn seed() -> &'static [u8] {
    static SEED: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    SEED.get_or_init(|| {
        let path = std::env::temp_dir().join(format!(
            "oomreplay-fuzz-seed-{}.oomtrace",
            std::process::id()
        ));
        let mut w = TraceWriter::create(&path, &Value::Nil, false).unwrap();
        for e in synth::incident(1200, 40, 2) {
            w.append(e).unwrap();
        }
        w.close(&Value::Nil).unwrap();
        let data = std::fs::read(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        data
    })
}

fn block_payload_seed() -> Vec<u8> {
    let mut out = Vec::new();
    oomreplay_core::store::codec::block_payload(0, &synth::incident(40, 5, 4), &mut out);
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(2000), ..ProptestConfig::default() })]

    /// The kernel-log parser on mutated real lines, a few at a time, line by line and in bulk: no panic, and
    /// every event points at a line it was given.
    #[test]
    fn the_kernel_log_parser_takes_mutated_lines(picks in proptest::collection::vec((any::<usize>(), edits()), 1..6), fmt in 0usize..7) {
        let fmt = [Format::Auto, Format::Dmesg, Format::Syslog, Format::Journal, Format::Kmsg, Format::Logcat,
                   Format::Plain][fmt];
        let lines: Vec<String> = picks.iter().map(|(i, e)| mutate(KLOG_SEEDS[i % KLOG_SEEDS.len()], e).replace('\n', " ")).collect();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let mut conv = LogConverter::new(0, fmt);
        conv.sniff(&refs);
        let mut out = Vec::new();
        for (i, l) in refs.iter().enumerate() {
            conv.feed(i as i64 + 1, l, &mut out);
        }
        conv.finish(&mut out);
        prop_assert!(out.iter().all(|e| e.src.is_some_and(|(_, l)| l >= 1 && l as usize <= refs.len())));
        let mut bulk = LogConverter::new(0, fmt);
        bulk.sniff(&refs);
        let mut items = Vec::new();
        let data = refs.join("\n") + "\n";
        bulk.feed_block(1, data.as_bytes(), &mut items);
    }

    /// The ftrace parser on mutated real lines: no panic, and every line gives at least one event or a report.
    #[test]
    fn the_ftrace_parser_takes_mutated_lines(picks in proptest::collection::vec((any::<usize>(), edits()), 1..8)) {
        let lines: Vec<String> = picks.iter().map(|(i, e)| mutate(FTRACE_SEEDS[i % FTRACE_SEEDS.len()], e).replace('\n', " ")).collect();
        let mut conv = FtraceConverter::new(0, PlainConsole { file_id: 0 });
        let mut out = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            conv.feed(i as i64 + 1, l, &mut out);
        }
        conv.finish(&mut out);
        let mut bulk = FtraceConverter::new(0, PlainConsole { file_id: 0 });
        let data = lines.join("\n") + "\n";
        let mut again = Vec::new();
        bulk.feed_block(1, data.as_bytes(), &mut again);
        bulk.finish(&mut again);
    }

    #[test]
    fn the_block_decoder_takes_any_bytes(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = EventBlock::decode(&data, &Schema::current(), "fuzz");
        let _ = unpack(&data);
    }

    #[test]
    fn the_block_decoder_takes_mutated_blocks(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8), cut in any::<usize>()) {
        let mut data = block_payload_seed();
        for (at, x) in flips {
            let n = data.len();
            data[at % n] ^= x;
        }
        let cut = cut % (data.len() + 1);
        let _ = EventBlock::decode(&data[..cut], &Schema::current(), "fuzz");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(300), ..ProptestConfig::default() })]

    #[test]
    fn reading_a_mutated_trace_never_panics(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6), cut in proptest::option::of(any::<usize>())) {
        let mut data = seed().to_vec();
        for (at, x) in flips {
            let n = data.len();
            data[at % n] ^= x;
        }
        if let Some(c) = cut {
            data.truncate(c % (data.len() + 1));
        }
        let path = std::env::temp_dir().join(format!("oomreplay-fuzz-{}-{:?}.oomtrace", std::process::id(), std::thread::current().id()));
        std::fs::write(&path, &data).unwrap();
        let _ = verify(&path);
        if let Ok(t) = Trace::open(&path) {
            let n = t.len();
            for seq in [0, n / 2, n - 1] {
                let _ = t.state_at(seq).and_then(|s| s.tables[0].items());
            }
            let _ = t.events(0, n);
            let _ = t.overview(0, i64::MAX, 50);
            let _ = t.source_lines(1, 100, 0);
        }
        let _ = std::fs::remove_file(&path);
    }
}
