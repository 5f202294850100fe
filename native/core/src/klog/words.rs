//! The words a kernel message is looked for in one pass before any family reads it: the prefilter (a message
//! goes to the families only if it may be one of theirs) and the report words and marks (a report line no family
//! understood is listed for `--report`).

use super::needles::Lazy;

/// What a message must start with or contain for any family to accept it (oom, memory, locks, tasks).
pub const FAMILY_STARTS: [&str; 17] = [
    "CPU: ",
    "oom killer ",
    "Pid: ",
    "oom_reaper: ",
    "oom-kill:",
    "lowmemorykiller: ",
    "lmkd: ",
    "[",
    "Mem-Info:",
    "Mem-info:",
    "lowmem_reserve[]:",
    "Task in ",
    "Memory limit reached of cgroup ",
    "Memory cgroup stats for ",
    "#",
    "task:",
    "INFO: task ",
];
#[cfg_attr(not(test), allow(dead_code))]
pub const FAMILY_MARKS: [&str; 13] = [
    "invoked oom-killer",
    "Kill process",
    "Killed process",
    "is already exiting",
    "pending SIGKILL",
    "no killable processes",
    "deadlocked on memory",
    "panic_on_oom is enabled",
    " free:",
    ": usage ",
    ": page allocation ",
    " held by ",
    " 0x",
];
/// Words only an OOM report prints, and the words one of which each holds.
#[cfg_attr(not(test), allow(dead_code))]
pub(super) const REPORT_MARKS: [&str; 8] = [
    "invoked oom-killer",
    "Killed process",
    "Kill process",
    "oom_reaper:",
    "oom-kill:",
    "Out of memory",
    "page allocation failure",
    "page allocation stalls",
];
#[cfg_attr(not(test), allow(dead_code))]
pub(super) const REPORT_WORDS: [&str; 4] = ["oom", "Kill", "Out of memory", "page allocation"];

/// The families' marks, the report words and marks, and the words the families test for before their patterns
/// (each recogniser tests its own again), looked for in one pass over a message: bits `MARK_BITS`, `WORD_BITS`,
/// `REPORT_BITS` and the `G_` bits say which it holds.
pub(super) const WORDS_LOOKED_FOR: [&str; 22] = [
    // FAMILY_MARKS, in order
    "invoked oom-killer",
    "Kill process",
    "Killed process",
    "is already exiting",
    "pending SIGKILL",
    "no killable processes",
    "deadlocked on memory",
    "panic_on_oom is enabled",
    " free:",
    ": usage ",
    ": page allocation ",
    " held by ",
    " 0x",
    // REPORT_WORDS
    "oom",
    "Kill",
    "Out of memory",
    "page allocation",
    // REPORT_MARKS not above
    "oom_reaper:",
    "oom-kill:",
    "page allocation failure",
    "page allocation stalls",
    // guards not above
    "sharing same memory",
];
pub(super) static LOOKED_FOR: Lazy = Lazy::new(&WORDS_LOOKED_FOR);
pub(super) const MARK_BITS: u64 = (1 << 13) - 1;
pub(super) const WORD_BITS: u64 = 0b1111 << 13;
pub(super) const REPORT_BITS: u64 =
    (1 << 0) | (1 << 2) | (1 << 1) | (1 << 17) | (1 << 18) | (1 << 15) | (1 << 19) | (1 << 20);
pub(super) const G_INVOKE: u64 = 1;
pub(super) const G_CHOSEN: u64 = 1 << 1;
pub(super) const G_KILLED: u64 = 1 << 2;
pub(super) const G_VICTIM: u64 = (1 << 3) | (1 << 4);
pub(super) const G_ZONE: u64 = 1 << 8;
pub(super) const G_USAGE: u64 = 1 << 9;
pub(super) const G_ALLOC: u64 = 1 << 10;
pub(super) const G_HOLDER: u64 = 1 << 11;
pub(super) const G_TASK_OLD: u64 = 1 << 12;
pub(super) const G_SHARING: u64 = 1 << 21;

/// Which of `WORDS_LOOKED_FOR` `msg` holds.
pub(super) fn looked_for(msg: &str) -> u64 {
    LOOKED_FOR.get().mask(msg)
}

/// `_may_be_family(msg)`, given `looked_for(msg)`.
pub(super) fn may_be_family_with(msg: &str, words: u64) -> bool {
    super::needles::starts_any(msg, &FAMILY_STARTS) || words & MARK_BITS != 0
}

/// `_may_be_family(msg)`.
pub fn may_be_family(msg: &str) -> bool {
    may_be_family_with(msg, looked_for(msg))
}

/// `_is_report(msg)`, given `looked_for(msg)`: a report word and a report mark.
pub(super) fn is_report(words: u64) -> bool {
    words & WORD_BITS != 0 && words & REPORT_BITS != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn bits(words: &[&str]) -> u64 {
        words
            .iter()
            .map(|w| {
                1u64 << WORDS_LOOKED_FOR
                    .iter()
                    .position(|x| x == w)
                    .expect("looked for")
            })
            .sum()
    }

    #[test]
    pub(super) fn the_bits_name_pythons_word_lists() {
        assert_eq!(bits(&FAMILY_MARKS), MARK_BITS);
        assert_eq!(bits(&REPORT_WORDS), WORD_BITS);
        assert_eq!(bits(&REPORT_MARKS), REPORT_BITS);
        for (bit, word) in [
            (G_INVOKE, "invoked oom-killer"),
            (G_CHOSEN, "Kill process"),
            (G_KILLED, "Killed process"),
            (G_ZONE, " free:"),
            (G_USAGE, ": usage "),
            (G_ALLOC, ": page allocation "),
            (G_HOLDER, " held by "),
            (G_TASK_OLD, " 0x"),
            (G_SHARING, "sharing same memory"),
        ] {
            assert_eq!(bits(&[word]), bit, "{word}");
        }
        assert_eq!(bits(&["is already exiting", "pending SIGKILL"]), G_VICTIM);
    }

    #[test]
    pub(super) fn one_pass_says_what_contains_says() {
        for msg in [
            "a.out invoked oom-killer: gfp_mask=0x0",
            "Kill process 1 (x) score 2 or sacrifice child",
            "x: page allocation stalls for 10ms",
            "nothing",
            "oom_reaper: reaped process 1 (a)",
        ] {
            let w = looked_for(msg);
            for (i, word) in WORDS_LOOKED_FOR.iter().enumerate() {
                assert_eq!(w & (1 << i) != 0, msg.contains(word), "{msg} / {word}");
            }
        }
    }
}
