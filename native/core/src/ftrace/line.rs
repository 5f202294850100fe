//! The ftrace text line, as tracefs `trace` / `trace_pipe` and `trace-cmd report` print it (recording.md §2.3,
//! §4; kernel-formats.md §5.6-5.7): `[buffer: ]comm-pid [(tgid)] [cpu] [flags] ts: event: payload`; and as
//! `perf script` prints a tracepoint sample (recording.md §5): `comm [pid/]tid [cpu] ts: [period] system:event:
//! payload`. Both layouts give the same `FtraceLine`, so the payload mapping is one piece of code for both.
//!
//! Columns are not fixed (pasted traces lose their padding, comms hold blanks and `-`, the flags column is 4 or
//! 5 characters or absent), so the line is found by its anchors, exactly as the Python grammar's regexes find it
//! (`ftrace_line._EVENT`, `_PERF`, `_BUFFER`): the leftmost `-pid` followed by the cpu column, the timestamp
//! before `": "`. Hand-written: each anchor is tried with a few byte comparisons, no regex per line. Where the
//! regex would backtrack (the optional flags column, the event name's last `:`), the scan tries the same
//! alternatives in the same order.

use super::chars::{
    digits, non_spaces, rstrip, space, spaces, strip, words, Digits, COLON, DASH, DOT,
};

/// Only this much of a line is read (the source keeps all of it), in characters: Python's
/// `kernel_log.MATCH_CHARS`.
pub const MATCH_CHARS: usize = 4096;

/// One event line split into its columns; `ts_ns` is the trace clock (a counter clock's raw value).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FtraceLine<'a> {
    pub comm: &'a str,
    pub pid: i64,
    pub tgid: Option<i64>,
    /// -1 when the line has no cpu column (perf script without it).
    pub cpu: i64,
    pub ts_ns: i64,
    pub event: &'a str,
    pub payload: &'a str,
    /// trace-cmd's buffer (`-B`) or input file name before the comm.
    pub buffer: Option<&'a str>,
}

/// What `parse_line` makes of a line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Parsed<'a> {
    Event(FtraceLine<'a>),
    /// Not an event line (Python's `None`).
    Text,
    /// An event line whose pid or tgid does not fit a pid (i32) or whose time does not fit i64 nanoseconds.
    /// Python reads any size and fails later, in the writer (issue 23); here the line is kept as text.
    Overflow,
}

/// `line` cut to `MATCH_CHARS` characters.
#[inline]
pub fn cut(line: &str) -> &str {
    if line.len() <= MATCH_CHARS {
        return line;
    }
    match line.char_indices().nth(MATCH_CHARS) {
        Some((at, _)) => &line[..at],
        None => line,
    }
}

/// A line pasted into a mail keeps its `> ` quoting (`(?:>[ \t]?)+` at the start); the trace under it is the same.
pub fn unquote(line: &str) -> &str {
    let b = line.as_bytes();
    let mut i = 0;
    while b.get(i) == Some(&b'>') {
        i += 1;
        if matches!(b.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
    }
    &line[i..]
}

/// The columns of an event line (ftrace or perf script layout).
pub fn parse_line(line: &str) -> Parsed<'_> {
    let s = line.as_bytes();
    let mut buffer = None;
    // a plain loop, not memchr: the first `-` is a few bytes in, where memchr's set-up costs more than the scan
    let mut dashes = s
        .iter()
        .enumerate()
        .filter(|(_, &b)| b == b'-')
        .map(|(d, _)| d);
    let (start, m) = match dashes.find_map(|d| ftrace_columns(s, d).map(|m| (d, m))) {
        Some(found) => found,
        None => match (0..s.len()).find_map(|p| perf_columns(s, p).map(|m| (p, m))) {
            Some((p, m)) => {
                let head = &line[..p];
                if head.is_empty() || spaces(head.as_bytes(), 0) == head.len() {
                    return Parsed::Text;
                }
                (p, m)
            }
            None => return Parsed::Text,
        },
    };
    let mut head = &line[..start];
    if !m.perf && memchr::memchr(b':', head.as_bytes()).is_some() {
        if let Some((name, rest)) = buffer_name(head) {
            buffer = Some(name);
            head = rest;
        }
    }
    let pid = match pid_value(m.pid) {
        Some(pid) => pid,
        None => return Parsed::Overflow,
    };
    let tgid = match m.tgid {
        Some(d) => match pid_value(d) {
            Some(t) => Some(t),
            None => return Parsed::Overflow,
        },
        None => None,
    };
    let Some(ts_ns) = m.ts.nanoseconds() else {
        return Parsed::Overflow;
    };
    Parsed::Event(FtraceLine {
        comm: strip(head),
        pid,
        tgid,
        cpu: m.cpu.and_then(|d| d.value).map_or(-1, |v| v as i64),
        ts_ns,
        event: &line[m.event.0..m.event.1],
        payload: rstrip(&line[m.end..]),
        buffer,
    })
}

