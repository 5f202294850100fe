//! Shared strings for the texts a recording repeats (comms, task states, mm ids): an event's field is a clone of
//! one `Arc<str>`, not an allocation per line.

use crate::model::Str;
use rustc_hash::FxHashMap;

/// Texts remembered; past this (a hostile file of endless names) a text is allocated each time, so memory stays
/// bounded.
const KEPT: usize = 4096;

#[derive(Default)]
pub struct Interner {
    known: FxHashMap<Box<str>, Str>,
}

impl Interner {
    pub fn get(&mut self, text: &str) -> Str {
        if let Some(s) = self.known.get(text) {
            return s.clone();
        }
        let s = Str::from(text);
        if self.known.len() < KEPT {
            self.known.insert(text.into(), s.clone());
        }
        s
    }
}
