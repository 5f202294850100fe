//! `ftrace_bench [FILE]`: the ftrace converter's speed on a real recording's lines repeated to 10^6 and 10^7
//! lines in memory, timestamps shifted so each repetition follows the last (deterministic), beside a naive
//! baseline that only splits the lines and reads each timestamp. Release build:
//! `cargo run --release --example ftrace_bench -p oomreplay-core`.
//!
//! Figures printed: lines/s and MB/s for the converter end to end (`feed_block` over 1 MiB blocks, then
//! `finish`; the events go into a Vec emptied after each block), for the tokenizer alone (`parse_line` over
//! every line), and for the baseline.

mod common;
use oomreplay_core::ftrace::{parse_line, FtraceConverter, Parsed};
use std::time::Instant;

const DEFAULT: &str = "/work/shared/corpus/recorded/005_reaper_mmap_lock_unreapable/ftrace.txt";

/// An event line split around its timestamp: `prefix`, seconds, `.` microseconds, `suffix`.
struct Template {
    prefix: String,
    sec: u64,
    usec: String,
    suffix: String,
}

/// The recording's event lines as templates (its header and other lines are left out: a repeated header would
/// be prose in the middle of a trace).
fn templates(text: &str) -> Vec<Template> {
    text.lines()
        .filter_map(|line| {
            let Parsed::Event(_) = parse_line(line) else {
                return None;
            };
            let colon = line.find("]")? + line[line.find("]")?..].find(": ")?;
            let start = line[..colon].rfind(' ')? + 1;
            let (sec, usec) = line[start..colon].split_once('.')?;
            Some(Template {
                prefix: line[..start].to_string(),
                sec: sec.parse().ok()?,
                usec: usec.to_string(),
                suffix: line[colon..].to_string(),
            })
        })
        .collect()
}

/// `lines` lines: the templates over and over, each round `period` seconds after the one before.
fn repeated(t: &[Template], lines: usize) -> Vec<u8> {
    let period = t.last().map_or(1, |l| l.sec) - t[0].sec + 1;
    let mut out = Vec::with_capacity(lines * 130);
    for i in 0..lines {
        let l = &t[i % t.len()];
        let sec = l.sec + (i / t.len()) as u64 * period;
        out.extend_from_slice(l.prefix.as_bytes());
        out.extend_from_slice(format!("{sec}.{}", l.usec).as_bytes());
        out.extend_from_slice(l.suffix.as_bytes());
        out.push(b'\n');
    }
    out
}

fn convert(data: &[u8]) -> (usize, u64) {
    let mut conv = FtraceConverter::with_log_parser(0);
    let mut events = Vec::new();
    let (mut n, mut made) = (1i64, 0u64);
    for block in common::line_blocks(data) {
        n += conv.feed_block(n, block, &mut events);
        made += events.len() as u64;
        events.clear();
    }
    conv.finish(&mut events);
    made += events.len() as u64;
    (n as usize - 1, made)
}

fn tokenize(data: &[u8]) -> (usize, u64) {
    let text = std::str::from_utf8(data).expect("UTF-8");
    let (mut n, mut sum) = (0, 0u64);
    for line in text.split_terminator('\n') {
        if let Parsed::Event(rec) = parse_line(line) {
            sum = sum.wrapping_add(rec.ts_ns as u64);
        }
        n += 1;
    }
    (n, sum)
}

/// The baseline: lines split with memchr, the timestamp read by hand (the digits before the `:` that follows the
/// cpu column's `]`).
fn naive(data: &[u8]) -> (usize, u64) {
    let (mut n, mut sum, mut start) = (0, 0u64, 0);
    for end in memchr::memchr_iter(b'\n', data) {
        let line = &data[start..end];
        start = end + 1;
        n += 1;
        let Some(close) = memchr::memchr(b']', line) else {
            continue;
        };
        let Some(colon) = memchr::memmem::find(&line[close..], b": ") else {
            continue;
        };
        let stamp = &line[close..close + colon];
        let from = memchr::memrchr(b' ', stamp).map_or(0, |s| s + 1);
        let mut ns = 0u64;
        for &b in &stamp[from..] {
            if b.is_ascii_digit() {
                ns = ns * 10 + (b - b'0') as u64;
            }
        }
        sum = sum.wrapping_add(ns);
    }
    (n, sum)
}

fn measure(name: &str, data: &[u8], f: fn(&[u8]) -> (usize, u64)) {
    let t = Instant::now();
    let (lines, check) = f(data);
    let s = t.elapsed().as_secs_f64();
    println!(
        "  {name:<22} {:>6.2} M lines/s {:>7.1} MB/s  ({lines} lines, {s:.3} s, {check})",
        lines as f64 / s / 1e6,
        data.len() as f64 / s / 1e6
    );
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| DEFAULT.to_string());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let t = templates(&text);
    println!("{path}: {} event lines repeated", t.len());
    for lines in [1_000_000, 10_000_000] {
        let data = repeated(&t, lines);
        println!("{lines} lines, {:.1} MB:", data.len() as f64 / 1e6);
        measure("converter (events)", &data, convert);
        measure("tokenizer (parse_line)", &data, tokenize);
        measure("naive baseline", &data, naive);
    }
}
