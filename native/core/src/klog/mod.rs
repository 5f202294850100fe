//! The kernel-log converter: dmesg (plain, `-T`, `-r`, kdump, serial consoles), syslog (RFC 3164 and ISO
//! stamps), journalctl (short, short-iso, short-monotonic, JSON), `/dev/kmsg`, logcat and pasted or quoted
//! logs, into events with the output of Python's `oomreplay.ingest.kernel_log.LogConverter`, line for line
//! (`tests/compare_klog.py` checks it on the corpus).
//!
//! - `prefix` (with `prefix_dmesg`, `prefix_syslog`, `journal`, `json`, `months`, `wall`): what precedes a
//!   message, and the time it says;
//! - `oom`, `oom_more`, `memory`, `locks`, `tasks`, `gfp`: the families, each recogniser a hand-written reading
//!   of its Python regex (`scan` holds the pieces), stateless;
//! - `converter`: the state machine that ties a report's lines together; `bulk`: chatter in runs.
//!
//! Where Python's `int` has no bound and an i64 has one, a recogniser says `Overflow` and the line stays a `log`
//! event; the converter lists such lines in `overflow` (a hostile input only: no kernel prints such numbers).

mod bulk;
mod converter;
mod gfp;
mod journal;
mod json;
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
mod scan;
mod tasks;
mod wall;

pub use bulk::STOP_WORDS;
pub use converter::{
    log_event, may_be_family, Clock, Item, LogConverter, LogRun, MATCH_CHARS, SNIFF_LINES,
    UNPARSED_KEPT,
};
pub use prefix::{split_prefix, Format, Prefixed};

/// The recognisers, for tests and benchmarks.
pub mod families {
    pub use super::locks::{held_lock, holder};
    pub use super::memory::{
        alloc, counters, limited_memcg, lowmem_reserve, stats_for, usage, zone,
    };
    pub use super::oom::{chosen, cpu_line, invoke, killed, reaper, sharing};
    pub use super::oom_more::{
        ending, lmk_kill, stack_line, summary, table_header, table_row, victim_without_kill,
    };
    pub use super::reaper::{era, pinned, reaper_events, Era};
    pub use super::tasks::{hung, task_line};
}
