//! `LogConverter` (kernel_log.py): one kernel log, line by line, into events, with Python's output line for line.
//!
//! A report spreads one fact over several lines; the converter keeps that little state: at most one event *held*
//! for the line that completes it (the events of the lines in between wait behind it, so the output stays in
//! line order), the open lockdep holder, the task table's columns, the chosen victim, the `oom-kill:` summary,
//! the last invocation, the Mem-Info summary's counters. Every line yields at least one event (the structured
//! ones it means, or a `log` event with its text), so nothing is lost.

use super::memory;
use super::needles::Lazy;
use super::oom::{self, Chosen};
use super::oom_more::{self, Summary};
use super::prefix::{split_prefix, Format, Prefixed};
use super::scan::Found;
use super::{gfp, locks, reaper, tasks};
pub use crate::model::event::log_event;
use crate::model::schema::{fields_of, kind, kind_name};
use crate::model::{Event, Src, Str, Value};
use crate::text::pystr::{cut_chars, strip};

/// Only this much of a line is matched against the families, in characters (the source keeps all of it).
pub const MATCH_CHARS: usize = 4096;
/// How far the head of a file is read to decide its clock.
pub const SNIFF_LINES: usize = 2000;
/// Not-understood lines kept for `--report` (all are counted).
pub const UNPARSED_KEPT: usize = 100;
/// A held event is released after this many lines at most, completed or not.
const HOLD_LINES: i32 = 16;
/// Lines of a Call Trace read into an invocation's stack.
const STACK_LINES: i32 = 96;
const YEAR_NS: i64 = 366 * 86_400 * 1_000_000_000;
const HALF_YEAR_NS: i64 = YEAR_NS / 2;
/// Lines that may sit between an OOM header (or a warn_alloc line) and the `CPU:` line naming its task.
const BEFORE_CPU: [&str; 3] = ["COMPACTION is disabled", "cpuset=", "mems_allowed="];
/// Lines that may sit between a ≥5.0 memcg `memory:` line and its `Memory cgroup stats for` line.
const MEMCG_MATES: [&str; 4] = [
    "memory+swap:",
    "swap:",
    "kmem:",
    "Memory cgroup min protection",
];
/// What a message must start with or contain for any family to accept it (oom, memory, locks, tasks).
pub const FAMILY_STARTS: [&str; 17] = [
    "CPU: ",
    "oom killer ",
    "Pid: ",
    "oom_reaper: ",
    "oom-kill:",
    "lowmemorykiller: ",
    "lmkd: ",
    "[",
    "Mem-Info:",
    "Mem-info:",
    "lowmem_reserve[]:",
    "Task in ",
    "Memory limit reached of cgroup ",
    "Memory cgroup stats for ",
    "#",
    "task:",
    "INFO: task ",
];
#[cfg_attr(not(test), allow(dead_code))]
pub const FAMILY_MARKS: [&str; 13] = [
    "invoked oom-killer",
    "Kill process",
    "Killed process",
    "is already exiting",
    "pending SIGKILL",
    "no killable processes",
    "deadlocked on memory",
    "panic_on_oom is enabled",
    " free:",
    ": usage ",
    ": page allocation ",
    " held by ",
    " 0x",
];
/// Words only an OOM report prints, and the words one of which each holds.
#[cfg_attr(not(test), allow(dead_code))]
const REPORT_MARKS: [&str; 8] = [
    "invoked oom-killer",
    "Killed process",
    "Kill process",
    "oom_reaper:",
    "oom-kill:",
    "Out of memory",
    "page allocation failure",
    "page allocation stalls",
];
#[cfg_attr(not(test), allow(dead_code))]
const REPORT_WORDS: [&str; 4] = ["oom", "Kill", "Out of memory", "page allocation"];

/// The clock a log's times are read on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// printk stamps: the kernel's clock since boot
    Printk,
    /// syslog / `dmesg -T` / journal wall time, ns since the epoch
    Wall,
}

impl Clock {
    pub fn name(self) -> &'static str {
        match self {
            Clock::Printk => "printk",
            Clock::Wall => "wall",
        }
    }
}

/// `log` events of consecutive source lines, in bulk (Python's `LogRun`): their times and texts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogRun {
    pub ts: Vec<i64>,
    /// the texts one after the other; text `i` is `text[ends[i - 1]..ends[i]]`
    pub text: String,
    pub ends: Vec<usize>,
    pub file_id: i64,
    pub first_line: i64,
}

