//! `feed_block` (kernel_log.py): most lines of a large log are chatter, and each stretch of them met while no
//! report is open goes out as one `LogRun`, the same events `feed` would make one line at a time. The lines are
//! chosen as Python's bulk path chooses them, so the runs are Python's too: a line `feed` must see (a *stop*) is
//! one with neither prefix the bulk path reads, a kernel line without a dmesg stamp (six digits of fraction), a
//! message that starts as a family's may, a line holding one of `STOP_WORDS`, a line longer than `MATCH_CHARS`.

use std::borrow::Cow;

use super::converter::{LogConverter, MATCH_CHARS};
use super::months::month;
use super::prefix_syslog::bsd_shape;
use super::run::{Clock, Item, LogRun};
use super::scan::{byte, drun, lit, number, spaces};
use super::words::FAMILY_STARTS;
use crate::model::Event;
use crate::text::is_space;

/// Every family mark and report word, less those holding another (a line with "Killed process" holds "Kill").
pub const STOP_WORDS: [&str; 12] = [
    " 0x",
    " free:",
    " held by ",
    ": usage ",
    "Kill",
    "Out of memory",
    "deadlocked on memory",
    "is already exiting",
    "no killable processes",
    "oom",
    "page allocation",
    "pending SIGKILL",
];

static STOPS: super::needles::Lazy = super::needles::Lazy::new(&STOP_WORDS);

/// `DMESG_STAMP` at `i`: `\[\s*(\d{1,12})\.(\d{6})\] ?(?:\[\s*[TC]\d{1,10}\] ?)?`: its end and time (no
/// stamp when it does not fit an i64 of ns: `feed` reads such a line).
#[inline]
fn stamp6(s: &str, i: usize) -> Option<(usize, Option<i64>)> {
    if byte(s, i) != Some(b'[') {
        return None;
    }
    let a = spaces(s, i + 1);
    let b = drun(s, a, 1, 12)?;
    let c = lit(s, b, ".")?;
    let d = drun(s, c, 6, 6)?;
    let mut end = lit(s, d, "]")?;
    if byte(s, end) == Some(b' ') {
        end += 1;
    }
    // the caller id
    if byte(s, end) == Some(b'[') {
        let j = spaces(s, end + 1);
        if matches!(byte(s, j), Some(b'T' | b'C')) {
            if let Some(e) = drun(s, j + 1, 1, 10).and_then(|e| lit(s, e, "]")) {
                end = if byte(s, e) == Some(b' ') { e + 1 } else { e };
            }
        }
    }
    // a stamp past i64 ns is no chatter: `feed` keeps its whole line as text (`Prefixed::overflow`)
    let ns = number(&s[a..b])
        .ok()
        .and_then(|v| v.checked_mul(1_000_000_000))
        .and_then(|v| v.checked_add(number(&s[c..d]).ok()? * 1000))?;
    Some((end, Some(ns)))
}

/// `_START` at `i`: a family's start after blanks, or a journal's `HOST kernel: `.
#[inline]
fn starts(s: &str, i: usize) -> bool {
    let w = spaces(s, i);
    let rest = &s.as_bytes()[w..];
    if let Some(&c) = rest.first() {
        // the starts begin with one of these bytes
        if matches!(
            c,
            b'C' | b'P' | b'o' | b'l' | b'[' | b'M' | b'T' | b'#' | b't' | b'I'
        ) && super::needles::starts_any(&s[w..], &FAMILY_STARTS)
        {
            return true;
        }
    }
    // `\S+ kernel: ` at i
    let mut j = i;
    while let Some((c, next)) = super::scan::char_at(s, j) {
        if is_space(c) {
            break;
        }
        j = next;
    }
    j > i && s.as_bytes()[j..].starts_with(b" kernel: ")
}

/// How the bulk path reads one line: a stop, or chatter with its time (None: keep the last) and text start.
#[derive(Clone, Copy)]
enum Line {
    Stop,
    Chatter { ts: Option<i64>, text: usize },
}

fn too_long(s: &str) -> bool {
    s.len() > MATCH_CHARS && s.chars().count() > MATCH_CHARS
}

fn dmesg_line(s: &str) -> Line {
    match stamp6(s, 0) {
        Some((end, ts)) if !starts(s, end) => Line::Chatter { ts, text: end },
        _ => Line::Stop,
    }
}

