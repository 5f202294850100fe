//! The ftrace converter: an ftrace recording (tracefs `trace` / `trace_pipe` text, `trace-cmd report` text, with
//! or without the TGID column, `perf script` tracepoint output) into events, with the output of Python's
//! `oomreplay.ingest.ftrace.FtraceConverter`, line for line (`tests/compare_ftrace.py` checks it).
//!
//! - `line`: a line's columns (the hot path: byte scans, no regex), `marker`: the other lines a recording holds,
//!   `chars`: Python's character classes they are read with;
//! - `payload`, `positional`: what the payloads say;
//! - `converter` (driving), `reorder` (time order), `oom` and `tracepoints` (the mapping), `victims` (the
//!   inferences), `console` (the kernel log inside a trace), `report` (counts and warnings).

use crate::text::chars;
mod console;
mod converter;
mod intern;
mod line;
mod marker;
mod oom;
mod payload;
mod positional;
mod reorder;
mod report;
mod tracepoints;
mod victims;

pub use console::{log_event, ConsoleParser, PlainConsole};
pub use converter::FtraceConverter;
pub use line::{parse_line, unquote, FtraceLine, Parsed, MATCH_CHARS};
pub use marker::{looks_like_event, lost_marker, overwritten, sniff, Lost};
pub use payload::{number, Num, Pairs};
pub use positional::{contention, lockdep, sched_switch, task_state, Lockdep, Switch};
pub use reorder::REORDER_LINES;
pub use report::Report;
pub use victims::{Victim, Victims};