impl LogRun {
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    pub fn text(&self, i: usize) -> &str {
        let a = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[a..self.ends[i]]
    }

    /// The same events one by one.
    pub fn events(&self) -> Vec<Event> {
        (0..self.len())
            .map(|i| {
                log_event(
                    self.ts[i],
                    self.text(i),
                    (self.file_id, self.first_line + i as i64),
                )
            })
            .collect()
    }
}

/// What `feed_block` hands on: an event, or a run of chatter.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Event(Event),
    Run(LogRun),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hold {
    Stack,
    Invoke,
    Alloc,
    Panic,
    Memcg,
    KillComm,
}

/// What a family made of a line.
enum Fam {
    /// not understood by any family
    None,
    /// understood; its events (none: the line stays a `log` event)
    Events(Vec<Event>),
    /// understood; it started a hold (the held event is `self.hold`)
    Held,
}

fn opt_str(v: Option<&str>) -> Value {
    v.map_or(Value::Nil, Value::str)
}

fn ev(ts: i64, kind: u8, pid: Option<i64>, src: Src) -> Event {
    let mut e = Event::new(ts, kind, pid);
    e.src = Some(src);
    e
}

fn inferred(e: &mut Event, names: &[&str]) {
    e.set_inferred(names.iter().map(|n| Str::from(*n)));
}

/// The families' marks, the report words and marks, and the words the families test for before their patterns
/// (each recogniser tests its own again), looked for in one pass over a message: bits `MARK_BITS`, `WORD_BITS`,
/// `REPORT_BITS` and the `G_` bits say which it holds.
const WORDS_LOOKED_FOR: [&str; 22] = [
    // FAMILY_MARKS, in order
    "invoked oom-killer",
    "Kill process",
    "Killed process",
    "is already exiting",
    "pending SIGKILL",
    "no killable processes",
    "deadlocked on memory",
    "panic_on_oom is enabled",
    " free:",
    ": usage ",
    ": page allocation ",
    " held by ",
    " 0x",
    // REPORT_WORDS
    "oom",
    "Kill",
    "Out of memory",
    "page allocation",
    // REPORT_MARKS not above
    "oom_reaper:",
    "oom-kill:",
    "page allocation failure",
    "page allocation stalls",
    // guards not above
    "sharing same memory",
];
static LOOKED_FOR: Lazy = Lazy::new(&WORDS_LOOKED_FOR);
const MARK_BITS: u64 = (1 << 13) - 1;
const WORD_BITS: u64 = 0b1111 << 13;
const REPORT_BITS: u64 =
    (1 << 0) | (1 << 2) | (1 << 1) | (1 << 17) | (1 << 18) | (1 << 15) | (1 << 19) | (1 << 20);
const G_INVOKE: u64 = 1;
const G_CHOSEN: u64 = 1 << 1;
const G_KILLED: u64 = 1 << 2;
const G_VICTIM: u64 = (1 << 3) | (1 << 4);
const G_ZONE: u64 = 1 << 8;
const G_USAGE: u64 = 1 << 9;
const G_ALLOC: u64 = 1 << 10;
const G_HOLDER: u64 = 1 << 11;
const G_TASK_OLD: u64 = 1 << 12;
const G_SHARING: u64 = 1 << 21;

/// Which of `WORDS_LOOKED_FOR` `msg` holds.
fn looked_for(msg: &str) -> u64 {
    LOOKED_FOR.get().mask(msg)
}

/// `_may_be_family(msg)`, given `looked_for(msg)`.
fn may_be_family_with(msg: &str, words: u64) -> bool {
    super::needles::starts_any(msg, &FAMILY_STARTS) || words & MARK_BITS != 0
}

/// `_may_be_family(msg)`.
pub fn may_be_family(msg: &str) -> bool {
    may_be_family_with(msg, looked_for(msg))
}

/// `_is_report(msg)`, given `looked_for(msg)`: a report word and a report mark.
fn is_report(words: u64) -> bool {
    words & WORD_BITS != 0 && words & REPORT_BITS != 0
}