fn syslog_line(s: &str, dmesg: bool) -> Line {
    let Some(b) = bsd_shape(s) else {
        return if dmesg { dmesg_line(s) } else { Line::Stop };
    };
    if month(&s[..b.name_end]).is_none() {
        return Line::Stop;
    }
    let stamp = stamp6(s, b.end);
    let after = stamp.map_or(b.end, |(e, _)| e);
    if starts(s, after) {
        return Line::Stop;
    }
    let kernel = b.tag == "kernel" && !b.pid;
    match (kernel, stamp) {
        (false, _) => Line::Chatter {
            ts: None,
            text: b.end,
        },
        (true, None) => Line::Stop,
        (true, Some((e, ts))) => Line::Chatter { ts, text: e },
    }
}

impl LogConverter {
    /// The events of the whole lines in `block` (each ending with a newline; a CR before it goes, invalid UTF-8
    /// becomes U+FFFD, as `sources.py` reads them), numbered from `first`: those `feed` makes, but each stretch of
    /// chatter met while no report is open comes as one `LogRun`. Returns the number of lines.
    pub fn feed_block(&mut self, first: i64, block: &[u8], out: &mut Vec<Item>) -> usize {
        let text: Cow<str> = match std::str::from_utf8(block) {
            Ok(t) => Cow::Borrowed(t),
            Err(_) => String::from_utf8_lossy(block),
        };
        let body = text.strip_suffix('\n').unwrap_or(&text);
        let mut lines: Vec<&str> = Vec::with_capacity(block.len() / 64 + 1);
        if !text.is_empty() {
            let mut a = 0;
            for n in memchr::memchr_iter(b'\n', body.as_bytes()).chain(std::iter::once(body.len()))
            {
                let l = &body[a..n];
                lines.push(l.strip_suffix('\r').unwrap_or(l));
                a = n + 1;
            }
        }
        self.feed_split(first, &lines, out, false);
        lines.len()
    }

    /// `feed_block(first, lines)` over lines already split (none may hold a newline, or all go to `feed`).
    pub fn feed_lines(&mut self, first: i64, lines: &[&str], out: &mut Vec<Item>) {
        let newline = lines.iter().any(|l| l.contains('\n'));
        self.feed_split(first, lines, out, newline);
    }

    fn feed_split(&mut self, first: i64, lines: &[&str], out: &mut Vec<Item>, newline: bool) {
        let dmesg = self.fmt.dmesg_stamps();
        let syslog = self.fmt.syslog_prefix();
        let mut events: Vec<Event> = Vec::new();
        if self.clock != Some(Clock::Printk) || !(dmesg || syslog) || newline {
            for (i, line) in lines.iter().enumerate() {
                self.feed(first + i as i64, line, &mut events);
                out.extend(events.drain(..).map(Item::Event));
            }
            return;
        }
        let bracketed = lines.iter().filter(|l| l.starts_with('[')).count();
        let syslog_mode = syslog && !(dmesg && 2 * bracketed > lines.len());
        // a line is read as the bulk path reads it only where that matters: while no report is open (inside one,
        // every line goes to `feed` whether a stop or not, as in Python's loop over its stops)
        let stops = STOPS.get();
        let classify = |s: &str| -> Line {
            if too_long(s) || stops.any(s) {
                Line::Stop
            } else if syslog_mode {
                syslog_line(s, dmesg)
            } else {
                dmesg_line(s)
            }
        };
        let mut i = 0;
        while i < lines.len() {
            let line = if self.at_rest() {
                classify(lines[i])
            } else {
                Line::Stop
            };
            if let Line::Chatter { .. } = line {
                let mut run = LogRun {
                    file_id: self.file_id,
                    first_line: first + i as i64,
                    ..LogRun::default()
                };
                let mut next = line;
                while let Line::Chatter { ts, text } = next {
                    let t = match ts {
                        Some(t) if t > self.last_ts => t,
                        _ => self.last_ts,
                    };
                    self.last_ts = t;
                    run.ts.push(t);
                    run.text.push_str(&lines[i][text..]);
                    run.ends.push(run.text.len());
                    i += 1;
                    next = lines.get(i).map_or(Line::Stop, |s| classify(s));
                }
                self.count_logs(run.len());
                out.push(Item::Run(run));
                if i == lines.len() {
                    break;
                }
            }
            // a stop, or any line inside a report: `feed` reads it
            self.feed(first + i as i64, lines[i], &mut events);
            out.extend(events.drain(..).map(Item::Event));
            i += 1;
        }
    }
}
