//! `FtraceConverter`: one recording's lines into events, in time order (Python's `ftrace.FtraceConverter`).
//!
//! Each line becomes at least one event: the model events its tracepoint means, or a `log` event with its text
//! (headers, unknown events, stack lines, prose pasted around a trace). A line is split into its columns when it
//! is read (its time places it in the reorder buffer) and handled when it leaves the buffer, in time order, which
//! the inferences (victims, mms, reclaim stalls) and the writer both need; a line later than the buffer can sort
//! is placed at the time of the last event emitted and reported.
//!
//! Numbers: Python reads any int and the writer fails on one it cannot store (issue 23). Here a line whose pid
//! does not fit a pid_t (i32), whose time does not fit i64 nanoseconds or whose field does not fit a u64 is kept
//! as a `log` event and listed in `Report::overflow`, and its handler changes nothing: the check comes before any
//! state is touched.

use super::chars::thousands;
use super::console::{log_event, ConsoleParser};
use super::intern::Interner;
use super::line::{cut, parse_line, unquote, FtraceLine, Parsed};
use super::marker::{looks_like_event, lost_marker, overwritten, sniff};
use super::payload::{Pairs, TooLarge};
use super::reorder::{Pending, Rec, Reorder, Spans, REORDER_LINES};
use super::report::Report;
use super::victims::Victims;
use crate::model::schema::kind;
use crate::model::{Event, Str, Value};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::VecDeque;

/// A handler's outcome: `Err` when the line holds a number too large to keep (its events are then dropped and
/// the line kept as text).
pub(super) type Handled = Result<(), TooLarge>;

/// The tracepoints the converter maps, by the last part of their name (`oom:mark_victim`, `mark_victim`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Tracepoint {
    MarkVictim,
    WakeReaper,
    StartReaping,
    FinishReaping,
    SkipReaping,
    ScoreAdj,
    RetryZone,
    CompactRetry,
    Switch,
    Fork,
    Exit,
    Free,
    Signal,
    Rss,
    MmapLock,
    Lockdep,
    Contention,
    Console,
    ReclaimBegin,
    ReclaimEnd,
}

impl Tracepoint {
    fn of(event: &str) -> Option<Tracepoint> {
        use Tracepoint::*;
        let name = memchr::memrchr(b':', event.as_bytes()).map_or(event, |c| &event[c + 1..]);
        Some(match name {
            "rss_stat" => Rss,
            "sched_switch" => Switch,
            "mark_victim" => MarkVictim,
            "wake_reaper" => WakeReaper,
            "start_task_reaping" => StartReaping,
            "finish_task_reaping" => FinishReaping,
            "skip_task_reaping" => SkipReaping,
            "oom_score_adj_update" => ScoreAdj,
            "reclaim_retry_zone" => RetryZone,
            "compact_retry" => CompactRetry,
            "sched_process_fork" => Fork,
            "sched_process_exit" => Exit,
            "sched_process_free" => Free,
            "signal_generate" => Signal,
            "mmap_lock_start_locking" | "mmap_lock_acquire_returned" | "mmap_lock_released" => {
                MmapLock
            }
            "lock_acquire" | "lock_release" => Lockdep,
            "contention_begin" | "contention_end" => Contention,
            "console" => Console,
            "mm_vmscan_direct_reclaim_begin"
            | "mm_vmscan_memcg_reclaim_begin"
            | "mm_vmscan_memcg_softlimit_reclaim_begin" => ReclaimBegin,
            "mm_vmscan_direct_reclaim_end"
            | "mm_vmscan_memcg_reclaim_end"
            | "mm_vmscan_memcg_softlimit_reclaim_end" => ReclaimEnd,
            _ => return None,
        })
    }
}

/// Field names and values the events repeat, shared.
pub(super) struct Names {
    pub flag: Str,
    pub outcome: Str,
    pub min_kb: Str,
}

/// Converts the lines of one ftrace text (file id `file_id` in the trace) into events, in time order; `C`
/// parses its `printk:console` lines.
pub struct FtraceConverter<C: ConsoleParser> {
    pub(super) file_id: i64,
    pub(super) report: Report,
    buffer: Reorder,
    /// Latest time read, latest time emitted, last line number fed.
    /// latest time read; -1: none yet (lines before the first event wait, see `release`)
    read_ts: i64,
    /// earliest time read (the first, or an earlier one sorted back)
    first_ts: Option<i64>,
    pub(super) last_ts: i64,
    last_lineno: i64,
    pub(super) victims: Victims,
    /// pid -> comm, from payloads (the TASK column can be stale).
    pub(super) comm: FxHashMap<i64, Str>,
    pub(super) exited: FxHashSet<i64>,
    /// rss_stat mm_id, or `mm:` and the mmap_lock mm pointer -> the pid it belongs to.
    pub(super) mm_pid: FxHashMap<Box<str>, i64>,
    /// pid -> (start, order, gfp) of a reclaim under way.
    pub(super) reclaim: FxHashMap<i64, (i64, Value, Value)>,
    pub(super) console: C,
    /// (line, payload) of the last console lines.
    pub(super) console_text: VecDeque<(i64, Str)>,
    pub(super) console_events: Vec<Event>,
    pub(super) pairs: Pairs,
    pub(super) strings: Interner,
    /// `mm:` and a pointer, built here to look it up without allocating.
    pub(super) key: String,
    pub(super) names: Names,
    /// The last event name met and its tracepoint (consecutive lines mostly repeat the name).
    last_event: (String, Option<Tracepoint>),
}