/// A pid (or tgid) column: pid_t is an int.
pub(super) fn pid_value(d: Digits) -> Option<i64> {
    d.value
        .filter(|v| i32::try_from(*v).is_ok())
        .map(|v| v as i64)
}

/// `sec[.frac]` as read by `int(sec + frac) * 10 ** (9 - len(frac))`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Stamp {
    sec: Digits,
    frac: Option<Digits>,
}

impl Stamp {
    fn nanoseconds(&self) -> Option<i64> {
        let sec = self.sec.value?;
        let ns = match self.frac {
            None => sec,
            Some(f) => sec
                .checked_mul(1_000_000_000)?
                .checked_add(f.value? * 10u64.pow(9 - f.count as u32))?,
        };
        i64::try_from(ns).ok()
    }
}

/// Where the columns after the comm were found.
#[derive(Clone, Copy, Debug)]
struct Columns {
    pid: Digits,
    tgid: Option<Digits>,
    cpu: Option<Digits>,
    ts: Stamp,
    event: (usize, usize),
    /// Where the payload starts.
    end: usize,
    /// The perf layout (which has no buffer name before the comm).
    perf: bool,
}

/// `-pid\s+(\(\s*(tgid|-+)\)\s+)?\[cpu\]` at the `-` at `d`: the pid, the tgid (None for `(-----)`), the cpu and
/// the offset after `]`. Shared with `marker::looks_like_event`, which asks only whether it matches.
pub(super) fn pid_cpu(s: &[u8], d: usize) -> Option<(Digits, Option<Digits>, Digits, usize)> {
    let pid = digits(s, d + 1);
    if pid.count == 0 {
        return None;
    }
    let mut i = spaces(s, pid.end);
    if i == pid.end {
        return None;
    }
    let mut tgid = None;
    if s.get(i) == Some(&b'(') {
        i = spaces(s, i + 1);
        let t = digits(s, i);
        if t.count > 0 {
            tgid = Some(t);
            i = t.end;
        } else {
            let dashes = s[i..].iter().take_while(|&&b| b == b'-').count();
            if dashes == 0 {
                return None;
            }
            i += dashes;
        }
        if s.get(i) != Some(&b')') {
            return None;
        }
        let after = spaces(s, i + 1);
        if after == i + 1 {
            return None;
        }
        i = after;
    }
    let cpu = bracketed_cpu(s, i)?;
    Some((pid, tgid, cpu, cpu.end + 1))
}

/// `\[(\d{1,4})\]` at `i`: the digits (their `end` is the `]`).
pub(super) fn bracketed_cpu(s: &[u8], i: usize) -> Option<Digits> {
    if s.get(i) != Some(&b'[') {
        return None;
    }
    let cpu = digits(s, i + 1);
    ((1..=4).contains(&cpu.count) && s.get(cpu.end) == Some(&b']')).then_some(cpu)
}

/// The ftrace layout's columns at the `-` at `d` (Python's `_EVENT` matched there).
fn ftrace_columns(s: &[u8], d: usize) -> Option<Columns> {
    let (pid, tgid, cpu, after) = pid_cpu(s, d)?;
    let i = spaces(s, after);
    if i == after {
        return None;
    }
    // the irq-info flags `[.a-zA-Z0-9]{4,6}\s+`, optional: tried first, as the greedy regex does
    let flags = s[i..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'.')
        .count();
    let rest = if (4..=6).contains(&flags) && space(s, i + flags).is_some() {
        stamp_and_event(s, spaces(s, i + flags), false)
    } else {
        None
    };
    let (ts, event, end) = rest.or_else(|| stamp_and_event(s, i, false))?;
    Some(Columns {
        pid,
        tgid,
        cpu: Some(cpu),
        ts,
        event,
        end,
        perf: false,
    })
}

