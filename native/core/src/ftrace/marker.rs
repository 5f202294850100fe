//! The lines of a recording that are not events but say something about it: lost-event markers, the `trace`
//! header's overwritten count, a line that starts like an event but does not parse, and the head of a file that
//! says it is a recording at all (Python's `ftrace_line.lost_marker`, `overwritten`, `looks_like_event`,
//! `is_ftrace`). These lines are rare: each test is a plain scan, tried only on lines `parse_line` turned away.

use super::chars::{
    digits, is_py_digit_str, lstrip, non_spaces, space, spaces, strip, words, Digits,
};
use super::line::{bracketed_cpu, parse_line, pid_cpu, unquote, Parsed};

/// `CPU:N [LOST M EVENTS]` (tracefs), `CPU:N [M EVENTS DROPPED]` (trace-cmd), `PERF_RECORD_LOST lost M` or
/// `lost M chunks` (perf). Numbers are kept as `int()` prints them, whatever their size: the note quotes them.
#[derive(Clone, Debug, PartialEq)]
pub struct Lost {
    /// None: unknown.
    pub cpu: Option<String>,
    /// None: unknown (perf's chunks are not events).
    pub count: Option<String>,
}

/// The decimal text of a run of digits, as `str(int(run))`.
fn decimal(s: &[u8], start: usize, d: Digits) -> String {
    if let Some(v) = d.value {
        return v.to_string();
    }
    let mut out = String::with_capacity(d.count);
    let mut i = start;
    while let Some((v, n)) = super::chars::digit(s, i) {
        if !(out.is_empty() && v == 0) {
            out.push(char::from(b'0' + v as u8));
        }
        i += n;
    }
    out
}

/// A lost-events marker, printed before the first event after the gap.
pub fn lost_marker(line: &str) -> Option<Lost> {
    let s = strip(line).as_bytes();
    // `(?:\S+:\s+)?` then `CPU:`: with the prefix first, then without it
    let j = non_spaces(s, 0);
    if j >= 2 && s[j - 1] == b':' && space(s, j).is_some() {
        if let Some(lost) = cpu_marker(s, spaces(s, j)) {
            return Some(lost);
        }
    }
    if let Some(lost) = cpu_marker(s, 0) {
        return Some(lost);
    }
    if memchr::memmem::find(line.as_bytes(), b"lost").is_some() {
        return perf_lost(line.as_bytes());
    }
    None
}

/// `CPU:\s*(\d+) \[(?:LOST (\d+) EVENTS|(\d+)? ?EVENTS DROPPED)\]` at `i`.
fn cpu_marker(s: &[u8], i: usize) -> Option<Lost> {
    let rest = s.get(i..)?.strip_prefix(b"CPU:")?;
    let at = spaces(s, s.len() - rest.len());
    let cpu = digits(s, at);
    if cpu.count == 0 || s.get(cpu.end..cpu.end + 2) != Some(b" [") {
        return None;
    }
    let open = cpu.end + 2;
    let count = if s[open..].starts_with(b"LOST ") && {
        let n = digits(s, open + 5);
        n.count > 0 && s[n.end..].starts_with(b" EVENTS]")
    } {
        Some(decimal(s, open + 5, digits(s, open + 5)))
    } else {
        let n = digits(s, open);
        let mut k = n.end;
        if s.get(k) == Some(&b' ') {
            k += 1;
        }
        if !s[k..].starts_with(b"EVENTS DROPPED]") {
            return None;
        }
        (n.count > 0).then(|| decimal(s, open, n))
    };
    Some(Lost {
        cpu: Some(decimal(s, at, cpu)),
        count,
    })
}