impl<C: ConsoleParser> FtraceConverter<C> {
    pub fn new(file_id: i64, console: C) -> FtraceConverter<C> {
        FtraceConverter {
            file_id,
            report: Report::default(),
            buffer: Reorder::new(REORDER_LINES),
            read_ts: -1,
            first_ts: None,
            last_ts: 0,
            last_lineno: 0,
            victims: Victims::default(),
            comm: FxHashMap::default(),
            exited: FxHashSet::default(),
            mm_pid: FxHashMap::default(),
            reclaim: FxHashMap::default(),
            console,
            console_text: VecDeque::new(),
            console_events: Vec::new(),
            pairs: Pairs::default(),
            strings: Interner::default(),
            key: String::new(),
            names: Names {
                flag: Str::from("flag"),
                outcome: Str::from("outcome"),
                min_kb: Str::from("min_kb"),
            },
            last_event: (String::new(), None),
        }
    }

    /// Whether `convert` should read an input whose first lines are `head` with this converter.
    pub fn sniff(head: &[&str]) -> bool {
        sniff(head)
    }

    pub fn report(&self) -> &Report {
        &self.report
    }

    /// Take one line; the events that leave the reorder buffer (in time order) are appended to `out`. Every line
    /// of a recording comes through here: in the steady state one line in, one line out.
    pub fn feed(&mut self, lineno: i64, line: &str, out: &mut Vec<Event>) {
        let mut text = cut(line);
        if text.starts_with('>') {
            text = unquote(text);
        }
        self.last_lineno = lineno;
        let (ts, rec) = match parse_line(text) {
            Parsed::Event(rec) => {
                if rec.ts_ns < self.read_ts {
                    self.report.reordered += 1;
                    self.first_ts = Some(self.first_ts.map_or(rec.ts_ns, |f| f.min(rec.ts_ns)));
                } else {
                    self.first_ts.get_or_insert(rec.ts_ns);
                    self.read_ts = rec.ts_ns;
                }
                (rec.ts_ns, Rec::Event(Spans::of(text, &rec)))
            }
            // a line without a time stays where it is, after the latest event read; before the first one (the
            // tracer's header, trace-cmd's cpus=N) it is -1 and takes the earliest event's time in `release`
            Parsed::Text => (self.read_ts, Rec::Text),
            Parsed::Overflow => (self.read_ts, Rec::Overflow),
        };
        let mut copy = self.buffer.text();
        copy.push_str(text);
        let held = Pending {
            ts,
            lineno,
            text: copy,
            rec,
        };
        if let Some(line) = self.buffer.push(held) {
            self.release(line, out);
        }
    }

