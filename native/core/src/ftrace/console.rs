//! The kernel log inside a recording: `printk:console` lines, parsed by the kernel-log converter and stamped with
//! the trace clock. A kill or reaper outcome that the oom:* tracepoints already showed is kept as text only, so
//! each fact is counted once.
//!
//! The parser is behind `ConsoleParser`: the real one is `klog::LogConverter` (as Python's FtraceConverter makes
//! a `LogConverter(file_id)`: format auto, its clock decided by the first console line); `PlainConsole`, which
//! understands no message, stays for tests that want the console's lines as text.

use super::converter::FtraceConverter;
pub use crate::model::event::log_event;
use crate::model::schema::kind;
use crate::model::{Event, Str};

/// What the converter needs of a kernel-log parser: Python's `LogConverter.feed` and `finish`.
pub trait ConsoleParser {
    /// The events of one message (numbered `lineno` in the recording), possibly none yet while an event is held
    /// for a later line, or several when one is released; each with its `src`.
    fn feed(&mut self, lineno: i64, msg: &str, out: &mut Vec<Event>);
    /// Whatever is still held at the end.
    fn finish(&mut self, out: &mut Vec<Event>);
}

impl ConsoleParser for crate::klog::LogConverter {
    fn feed(&mut self, lineno: i64, msg: &str, out: &mut Vec<Event>) {
        crate::klog::LogConverter::feed(self, lineno, msg, out);
    }

    fn finish(&mut self, out: &mut Vec<Event>) {
        crate::klog::LogConverter::finish(self, out);
    }
}

impl FtraceConverter<crate::klog::LogConverter> {
    /// A converter whose console lines are read by the kernel-log converter, as Python's is.
    pub fn with_log_parser(file_id: i64) -> Self {
        FtraceConverter::new(
            file_id,
            crate::klog::LogConverter::new(file_id, crate::klog::Format::Auto),
        )
    }
}

/// A console parser that understands no message: each is a `log` event of its text, which is what the kernel-log
/// converter gives for a message no family takes (most console lines). Until the real parser is wired, a
/// console line's OOM report is kept as text.
pub struct PlainConsole {
    pub file_id: i64,
}

impl ConsoleParser for PlainConsole {
    fn feed(&mut self, lineno: i64, msg: &str, out: &mut Vec<Event>) {
        out.push(log_event(0, msg, (self.file_id, lineno)));
    }

    fn finish(&mut self, _out: &mut Vec<Event>) {}
}

/// Console lines remembered, to keep a line's text when the event parsed from it is dropped as a duplicate.
const CONSOLE_KEPT: usize = 64;

impl<C: ConsoleParser> FtraceConverter<C> {
    pub(super) fn console_line(
        &mut self,
        ts: i64,
        payload: &str,
        lineno: i64,
        out: &mut Vec<Event>,
    ) {
        match self.console_text.iter_mut().find(|(l, _)| *l == lineno) {
            Some(slot) => slot.1 = Str::from(payload),
            None => {
                self.console_text.push_back((lineno, Str::from(payload)));
                if self.console_text.len() > CONSOLE_KEPT {
                    self.console_text.pop_front();
                }
            }
        }
        let mut events = std::mem::take(&mut self.console_events);
        self.console.feed(lineno, payload, &mut events);
        for ev in &mut events {
            ev.ts_ns = ts; // the console line's own stamp, if any, is the printk clock: the trace clock rules here
        }
        let start = out.len();
        self.deduplicated(&mut events, out);
        if out.len() == start {
            out.push(log_event(ts, payload, (self.file_id, lineno)));
        }
        self.console_events = events;
    }

    /// The console's held events at the end, at the time of the last event.
    pub(super) fn finish_console(&mut self, out: &mut Vec<Event>) {
        let mut events = std::mem::take(&mut self.console_events);
        self.console.finish(&mut events);
        for ev in &mut events {
            ev.ts_ns = self.last_ts;
        }
        let start = out.len();
        self.deduplicated(&mut events, out);
        self.count(&out[start..]);
    }

    /// The console's `events` (drained) into `out`, less the facts the tracepoints already gave (each kept as
    /// its line's text).
    fn deduplicated(&mut self, events: &mut Vec<Event>, out: &mut Vec<Event>) {
        let start = out.len();
        let mut dropped_kills: Vec<i64> = Vec::new();
        for ev in events.drain(..) {
            let flag = ev.get("flag").as_str();
            let is_flag_set = ev.kind == kind::FLAG_SET;
            let v = ev.pid.and_then(|pid| self.victims.get_mut(pid));
            let drop = match (ev.kind, v) {
                (kind::OOM_KILL, Some(v)) if !v.gone => {
                    dropped_kills.extend(ev.pid);
                    true
                }
                (kind::OOM_KILL, _) => {
                    // a console kill without a pid names no victim: nothing to remember (the kernel-log parser
                    // gives every kill its pid)
                    if let Some(pid) = ev.pid {
                        let comm = ev.get("comm").as_str().map(Str::from);
                        self.victims.add(pid, comm, [None; 7]);
                    }
                    false
                }
                _ if is_flag_set && flag == Some("TIF_MEMDIE") => {
                    ev.pid.is_some_and(|p| dropped_kills.contains(&p))
                }
                (kind::REAPER_ATTEMPT, Some(v)) => v.reaper_seen,
                (kind::REAPER_DONE, Some(v)) => std::mem::replace(&mut v.done, true),
                (kind::FLAG_SET, Some(v)) if flag == Some("MMF_OOM_SKIP") => {
                    std::mem::replace(&mut v.oom_skip, true)
                }
                _ => false,
            };
            if !drop {
                out.push(ev);
            } else if let Some(src) = ev.src {
                if !out[start..].iter().any(|e| e.src == Some(src)) {
                    let text = self
                        .console_text
                        .iter()
                        .find(|(l, _)| *l == src.1)
                        .map_or("", |(_, t)| &**t);
                    out.push(log_event(ev.ts_ns, text, src));
                }
            }
        }
    }
}
