//! What the kernel-log converter tells its user about the input: events per kind, the lines no parser understood
//! inside a report, and the warnings (lines kept as text), each naming its lines as the ftrace report does.

use super::converter::*;
use crate::model::schema::kind_name;
use crate::model::Src;

impl LogConverter {
    /// Events per kind name, the kinds met only, in kind order.
    pub fn counts(&self) -> Vec<(&'static str, u64)> {
        (0..32u8)
            .filter(|&k| self.counts[k as usize] > 0)
            .map(|k| (kind_name(k), self.counts[k as usize]))
            .collect()
    }

    /// What a user should hear about the input, one sentence each, the lines named (as the ftrace report's).
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(first) = self.overflow.first() {
            out.push(format!(
                "{} line(s) hold a number too large to keep (first at line {first}); kept as text",
                self.overflow.len()
            ));
        }
        out
    }

    pub(super) fn not_understood(&mut self, src: Src, msg: &str) {
        self.unparsed_count += 1;
        if self.unparsed.len() < UNPARSED_KEPT {
            self.unparsed.push((src.1, msg.to_owned()));
        }
    }
}
