//! `LogConverter`: one kernel log, line by line, into events.
//!
//! A report spreads one fact over several lines; the converter keeps that little state: at most one event *held*
//! for the line that completes it (the events of the lines in between wait behind it, so the output stays in
//! line order), the open lockdep holder, the task table's columns, the chosen victim, the `oom-kill:` summary,
//! the last invocation, the Mem-Info summary's counters. Every line yields at least one event (the structured
//! ones it means, or a `log` event with its text), so nothing is lost.

use super::kill::Chosen;
use super::locks;
use super::memory;
use super::oom_more::{self, Summary};
use super::prefix::{split_prefix, Format, Prefixed};
use super::run::*;
use super::words::*;
pub use crate::model::event::log_event;
use crate::model::schema::{fields_of, kind};
use crate::model::{Event, Src, Str, Value};
use crate::text::pystr::{cut_chars, strip};

/// Only this much of a line is matched against the families, in characters (the source keeps all of it).
pub const MATCH_CHARS: usize = 4096;
/// How far the head of a file is read to decide its clock.
pub const SNIFF_LINES: usize = 2000;
/// Not-understood lines kept for `--report` (all are counted).
pub const UNPARSED_KEPT: usize = 100;
/// A held event is released after this many lines at most, completed or not.
pub(super) const HOLD_LINES: i32 = 16;
/// Lines of a Call Trace read into an invocation's stack.
pub(super) const STACK_LINES: i32 = 96;
pub(super) const YEAR_NS: i64 = 366 * 86_400 * 1_000_000_000;
pub(super) const HALF_YEAR_NS: i64 = YEAR_NS / 2;
/// Lines that may sit between an OOM header (or a warn_alloc line) and the `CPU:` line naming its task.
pub(super) const BEFORE_CPU: [&str; 3] = ["COMPACTION is disabled", "cpuset=", "mems_allowed="];
/// Lines that may sit between a ≥5.0 memcg `memory:` line and its `Memory cgroup stats for` line.
pub(super) const MEMCG_MATES: [&str; 4] = [
    "memory+swap:",
    "swap:",
    "kmem:",
    "Memory cgroup min protection",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Hold {
    Stack,
    Invoke,
    Alloc,
    Panic,
    Memcg,
    KillComm,
}

/// What a family made of a line.
pub(super) enum Fam {
    /// not understood by any family
    None,
    /// understood; its events (none: the line stays a `log` event)
    Events(Vec<Event>),
    /// understood; it started a hold (the held event is `self.hold`)
    Held,
}

pub(super) fn opt_str(v: Option<&str>) -> Value {
    v.map_or(Value::Nil, Value::str)
}

pub(super) fn ev(ts: i64, kind: u8, pid: Option<i64>, src: Src) -> Event {
    let mut e = Event::new(ts, kind, pid);
    e.src = Some(src);
    e
}

pub(super) fn inferred(e: &mut Event, names: &[&str]) {
    e.set_inferred(names.iter().map(|n| Str::from(*n)));
}

/// Converts the lines of one source (file id `file_id` in the trace) into events, in order.
pub struct LogConverter {
    pub file_id: i64,
    pub fmt: Format,
    /// events per kind (by kind id), for --report
    pub(super) counts: [u64; 32],
    /// the kernel release, from a CPU: line
    pub kernel: Option<String>,
    /// decided by `sniff`, or by the first line
    pub clock: Option<Clock>,
    pub(super) last_ts: i64,
    pub(super) wall_year_ns: i64,
    pub(super) last_wall: Option<i64>,
    pub(super) hold: Option<Event>,
    pub(super) hold_kind: Hold,
    pub(super) held: Vec<Event>,
    pub(super) hold_left: i32,
    /// the held event is the last invocation (its pid, once known, is the invoker)
    pub(super) hold_is_invocation: bool,
    pub(super) holder: Option<(i64, Str)>,
    pub(super) columns: Option<Vec<String>>,
    pub(super) chosen: Option<Chosen>,
    pub(super) summary: Option<Summary>,
    pub(super) memcg_path: Option<String>,
    pub(super) zone: Option<(i64, Str)>,
    /// the last oom_invoke's pid (outer None: no invocation open)
    pub(super) invocation: Option<Option<i64>>,
    pub(super) meminfo: Option<Vec<(&'static str, i64)>>,
    pub(super) meminfo_at: Option<(i64, Src)>,
    /// lines inside a recognised report that no parser understood: the first `UNPARSED_KEPT`, all counted
    pub unparsed: Vec<(i64, String)>,
    pub unparsed_count: u64,
    /// lines kept as text because a number on them does not fit an i64 (Python's int has no bound)
    pub overflow: Vec<i64>,
    /// a hold's events ended by another hold starting (`start_hold`), waiting to go out before the new line's
    pub(super) superseded: Vec<Event>,
    /// Whether a message goes to the families only when it may be one of theirs (`may_be_family`): a shortcut
    /// that must change nothing, which the tests check by turning it off.
    pub prefilter: bool,
    /// pids the reaper has printed a round's outcome for (a second round means a new mark, reaper.rs)
    pub(super) reaper_rounds: rustc_hash::FxHashSet<i64>,
}

impl LogConverter {
    pub fn new(file_id: i64, fmt: Format) -> LogConverter {
        LogConverter {
            file_id,
            fmt,
            counts: [0; 32],
            kernel: None,
            clock: None,
            last_ts: 0,
            wall_year_ns: 0,
            last_wall: None,
            hold: None,
            hold_kind: Hold::Stack,
            held: Vec::new(),
            hold_left: 0,
            hold_is_invocation: false,
            holder: None,
            columns: None,
            chosen: None,
            summary: None,
            memcg_path: None,
            zone: None,
            invocation: None,
            meminfo: None,
            meminfo_at: None,
            unparsed: Vec::new(),
            unparsed_count: 0,
            overflow: Vec::new(),
            superseded: Vec::new(),
            prefilter: true,
            reaper_rounds: Default::default(),
        }
    }

    pub(super) fn count_logs(&mut self, n: usize) {
        self.counts[kind::LOG as usize] += n as u64;
    }

    pub(super) fn count(&mut self, events: &[Event]) {
        for e in events {
            self.counts[e.kind as usize] += 1;
        }
    }

    /// Pick the clock from the first lines: printk stamps if any line has one, else wall time.
    pub fn sniff<S: AsRef<str>>(&mut self, head: &[S]) {
        self.clock = Some(Clock::Wall);
        for line in head {
            if split_prefix(cut_chars(line.as_ref(), MATCH_CHARS), self.fmt)
                .mono_ns
                .is_some()
            {
                self.clock = Some(Clock::Printk);
                return;
            }
        }
    }

    /// Release whatever is still held (the log ended inside a report).
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        let start = out.len();
        self.release(out);
        self.end_meminfo(out);
        self.count(&out[start..]);
    }

    pub(super) fn time(&mut self, p: &Prefixed) -> i64 {
        let clock = *self.clock.get_or_insert(if p.mono_ns.is_some() {
            Clock::Printk
        } else {
            Clock::Wall
        });
        let mut ts = if clock == Clock::Printk {
            p.mono_ns
        } else {
            p.wall_ns
        };
        if let (Some(t), true, Clock::Wall) = (ts, p.yearless, clock) {
            if let Some(last) = self.last_wall {
                if t.saturating_add(self.wall_year_ns) < last.saturating_sub(HALF_YEAR_NS) {
                    self.wall_year_ns = self.wall_year_ns.saturating_add(YEAR_NS);
                }
            }
            let t = t.saturating_add(self.wall_year_ns);
            self.last_wall = Some(t);
            ts = Some(t);
        }
        match ts {
            Some(t) if t >= self.last_ts => {
                self.last_ts = t;
                t
            }
            _ => self.last_ts,
        }
    }

    /// The events of one line (possibly none yet, while an event is held, or several when one is released).
    pub fn feed(&mut self, lineno: i64, line: &str, out: &mut Vec<Event>) {
        let start = out.len();
        let p = split_prefix(cut_chars(line, MATCH_CHARS), self.fmt);
        let src = (self.file_id, lineno);
        let mut new: Vec<Event> = Vec::new();
        let mut started = false;
        if p.overflow {
            // a time past the trace's range: the whole line as text, at the last time (see `Prefixed::overflow`)
            self.overflow.push(lineno);
            new.push(log_event(self.last_ts, line, src));
        } else if !p.kernel {
            let ts = self.time(&p);
            self.holder = None;
            self.columns = None;
            new.push(log_event(ts, &p.text, src));
        } else {
            let ts = self.time(&p);
            let msg = strip(&p.text);
            if self.hold.is_some() && self.continue_hold(msg, ts, src, out) {
                let made: Vec<Event> = out[start..].to_vec();
                self.count(&made);
                return;
            }
            let had = self.hold.is_some();
            self.parse(msg, &p.text, ts, src, &mut new, &mut started);
            started = started || (!had && self.hold.is_some());
        }
        out.append(&mut self.superseded);
        if self.hold.is_some() && !started {
            self.held.append(&mut new);
        } else {
            out.append(&mut new);
        }
        self.count(&out[start..]);
    }

    /// The events one kernel message means; a `log` event when it means none. A line that is not part of an
    /// open Mem-Info summary ends it: the summary's event comes first.
    pub(super) fn parse(
        &mut self,
        msg: &str,
        raw: &str,
        ts: i64,
        src: Src,
        new: &mut Vec<Event>,
        started: &mut bool,
    ) {
        if self.meminfo.is_some() {
            if self.meminfo_line(msg, ts, src) {
                new.push(log_event(ts, raw, src));
                return;
            }
            self.end_meminfo(new);
        }
        self.parse_line(msg, raw, ts, src, new, started);
    }

    pub(super) fn meminfo_line(&mut self, msg: &str, ts: i64, src: Src) -> bool {
        let found = memory::counters(msg);
        if let Some(found) = self.found(found, src) {
            let fields = fields_of(kind::MEMINFO);
            let mi = self.meminfo.as_mut().expect("meminfo open");
            for (name, pages) in found {
                let key = format!("{name}_kb");
                if let Some(&field) = fields.iter().find(|f| **f == key) {
                    match mi.iter_mut().find(|(f, _)| *f == field) {
                        Some(slot) => slot.1 = pages,
                        None => mi.push((field, pages)),
                    }
                }
            }
            self.meminfo_at = Some((ts, src));
            return true;
        }
        self.meminfo.as_ref().is_some_and(Vec::is_empty) && memory::per_cpu(msg)
    }

    pub(super) fn end_meminfo(&mut self, out: &mut Vec<Event>) {
        let found = self.meminfo.take();
        let at = self.meminfo_at.take();
        let (Some(found), Some((ts, src))) = (found, at) else {
            return;
        };
        if found.is_empty() {
            return;
        }
        let mut e = ev(ts, kind::MEMINFO, None, src);
        for &(field, pages) in &found {
            e.set(field, Value::Int(pages.saturating_mul(4)));
        }
        e.set_inferred(found.iter().map(|(f, _)| Str::from(*f)));
        out.push(e);
    }

    pub(super) fn parse_line(
        &mut self,
        msg: &str,
        raw: &str,
        ts: i64,
        src: Src,
        new: &mut Vec<Event>,
        started: &mut bool,
    ) {
        if let Some((pid, comm)) = self.holder.clone() {
            let lock = locks::held_lock(msg);
            if let Some(l) = self.found(lock, src) {
                let mut e = ev(ts, kind::LOCK_HELD, Some(pid), src);
                e.set("lock", Value::str(l.lock));
                e.set("site", opt_str(l.site));
                e.set("index", Value::Int(l.index));
                e.set("comm", Value::Str(comm));
                new.push(e);
                return;
            }
            if lock_line(msg) {
                self.not_understood(src, msg);
            }
            self.holder = None;
        }
        if let Some(columns) = self.columns.take() {
            let row = oom_more::table_row(msg, &columns);
            if let Some(row) = self.found(row, src) {
                let mut e = ev(ts, kind::OOM_CANDIDATE, Some(row.pid), src);
                e.set("comm", opt_str(row.comm));
                for &(f, v) in &row.values {
                    e.set(f, Value::Int(v));
                }
                if columns.iter().any(|c| c == "nr_ptes") {
                    inferred(&mut e, &["pgtables_bytes"]);
                }
                self.columns = Some(columns);
                new.push(e);
                return;
            }
            if oom_more::table_row_shape(msg).is_some() {
                self.not_understood(src, msg);
            }
        }
        let words = looked_for(msg);
        let fam = if !self.prefilter || may_be_family_with(msg, words) {
            self.families(msg, words, ts, src)
        } else {
            Fam::None
        };
        if matches!(fam, Fam::None) && is_report(words) {
            self.not_understood(src, msg);
        }
        match fam {
            Fam::Held => *started = true,
            Fam::Events(events) if !events.is_empty() => new.extend(events),
            _ => new.push(log_event(ts, raw, src)),
        }
    }

    pub(super) fn memdie(ts: i64, pid: i64, src: Src) -> Event {
        let mut e = ev(ts, kind::FLAG_SET, Some(pid), src);
        e.set("flag", Value::str("TIF_MEMDIE"));
        inferred(&mut e, &["flag"]);
        e
    }
}

/// `_LOCK_LINE.match(msg)`: `#\d+:`.
pub(super) fn lock_line(msg: &str) -> bool {
    msg.starts_with('#')
        && super::scan::digits1(msg, 1).is_some_and(|e| super::scan::byte(msg, e) == Some(b':'))
}
