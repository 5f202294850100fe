//! What a conversion reports besides its events: the figures `convert --report` prints and the warnings about
//! what the recording lost or could not say (Python's `FtraceConverter.counts`, `warnings`, `rejects`, …).

use super::chars::thousands;
use super::reorder::REORDER_LINES;
use crate::model::schema::{kind_name, KINDS};

#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Events made, by kind id.
    pub counts: [u64; KINDS.len()],
    /// A recording has one clock, the trace clock, whatever its name on the machine.
    pub clock: &'static str,
    /// The kernel release. Never set, as in Python: the console parser's `CPU:` lines are not taken (the kernel
    /// log of the same incident names it).
    pub kernel: Option<String>,
    pub warnings: Vec<String>,
    /// Lines that start like an event line but do not parse, or name no pid where they should.
    pub rejects: Vec<i64>,
    /// Counted by lost-event markers (saturating: Python's int has no bound).
    pub lost_events: u128,
    pub lost_markers: Vec<i64>,
    /// Lines beyond the reorder window, clamped in time.
    pub late: Vec<i64>,
    /// Lines sorted back into place.
    pub reordered: u64,
    /// Lines holding a number too large for the trace (a pid beyond an i32, a time beyond i64 nanoseconds, a
    /// value beyond a u64), kept as text. Python has no such list: it takes any int and fails when writing.
    pub overflow: Vec<i64>,
}

impl Default for Report {
    fn default() -> Report {
        Report {
            counts: [0; KINDS.len()],
            clock: "trace",
            kernel: None,
            warnings: Vec::new(),
            rejects: Vec::new(),
            lost_events: 0,
            lost_markers: Vec::new(),
            late: Vec::new(),
            reordered: 0,
            overflow: Vec::new(),
        }
    }
}

impl Report {
    /// `(kind name, count)` of every kind made at least once.
    pub fn counts_by_name(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| (kind_name(k as u8), *n))
    }

    /// The closing warnings, once the last line is in (Python's `_warn`).
    pub(super) fn warn(&mut self, last_lineno: i64) {
        if let Some(first) = self.lost_markers.first() {
            let n = if self.lost_events > 0 {
                format!("{} events", thousands(self.lost_events))
            } else {
                "events".into()
            };
            self.warnings.push(format!(
                "{} lost-event marker(s) (first at line {first}): {n} missing from the recording",
                self.lost_markers.len()
            ));
        }
        if let Some(at) = self.rejects.iter().position(|&l| l == last_lineno) {
            // a recording killed mid-write, or a paste cut short
            self.rejects.remove(at);
            self.warnings.push(format!(
                "line {last_lineno}: the last line is cut short; kept as text"
            ));
        }
        if let Some(first) = self.rejects.first() {
            self.warnings.push(format!(
                "{} line(s) start like trace events but do not parse (first at line {first}); kept as text",
                self.rejects.len()
            ));
        }
        if let Some(first) = self.late.first() {
            self.warnings.push(format!(
                "{} line(s) out of time order by more than {REORDER_LINES} lines (first at line {first}); placed at \
                 the time of the line before",
                self.late.len()
            ));
        }
        if let Some(first) = self.overflow.first() {
            self.warnings.push(format!(
                "{} line(s) hold a number too large to keep (first at line {first}); kept as text",
                self.overflow.len()
            ));
        }
    }
}