/// `(?:.*?\[(\d{1,4})\].*?)?PERF_RECORD_LOST\w* lost (\d+)|Processed \d+ (?:events|samples) and lost \d+ chunks`,
/// searched: the earliest `[cpu]` with a record after it wins; else the leftmost record or closing line.
fn perf_lost(s: &[u8]) -> Option<Lost> {
    let records: Vec<(usize, usize)> = memchr::memmem::find_iter(s, b"PERF_RECORD_LOST")
        .filter_map(|q| {
            let w = words(s, q + 16, 0);
            let n = s[w..].starts_with(b" lost ").then(|| w + 6)?;
            (digits(s, n).count > 0).then_some((q, n))
        })
        .collect();
    let count = |n: usize| Some(decimal(s, n, digits(s, n)));
    if let Some(&(last, _)) = records.last() {
        for b in memchr::memchr_iter(b'[', s) {
            if let Some(cpu) = bracketed_cpu(s, b) {
                if cpu.end + 1 > last {
                    break;
                }
                let &(_, n) = records.iter().find(|(q, _)| *q > cpu.end)?;
                return Some(Lost {
                    cpu: Some(decimal(s, b + 1, cpu)),
                    count: count(n),
                });
            }
        }
    }
    let closing = memchr::memmem::find_iter(s, b"Processed ").find(|&p| {
        let n = digits(s, p + 10);
        let rest = &s[n.end..];
        let Some(rest) = rest
            .strip_prefix(b" events and lost ")
            .or_else(|| rest.strip_prefix(b" samples and lost "))
        else {
            return false;
        };
        let chunks = digits(s, s.len() - rest.len());
        n.count > 0 && chunks.count > 0 && s[chunks.end..].starts_with(b" chunks")
    });
    match (records.first(), closing) {
        (Some(&(q, n)), c) if c.is_none_or(|c| q < c) => Some(Lost {
            cpu: None,
            count: count(n),
        }),
        (_, Some(_)) => Some(Lost {
            cpu: None,
            count: None,
        }),
        _ => None,
    }
}

/// From the `trace` header `# entries-in-buffer/entries-written: A/B`: B - A events were overwritten. None also
/// when A or B does not fit a u64 (Python would still subtract them): no warning then.
pub fn overwritten(line: &str) -> Option<i128> {
    let s = line.as_bytes();
    let i = spaces(s, s.strip_prefix(b"#").map(|_| 1)?);
    let rest = s[i..].strip_prefix(b"entries-in-buffer/entries-written:")?;
    let a = digits(s, spaces(s, s.len() - rest.len()));
    if a.count == 0 || s.get(a.end) != Some(&b'/') {
        return None;
    }
    let b = digits(s, a.end + 1);
    if b.count == 0 {
        return None;
    }
    Some(b.value? as i128 - a.value? as i128)
}

/// The line starts like an event line (task, pid, cpu): if it does not parse, it was cut or mangled.
pub fn looks_like_event(line: &str) -> bool {
    let s = line.as_bytes();
    memchr::memchr_iter(b'-', s).any(|d| pid_cpu(s, d).is_some()) || perf_start(s)
}

/// Python's `_PERF_START`: `\s*\S.*?\s+(?:\d+/)?\d+\s+(?:\[\d{1,4}\]\s+\d|\d+\.\d{6})` matched at the start: a
/// whitespace run after the first visible character, followed by the perf columns.
fn perf_start(s: &[u8]) -> bool {
    let a = spaces(s, 0);
    let Some(first) = super::chars::non_space(s, a) else {
        return false;
    };
    let mut i = a + first;
    while i < s.len() {
        let Some(n) = space(s, i) else {
            i += 1;
            continue;
        };
        let end = spaces(s, i + n);
        if perf_columns_start(s, end) {
            return true;
        }
        i = end;
    }
    false
}

fn perf_columns_start(s: &[u8], k: usize) -> bool {
    let first = digits(s, k);
    if first.count == 0 {
        return false;
    }
    let mut end = first.end;
    if s.get(end) == Some(&b'/') {
        let pid = digits(s, end + 1);
        if pid.count == 0 {
            return false;
        }
        end = pid.end;
    }
    let i = spaces(s, end);
    if i == end {
        return false;
    }
    if let Some(cpu) = bracketed_cpu(s, i) {
        let j = spaces(s, cpu.end + 1);
        return j > cpu.end + 1 && super::chars::digit(s, j).is_some();
    }
    let sec = digits(s, i);
    sec.count > 0 && s.get(sec.end) == Some(&b'.') && digits(s, sec.end + 1).count >= 6
}

/// Whether the head of a file is an ftrace recording rather than a kernel log: a tracefs or trace-cmd header, or
/// more event lines than printk-stamped ones (a trace pasted with a few log lines around it).
pub fn sniff(head: &[&str]) -> bool {
    let (mut events, mut stamped) = (0usize, 0usize);
    for line in head {
        let s = unquote(line);
        if s.starts_with("# tracer:") || (s.starts_with("cpus=") && is_py_digit_str(strip(&s[5..])))
        {
            return true;
        }
        if parse_line(s) != Parsed::Text {
            events += 1;
        } else if lstrip(s).starts_with('[') || s.starts_with('<') {
            stamped += 1;
        }
    }
    events > 0 && events >= stamped
}