    /// The lines of `text`, numbered from `first_line`: whole lines as read from the file, each ending with
    /// `\n` (the last may lack it), one `\r` before the newline dropped and invalid UTF-8 replaced, as the
    /// Python reader (`sources._whole_lines`) does. Returns how many lines were fed.
    pub fn feed_block(&mut self, first_line: i64, text: &[u8], out: &mut Vec<Event>) -> i64 {
        if text.is_empty() {
            return 0;
        }
        let body = text.strip_suffix(b"\n").unwrap_or(text);
        // one UTF-8 check for the block (the common case); a block with invalid bytes is decoded line by line
        let valid = std::str::from_utf8(body).ok();
        let mut n = first_line;
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', body).chain([body.len()]) {
            let cr = (end > start && body[end - 1] == b'\r') as usize;
            match valid {
                Some(text) => self.feed(n, &text[start..end - cr], out),
                None => self.feed(n, &String::from_utf8_lossy(&body[start..end - cr]), out),
            }
            n += 1;
            start = end + 1;
        }
        n - first_line
    }

    /// Everything still buffered, then what the console parser still holds, then the closing warnings.
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        while let Some(line) = self.buffer.pop() {
            self.release(line, out);
        }
        self.finish_console(out);
        self.report.warn(self.last_lineno);
    }

    pub(super) fn count(&mut self, events: &[Event]) {
        for ev in events {
            self.report.counts[ev.kind as usize] += 1;
        }
    }

    pub(super) fn reject(&mut self, lineno: i64) {
        self.report.rejects.push(lineno);
    }

    /// An event of this line.
    pub(super) fn event(&self, ts: i64, kind: u8, pid: Option<i64>, lineno: i64) -> Event {
        let mut ev = Event::new(ts, kind, pid);
        ev.src = Some((self.file_id, lineno));
        ev
    }

    /// A line leaving the buffer: its events.
    fn release(&mut self, line: Pending, out: &mut Vec<Event>) {
        let mut ts = line.ts;
        if ts < 0 {
            // a header or comment line read before any event: a source line, not a moment of the incident, so it
            // is placed at the recording's first event (every event read is still in the buffer, a header line
            // sorting first), not at 0, which would stretch the trace back to boot
            ts = self.first_ts.unwrap_or(0);
        }
        if ts < self.last_ts {
            if let Rec::Event(_) = line.rec {
                self.report.late.push(line.lineno);
            }
            ts = self.last_ts;
        }
        self.last_ts = ts;
        let start = out.len();
        match line.rec {
            Rec::Text => self.text_line(ts, line.lineno, &line.text, out),
            Rec::Overflow => self.report.overflow.push(line.lineno),
            Rec::Event(spans) => {
                let rec = spans.line(&line.text);
                if rec.event != self.last_event.0 {
                    self.last_event.0.clear();
                    self.last_event.0.push_str(rec.event);
                    self.last_event.1 = Tracepoint::of(rec.event);
                }
                if let Some(tp) = self.last_event.1 {
                    if self.handle(tp, ts, &rec, line.lineno, out).is_err() {
                        out.truncate(start);
                        self.report.overflow.push(line.lineno);
                    }
                }
                if rec.comm != "<...>" && rec.comm != "<idle>" && !self.comm.contains_key(&rec.pid)
                {
                    let comm = self.strings.get(rec.comm);
                    self.comm.insert(rec.pid, comm);
                }
                if let Some(tgid) = rec.tgid {
                    self.victims.tgid_of.insert(rec.pid, tgid);
                }
            }
        }
        if out.len() == start {
            out.push(log_event(ts, &line.text, (self.file_id, line.lineno)));
        }
        self.count(&out[start..]);
        self.buffer.recycle(line.text);
    }

    fn handle(
        &mut self,
        tp: Tracepoint,
        ts: i64,
        rec: &FtraceLine<'_>,
        lineno: i64,
        out: &mut Vec<Event>,
    ) -> Handled {
        use Tracepoint::*;
        match tp {
            Rss => self.rss(ts, rec, lineno, out),
            Switch => self.switch(ts, rec, lineno, out),
            MarkVictim => self.mark_victim(ts, rec, lineno, out),
            WakeReaper => self.wake_reaper(ts, rec, lineno, out),
            StartReaping => self.start_reaping(rec, lineno),
            FinishReaping => self.finish_reaping(ts, rec, lineno, out),
            SkipReaping => self.skip_reaping(ts, rec, lineno, out),
            ScoreAdj => self.score_adj(ts, rec, lineno, out),
            RetryZone => self.retry_zone(ts, rec, lineno, out),
            CompactRetry => self.compact_retry(ts, rec, lineno, out),
            Fork => self.fork(ts, rec, lineno, out),
            Exit => self.exit(ts, rec, lineno, out),
            Free => self.free(ts, rec, lineno, out),
            Signal => self.signal(ts, rec, lineno, out),
            MmapLock => self.mmap_lock(ts, rec, lineno, out),
            Lockdep => self.lockdep(ts, rec, lineno, out),
            Contention => self.contention(ts, rec, lineno, out),
            Console => {
                self.console_line(ts, rec.payload, lineno, out);
                Ok(())
            }
            ReclaimBegin => self.reclaim_begin(ts, rec),
            ReclaimEnd => self.reclaim_end(ts, rec, lineno, out),
        }
    }

    /// A line that is no event: a lost-events marker, the header, or text kept as it is.
    fn text_line(&mut self, ts: i64, lineno: i64, text: &str, out: &mut Vec<Event>) {
        if let Some(lost) = lost_marker(text) {
            self.report.lost_markers.push(lineno);
            if let Some(count) = &lost.count {
                let n = count.parse::<u128>().unwrap_or(u128::MAX);
                self.report.lost_events = self.report.lost_events.saturating_add(n);
            }
            let n = lost.count.map_or_else(
                || "events".to_string(),
                |c| format!("{} events", thousands(c)),
            );
            let at = lost
                .cpu
                .map_or_else(|| "the recording".to_string(), |c| format!("CPU {c}"));
            let mut note = self.event(ts, kind::NOTE, None, lineno);
            note.values[0] = Value::str(&format!("{at}: {n} lost here"));
            out.push(note);
            return;
        }
        match overwritten(text) {
            Some(gone) if gone != 0 => self.report.warnings.push(format!(
                "line {lineno}: the ring buffer overwrote {} events before it was read",
                thousands(gone)
            )),
            _ => {
                if looks_like_event(text) {
                    self.reject(lineno);
                }
            }
        }
    }
}
