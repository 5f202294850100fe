//! What the converter hands on: events, or runs of chatter as one `LogRun`; and the clock it read them on.

use crate::model::event::log_event;
use crate::model::Event;

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
