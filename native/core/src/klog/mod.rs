//! The kernel-log converter: dmesg (plain, `-T`, `-r`, kdump, serial consoles), syslog (RFC 3164 and ISO
//! stamps), journalctl (short, short-iso, short-monotonic, JSON), `/dev/kmsg`, logcat and pasted or quoted
//! logs, into events (what every corpus log gives is kept as digests: `tests/ingest/test_corpus_golden.py`).
//!
//! - `prefix` (with `prefix_dmesg`, `prefix_syslog`, `journal`, `json`, `months`, `wall`): what precedes a
//!   message, and the time it says;
//! - `oom`, `kill`, `oom_more`, `memory`, `locks`, `tasks`, `gfp`: the families, each recogniser a hand-written reading
//!   of its Python regex (`scan` holds the pieces), stateless;
//! - `converter`: the state machine that ties a report's lines together (`hold`: the event a later line completes;
//!   `dispatch`: which family reads a line, by the `words` found in it); `bulk`: chatter in runs (`run`).
//!
//! A number past what the kernel's types hold makes a recogniser say `Overflow` and the line stays a `log` event;
//! the converter lists such lines in `overflow` (a hostile input only: no kernel prints such numbers).

mod bulk;
mod converter;
mod dispatch;
mod gfp;
mod hold;
mod journal;
mod json;
mod kill;
mod locks;
mod memory;
mod months;
mod needles;
mod oom;
mod oom_more;
mod prefix;
mod prefix_dmesg;
mod prefix_syslog;
mod reaper;
mod report;
mod run;
mod scan;
mod stack;
mod tasks;
mod wall;
mod words;

pub use bulk::STOP_WORDS;
pub use converter::{log_event, LogConverter, MATCH_CHARS, SNIFF_LINES, UNPARSED_KEPT};
pub use prefix::{split_prefix, Format, Prefixed};
pub use run::{Clock, Item, LogRun};
pub use words::may_be_family;

/// The recognisers, for tests and benchmarks.
pub mod families {
    pub use super::kill::{chosen, killed, reaper, sharing};
    pub use super::locks::{held_lock, holder};
    pub use super::memory::{
        alloc, counters, limited_memcg, lowmem_reserve, stats_for, usage, zone,
    };
    pub use super::oom::{cpu_line, invoke};
    pub use super::oom_more::{
        ending, lmk_kill, summary, table_header, table_row, victim_without_kill,
    };
    pub use super::reaper::{era, pinned, reaper_events, Era};
    pub use super::stack::stack_line;
    pub use super::tasks::{hung, task_line};
}