/// The perf layout's columns at the whitespace character at `p` (Python's `_PERF` matched there).
fn perf_columns(s: &[u8], p: usize) -> Option<Columns> {
    let mut i = p + space(s, p)?;
    let first = digits(s, i);
    if first.count == 0 {
        return None;
    }
    let (tgid, pid) = if s.get(first.end) == Some(&b'/') {
        let pid = digits(s, first.end + 1);
        if pid.count == 0 {
            return None;
        }
        (Some(first), pid)
    } else {
        (None, first)
    };
    i = spaces(s, pid.end);
    if i == pid.end {
        return None;
    }
    let mut cpu = None;
    if s.get(i) == Some(&b'[') {
        let c = bracketed_cpu(s, i)?;
        let after = spaces(s, c.end + 1);
        if after == c.end + 1 {
            return None;
        }
        cpu = Some(c);
        i = after;
    }
    let (ts, event, end) = stamp_and_event(s, i, true)?;
    Some(Columns {
        pid,
        tgid,
        cpu,
        ts,
        event,
        end,
        perf: true,
    })
}

/// `(\d+)(?:\.(\d{1,9}))?:\s+` then the event name and `:\s*`: the stamp, the name's span and the payload's start.
/// The perf layout may have a period (`\d+\s+`) before a `system:event` name; ftrace's name is
/// `[A-Za-z_][\w:.-]*`, ending at its last `:` (the regex backtracks to it).
fn stamp_and_event(s: &[u8], i: usize, perf: bool) -> Option<(Stamp, (usize, usize), usize)> {
    let sec = digits(s, i);
    if sec.count == 0 {
        return None;
    }
    let mut j = sec.end;
    let mut frac = None;
    if s.get(j) == Some(&b'.') {
        let f = digits(s, j + 1);
        if !(1..=9).contains(&f.count) {
            return None;
        }
        frac = Some(f);
        j = f.end;
    }
    if s.get(j) != Some(&b':') {
        return None;
    }
    let mut k = spaces(s, j + 1);
    if k == j + 1 {
        return None;
    }
    if perf {
        let period = digits(s, k);
        if period.count > 0 {
            let after = spaces(s, period.end);
            if after == period.end {
                return None;
            }
            k = after;
        }
    }
    let name_end = if perf {
        perf_event(s, k)?
    } else {
        ftrace_event(s, k)?
    };
    Some((Stamp { sec, frac }, (k, name_end), spaces(s, name_end + 1)))
}

fn name_start(s: &[u8], k: usize) -> bool {
    matches!(s.get(k), Some(b) if b.is_ascii_alphabetic() || *b == b'_')
}

/// `[A-Za-z_][\w:.-]*:` at `k`: the offset of the last `:` of the run.
fn ftrace_event(s: &[u8], k: usize) -> Option<usize> {
    if !name_start(s, k) {
        return None;
    }
    let run = words(s, k + 1, COLON | DOT | DASH);
    s[k + 1..run]
        .iter()
        .rposition(|&b| b == b':')
        .map(|c| k + 1 + c)
}

/// `[A-Za-z_][\w.-]*:[A-Za-z_][\w.-]*:` at `k`: the offset of the second `:`.
fn perf_event(s: &[u8], k: usize) -> Option<usize> {
    if !name_start(s, k) {
        return None;
    }
    let colon = words(s, k + 1, DOT | DASH);
    if s.get(colon) != Some(&b':') || !name_start(s, colon + 1) {
        return None;
    }
    let end = words(s, colon + 2, DOT | DASH);
    (s.get(end) == Some(&b':')).then_some(end)
}

/// `\s*(\S+):\s+` at the start of `head`: trace-cmd's buffer or file name, and what follows it.
fn buffer_name(head: &str) -> Option<(&str, &str)> {
    let b = head.as_bytes();
    let i = spaces(b, 0);
    let j = non_spaces(b, i);
    if j < i + 2 || b[j - 1] != b':' || space(b, j).is_none() {
        return None;
    }
    Some((&head[i..j - 1], &head[spaces(b, j)..]))
}
