//! A log of what a computation read and wrote of a state, table by table. The explorer works a move out once
//! with the log on, then reuses the move's effect on every state that agrees with that one on all it read: the
//! log is what makes that reuse exact, whatever the move's code and `apply` look at.

use std::sync::{Arc, Mutex};

use super::table::Key;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// one key looked up, there or not
    Read(Key),
    /// the table read whole: its length, or its records one after another
    Whole,
    Wrote(Key),
}

/// Shared by the tables of a state and of the states copied from it while it is on.
#[derive(Debug, Default)]
pub struct Log(Mutex<Vec<(usize, Access)>>);

impl Log {
    pub fn new() -> Arc<Log> {
        Arc::new(Log::default())
    }

    pub fn note(&self, table: usize, a: Access) {
        self.0
            .lock()
            .expect("a log is never poisoned")
            .push((table, a));
    }

    /// What was noted so far (the log goes on, empty).
    pub fn take(&self) -> Vec<(usize, Access)> {
        std::mem::take(&mut *self.0.lock().expect("a log is never poisoned"))
    }
}