/// Converts the lines of one source (file id `file_id` in the trace) into events, in order.
pub struct LogConverter {
    pub file_id: i64,
    pub fmt: Format,
    /// events per kind (by kind id), for --report
    counts: [u64; 32],
    /// the kernel release, from a CPU: line
    pub kernel: Option<String>,
    /// decided by `sniff`, or by the first line
    pub clock: Option<Clock>,
    pub(super) last_ts: i64,
    wall_year_ns: i64,
    last_wall: Option<i64>,
    pub(super) hold: Option<Event>,
    hold_kind: Hold,
    held: Vec<Event>,
    hold_left: i32,
    /// the held event is the last invocation (its pid, once known, is the invoker)
    hold_is_invocation: bool,
    pub(super) holder: Option<(i64, Str)>,
    pub(super) columns: Option<Vec<String>>,
    chosen: Option<Chosen>,
    summary: Option<Summary>,
    memcg_path: Option<String>,
    zone: Option<(i64, Str)>,
    /// the last oom_invoke's pid (outer None: no invocation open)
    invocation: Option<Option<i64>>,
    pub(super) meminfo: Option<Vec<(&'static str, i64)>>,
    meminfo_at: Option<(i64, Src)>,
    /// lines inside a recognised report that no parser understood: the first `UNPARSED_KEPT`, all counted
    pub unparsed: Vec<(i64, String)>,
    pub unparsed_count: u64,
    /// lines kept as text because a number on them does not fit an i64 (Python's int has no bound)
    pub overflow: Vec<i64>,
    /// lines whose events were lost because a hold was started over another (Python's converter loses them
    /// too: `_start_hold` drops the event held and those behind it; kept in step, and listed here)
    pub dropped: Vec<i64>,
    /// Whether a message goes to the families only when it may be one of theirs (`may_be_family`): a shortcut
    /// that must change nothing, which the tests check by turning it off.
    pub prefilter: bool,
    /// pids the reaper has printed a round's outcome for (a second round means a new mark, reaper.rs)
    reaper_rounds: rustc_hash::FxHashSet<i64>,
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
            dropped: Vec::new(),
            prefilter: true,
            reaper_rounds: Default::default(),
        }
    }

    /// Events per kind name, the kinds met only, in kind order.
    pub fn counts(&self) -> Vec<(&'static str, u64)> {
        (0..32u8)
            .filter(|&k| self.counts[k as usize] > 0)
            .map(|k| (kind_name(k), self.counts[k as usize]))
            .collect()
    }

    pub(super) fn count_logs(&mut self, n: usize) {
        self.counts[kind::LOG as usize] += n as u64;
    }

    fn count(&mut self, events: &[Event]) {
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

    fn time(&mut self, p: &Prefixed) -> i64 {
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
        if self.hold.is_some() && !started {
            self.held.append(&mut new);
        } else {
            out.append(&mut new);
        }
        self.count(&out[start..]);
    }

    fn start_hold(&mut self, e: Event, kind: Hold) {
        if let Some(old) = self.hold.take() {
            let lines = std::iter::once(&old)
                .chain(&self.held)
                .filter_map(|e| e.src)
                .map(|(_, l)| l);
            for l in lines {
                if self.dropped.last() != Some(&l) {
                    self.dropped.push(l);
                }
            }
        }
        self.hold = Some(e);
        self.hold_kind = kind;
        self.held.clear();
        self.hold_left = HOLD_LINES;
        self.hold_is_invocation = kind == Hold::Invoke;
    }

    fn release(&mut self, out: &mut Vec<Event>) {
        if let Some(h) = self.hold.take() {
            out.push(h);
            out.append(&mut self.held);
            self.hold_is_invocation = false;
        }
    }

    fn release_with(&mut self, e: Event, out: &mut Vec<Event>) {
        self.held.push(e);
        self.release(out);
    }

    fn found<T>(&mut self, r: Found<T>, src: Src) -> Option<T> {
        match r {
            Ok(v) => v,
            Err(_) => {
                if self.overflow.last() != Some(&src.1) {
                    self.overflow.push(src.1);
                }
                None
            }
        }
    }

    /// Complete, keep or release the held event in view of the next line; true when the line was used up.
    fn continue_hold(&mut self, msg: &str, ts: i64, src: Src, out: &mut Vec<Event>) -> bool {
        self.hold_left -= 1;
        match self.hold_kind {
            Hold::Stack => {
                if let Some(frame) = oom_more::stack_line(msg) {
                    if self.hold_left > 0 {
                        if !frame.is_empty() {
                            let h = self.hold.as_mut().expect("held");
                            let mut stack: Vec<Value> = h
                                .get("stack")
                                .as_list()
                                .map(<[Value]>::to_vec)
                                .unwrap_or_default();
                            stack.push(Value::str(frame));
                            h.set("stack", Value::list(stack));
                        }
                        self.held.push(log_event(ts, msg, src));
                        return true;
                    }
                }
            }
            Hold::Invoke | Hold::Alloc | Hold::Panic => {
                let kind = self.hold_kind;
                let cpu = oom::cpu_line(msg);
                if let Some(who) = self.found(cpu, src) {
                    if self.kernel.is_none() {
                        self.kernel = who.kernel.map(str::to_owned);
                    }
                    let h = self.hold.as_mut().expect("held");
                    let comm = h.get("comm").as_str();
                    if comm.is_none() || comm == Some(who.comm) {
                        if h.pid.is_none() {
                            h.pid = Some(who.pid);
                        }
                        if kind == Hold::Panic && h.pid == Some(who.pid) {
                            h.set("comm", Value::str(who.comm));
                        }
                        if self.hold_is_invocation {
                            self.invocation = Some(h.pid);
                        }
                        if kind == Hold::Invoke {
                            self.hold_kind = Hold::Stack;
                            self.hold_left = STACK_LINES;
                            self.held.push(log_event(ts, msg, src));
                            return true;
                        }
                        self.release_with(log_event(ts, msg, src), out);
                        return true;
                    }
                    self.release(out);
                    return false;
                }
                if self.hold_left > 0
                    && (msg.is_empty() || BEFORE_CPU.iter().any(|s| msg.contains(s)))
                {
                    return false;
                }
                if kind == Hold::Invoke && self.hold_left > 0 && oom_more::stack_line(msg).is_some()
                {
                    self.hold_kind = Hold::Stack;
                    self.hold_left = STACK_LINES;
                    return self.continue_hold(msg, ts, src, out);
                }
            }
            Hold::Memcg => {
                if let Some(path) = memory::stats_for(msg) {
                    self.hold
                        .as_mut()
                        .expect("held")
                        .set("path", Value::str(path));
                    self.release_with(log_event(ts, msg, src), out);
                    return true;
                }
                if self.hold_left > 0 && MEMCG_MATES.iter().any(|m| msg.starts_with(m)) {
                    return false;
                }
                self.hold
                    .as_mut()
                    .expect("held")
                    .set("path", Value::str("(unknown)"));
            }
            Hold::KillComm => {
                let inner = msg.trim_end_matches('.');
                if inner.len() >= 2 && inner.starts_with('(') && inner.ends_with(')') {
                    self.hold
                        .as_mut()
                        .expect("held")
                        .set("comm", Value::str(&inner[1..inner.len() - 1]));
                    self.release_with(log_event(ts, msg, src), out);
                    return true;
                }
            }
        }
        self.release(out);
        false
    }

    /// The events one kernel message means; a `log` event when it means none. A line that is not part of an
    /// open Mem-Info summary ends it: the summary's event comes first.
    fn parse(
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

    fn meminfo_line(&mut self, msg: &str, ts: i64, src: Src) -> bool {
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

    fn end_meminfo(&mut self, out: &mut Vec<Event>) {
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

    fn not_understood(&mut self, src: Src, msg: &str) {
        self.unparsed_count += 1;
        if self.unparsed.len() < UNPARSED_KEPT {
            self.unparsed.push((src.1, msg.to_owned()));
        }
    }

    fn parse_line(
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

    fn memdie(ts: i64, pid: i64, src: Src) -> Event {
        let mut e = ev(ts, kind::FLAG_SET, Some(pid), src);
        e.set("flag", Value::str("TIF_MEMDIE"));
        inferred(&mut e, &["flag"]);
        e
    }

    /// The events of a report line (see `Fam`).
    fn families(&mut self, msg: &str, g: u64, ts: i64, src: Src) -> Fam {
        let r = if g & G_INVOKE != 0 {
            oom::invoke(msg)
        } else {
            Ok(None)
        };
        if let Some(f) = self.found(r, src) {
            let dec = gfp::decode(f.gfp);
            if let Some((gfp_text, guessed)) = self.found(dec.map(Some), src) {
                self.chosen = None;
                self.summary = None;
                let mut e = ev(ts, kind::OOM_INVOKE, f.pid, src);
                e.set("comm", Value::str(f.comm));
                e.set("gfp", opt_str(gfp_text.as_deref()));
                e.set("order", f.order.into());
                e.set("oom_score_adj", f.oom_score_adj.into());
                e.set("nodemask", opt_str(f.nodemask));
                if guessed {
                    inferred(&mut e, &["gfp"]);
                }
                self.invocation = Some(e.pid);
                self.start_hold(e, Hold::Invoke);
                return Fam::Held;
            }
        }
        let r = if g & G_KILLED != 0 {
            oom::killed(msg)
        } else {
            Ok(None)
        };
        if let Some(f) = self.found(r, src) {
            return self.kill(f, ts, src);
        }
        let r = oom::reaper(msg);
        if let Some(f) = self.found(r, src) {
            let era = reaper::era(self.kernel.as_deref());
            let again = !f.giving_up && !self.reaper_rounds.insert(f.pid);
            return Fam::Events(reaper::reaper_events(&f, era, again, ts, src));
        }
        if msg.starts_with("oom killer ") {
            let r = reaper::pinned(msg);
            if let Some(p) = self.found(r, src) {
                let era = reaper::era(self.kernel.as_deref());
                return Fam::Events(reaper::pinned_events(&p, era, ts, src));
            }
        }
        if let Some(end) = oom_more::ending(msg) {
            let invoker = self.invocation.flatten();
            let mut e = ev(ts, kind::OOM_END, invoker, src);
            e.set("outcome", Value::str(end.outcome));
            e.set("reason", Value::str(end.reason));
            if end.outcome == "panic" {
                self.start_hold(e, Hold::Panic);
                return Fam::Held;
            }
            return Fam::Events(vec![e]);
        }
        if memory::mem_info(msg) {
            self.meminfo = Some(Vec::new());
            self.meminfo_at = None;
            return Fam::Events(Vec::new());
        }
        let r = if g & G_HOLDER != 0 {
            locks::holder(msg)
        } else {
            Ok(None)
        };
        if let Some((pid, comm)) = self.found(r, src) {
            self.holder = Some((pid, Str::from(comm)));
            let mut e = ev(ts, kind::TASK, Some(pid), src);
            e.set("comm", Value::str(comm));
            return Fam::Events(vec![e]);
        }
        if let Some(columns) = oom_more::table_header(msg) {
            self.columns = Some(columns);
            return Fam::Events(Vec::new());
        }
        let r = if g & G_ZONE != 0 {
            memory::zone(msg)
        } else {
            Ok(None)
        };
        if let Some(z) = self.found(r, src) {
            let mut e = ev(ts, kind::ZONE, None, src);
            let node = z.node.unwrap_or(0);
            e.set("node", Value::Int(node));
            e.set("zone", Value::str(z.zone));
            e.set("free_kb", Value::Int(z.free_kb));
            for &(k, v) in &z.kb {
                e.set(k, Value::Int(v));
            }
            if z.node.is_none() {
                inferred(&mut e, &["node"]);
            }
            self.zone = Some((node, Str::from(z.zone)));
            return Fam::Events(vec![e]);
        }
        let r = memory::lowmem_reserve(msg);
        if let Some(reserve) = self.found(r, src) {
            if let Some((node, zone)) = self.zone.take() {
                let mut e = ev(ts, kind::ZONE, None, src);
                e.set("node", Value::Int(node));
                e.set("zone", Value::Str(zone));
                let kb: Option<Vec<Value>> = reserve
                    .iter()
                    .map(|r| r.checked_mul(4).map(Value::Int))
                    .collect();
                let Some(kb) = kb else {
                    self.overflow.push(src.1);
                    return Fam::None;
                };
                e.set("lowmem_reserve_kb", Value::list(kb));
                inferred(&mut e, &["lowmem_reserve_kb"]);
                return Fam::Events(vec![e]);
            }
        }
        if let Some(s) = oom_more::summary(msg) {
            self.summary = Some(s);
            return Fam::Events(Vec::new());
        }
        let r = if g & G_CHOSEN != 0 {
            oom::chosen(msg)
        } else {
            Ok(None)
        };
        if let Some(c) = self.found(r, src) {
            self.chosen = Some(c);
            return Fam::Events(Vec::new());
        }
        let r = oom::cpu_line(msg);
        if let Some(who) = self.found(r, src) {
            if self.kernel.is_none() {
                self.kernel = who.kernel.map(str::to_owned);
            }
            let mut e = ev(ts, kind::TASK, Some(who.pid), src);
            e.set("comm", Value::str(who.comm));
            return Fam::Events(vec![e]);
        }
        let r = if g & G_USAGE != 0 {
            memory::usage(msg)
        } else {
            Ok(None)
        };
        if let Some(u) = self.found(r, src) {
            if u.what != "memory" {
                return Fam::Events(Vec::new());
            }
            let mut e = ev(ts, kind::MEMCG, None, src);
            e.set("path", opt_str(self.memcg_path.as_deref()));
            e.set("usage_kb", Value::Int(u.usage));
            e.set("limit_kb", u.limit.into());
            e.set("failcnt", u.failcnt.into());
            if self.memcg_path.take().is_some() {
                return Fam::Events(vec![e]);
            }
            self.start_hold(e, Hold::Memcg);
            return Fam::Held;
        }
        if let Some(path) = memory::limited_memcg(msg) {
            self.memcg_path = Some(path.to_owned());
            return Fam::Events(Vec::new());
        }
        let r = if g & G_ALLOC != 0 {
            memory::alloc(msg)
        } else {
            Ok(None)
        };
        if let Some(a) = self.found(r, src) {
            let dec = gfp::decode(a.gfp);
            if let Some((gfp_text, guessed)) = self.found(dec.map(Some), src) {
                let mut e = ev(ts, kind::ALLOC, None, src);
                e.set("comm", Value::str(a.comm));
                e.set("outcome", Value::str(if a.fail { "fail" } else { "stall" }));
                e.set("gfp", opt_str(gfp_text.as_deref()));
                e.set("order", a.order.into());
                e.set("duration_ns", a.duration_ns.into());
                if guessed {
                    inferred(&mut e, &["gfp"]);
                }
                self.start_hold(e, Hold::Alloc);
                return Fam::Held;
            }
        }
        let r = if g & G_SHARING != 0 {
            oom::sharing(msg)
        } else {
            Ok(None)
        };
        if let Some((pid, comm)) = self.found(r, src) {
            let mut e = ev(ts, kind::OOM_KILL, Some(pid), src);
            e.set("comm", Value::str(comm));
            return Fam::Events(vec![e, Self::memdie(ts, pid, src)]);
        }
        let r = if g & G_VICTIM != 0 {
            oom_more::victim_without_kill(msg)
        } else {
            Ok(None)
        };
        if let Some(v) = self.found(r, src) {
            if v.exiting {
                // 5.10 -> 6.x __oom_kill_process: find_lock_task_mm() found no thread with an mm, so it prints
                // this and returns: no SIGKILL, no mark_oom_victim, no reaper. A candidate skipped, not a
                // victim (kernel-audit F15): the task, with why it was passed over.
                let mut e = ev(ts, kind::TASK, Some(v.pid), src);
                e.set("comm", opt_str(v.comm));
                e.set(
                    "oom_skipped",
                    Value::str("already exiting: no mm left, not marked"),
                );
                return Fam::Events(vec![e]);
            }
            let mut e = ev(ts, kind::OOM_VICTIM, Some(v.pid), src);
            e.set("comm", opt_str(v.comm));
            return Fam::Events(vec![e, Self::memdie(ts, v.pid, src)]);
        }
        let r = oom_more::lmk_kill(msg);
        if let Some(k) = self.found(r, src) {
            let mut e = ev(ts, kind::OOM_KILL, Some(k.pid), src);
            e.set("comm", Value::str(k.comm));
            e.set("oom_score_adj", k.oom_score_adj.into());
            e.set("uid", k.uid.into());
            e.set("killer", Value::str("lowmemorykiller"));
            return Fam::Events(vec![e]);
        }
        let r = tasks::hung(msg);
        if let Some((pid, comm)) = self.found(r, src) {
            let mut e = ev(ts, kind::TASK_STATE, Some(pid), src);
            e.set("state", Value::str("D"));
            e.set("comm", Value::str(comm));
            inferred(&mut e, &["state"]);
            return Fam::Events(vec![e]);
        }
        let r = if g & G_TASK_OLD != 0 || msg.starts_with("task:") {
            tasks::task_line(msg)
        } else {
            Ok(None)
        };
        if let Some(t) = self.found(r, src) {
            let mut e = ev(ts, kind::TASK_STATE, Some(t.pid), src);
            e.set("state", Value::str(t.state));
            e.set("comm", Value::str(t.comm));
            return Fam::Events(vec![e]);
        }
        Fam::None
    }

    /// One `Killed process` line: the oom_kill, with what the chosen and summary lines said about it.
    fn kill(&mut self, f: oom::Killed<'_>, ts: i64, src: Src) -> Fam {
        let pid = f.pid;
        let mut e = ev(ts, kind::OOM_KILL, Some(pid), src);
        e.set("comm", opt_str(f.comm));
        for &(k, v) in &f.kb {
            e.set(k, Value::Int(v));
        }
        e.set("uid", f.uid.into());
        e.set("oom_score_adj", f.oom_score_adj.into());
        self.invocation = None;
        if let Some(chosen) = self.chosen.take() {
            if chosen.pid == pid {
                e.set("points", Value::Int(chosen.points));
            } else {
                e.set("parent", Value::Int(chosen.pid));
            }
        }
        let summary = self.summary.take();
        match summary {
            Some(s) if s.pid == Some(pid) => {
                // only `oom_memcg=` names the OOM's memcg (mem_cgroup_print_oom_context prints `,global_oom`
                // otherwise); `task_memcg=` is where the victim lives, kept apart (kernel-audit F17)
                let memcg = s.oom_memcg.as_deref().filter(|m| !m.is_empty());
                e.set("memcg", opt_str(memcg));
                e.set("task_memcg", opt_str(s.task_memcg.as_deref()));
                e.set("constraint", opt_str(s.constraint.as_deref()));
            }
            _ => {
                if f.message.is_some_and(|m| m.starts_with("Memory cgroup")) {
                    e.set("constraint", Value::str("CONSTRAINT_MEMCG"));
                    inferred(&mut e, &["constraint"]);
                }
            }
        }
        if f.comm.is_none() {
            self.start_hold(e, Hold::KillComm);
            self.held.push(Self::memdie(ts, pid, src));
            return Fam::Held;
        }
        Fam::Events(vec![e, Self::memdie(ts, pid, src)])
    }

    /// Whether no report is open: a chatter line may then go in bulk.
    pub(super) fn at_rest(&self) -> bool {
        self.hold.is_none()
            && self.meminfo.is_none()
            && self.holder.is_none()
            && self.columns.is_none()
    }
}

/// `_LOCK_LINE.match(msg)`: `#\d+:`.
fn lock_line(msg: &str) -> bool {
    msg.starts_with('#')
        && super::scan::digits1(msg, 1).is_some_and(|e| super::scan::byte(msg, e) == Some(b':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(words: &[&str]) -> u64 {
        words
            .iter()
            .map(|w| {
                1u64 << WORDS_LOOKED_FOR
                    .iter()
                    .position(|x| x == w)
                    .expect("looked for")
            })
            .sum()
    }

    #[test]
    fn the_bits_name_pythons_word_lists() {
        assert_eq!(bits(&FAMILY_MARKS), MARK_BITS);
        assert_eq!(bits(&REPORT_WORDS), WORD_BITS);
        assert_eq!(bits(&REPORT_MARKS), REPORT_BITS);
        for (bit, word) in [
            (G_INVOKE, "invoked oom-killer"),
            (G_CHOSEN, "Kill process"),
            (G_KILLED, "Killed process"),
            (G_ZONE, " free:"),
            (G_USAGE, ": usage "),
            (G_ALLOC, ": page allocation "),
            (G_HOLDER, " held by "),
            (G_TASK_OLD, " 0x"),
            (G_SHARING, "sharing same memory"),
        ] {
            assert_eq!(bits(&[word]), bit, "{word}");
        }
        assert_eq!(bits(&["is already exiting", "pending SIGKILL"]), G_VICTIM);
    }

    #[test]
    fn one_pass_says_what_contains_says() {
        for msg in [
            "a.out invoked oom-killer: gfp_mask=0x0",
            "Kill process 1 (x) score 2 or sacrifice child",
            "x: page allocation stalls for 10ms",
            "nothing",
            "oom_reaper: reaped process 1 (a)",
        ] {
            let w = looked_for(msg);
            for (i, word) in WORDS_LOOKED_FOR.iter().enumerate() {
                assert_eq!(w & (1 << i) != 0, msg.contains(word), "{msg} / {word}");
            }
        }
    }
}
