//! A report's stack: which lines are its frames (x86 `function+0x../0x..`, the `[<addr>]` forms, powerpc's and
//! s390's, ARM's unwinder and register dumps) and which only belong to it, so that a Call Trace is one event.

use super::scan::{at, byte, digits1, lit, spaces};
use crate::text::{is_space, is_word};

/// Lines a stack dump prints around its frames.
const STACK_CONTEXT: &[&str] = &[
    "Hardware name:",
    "Call Trace:",
    "Call trace:",
    "Backtrace:",
    "<TASK>",
    "</TASK>",
    "<IRQ>",
    "</IRQ>",
    "Workqueue:",
    "RIP:",
    "RSP:",
    "RAX:",
    "RDX:",
    "RBP:",
    "R10:",
    "R13:",
    "Code:",
    "Exception stack",
    "Stack:",
    "Function entered at",
];

fn hex_run(s: &str, i: usize) -> usize {
    super::scan::ascii_run(s, i, |c| c.is_ascii_hexdigit())
}

/// One `[A-Za-z0-9]{1,4}: ?[0-9a-fA-F]{8,16}` at `i`: the ends the hex may stop at (longest first).
fn register_at(s: &str, i: usize) -> Option<(usize, usize)> {
    let a = super::scan::ascii_run(s, i, |c| c.is_ascii_alphanumeric());
    // `{1,4}` then `:`: only the run's own end can be followed by the colon
    if !(1..=4).contains(&(a - i)) || byte(s, a) != Some(b':') {
        // a longer run of alphanumerics may still hold a colon after 1-4 of them: no, the run stops at one
        return None;
    }
    let mut h0 = a + 1;
    if byte(s, h0) == Some(b' ') {
        h0 += 1;
    }
    let h = hex_run(s, h0);
    (h - h0 >= 8).then_some((h0 + 8, h.min(h0 + 16)))
}

/// `_REGISTERS.match(msg)`: `(?:[A-Za-z0-9]{1,4}: ?[0-9a-fA-F]{8,16}\s*){2,}` (two are enough to match).
fn registers(msg: &str) -> bool {
    let Some((lo, hi)) = register_at(msg, 0) else {
        return false;
    };
    (lo..=hi)
        .rev()
        .any(|e| register_at(msg, spaces(msg, e)).is_some())
}

/// `_FRAME.match(msg)`: the function of a frame and whether the unwinder was unsure of it.
fn frame(msg: &str) -> Option<(&str, bool)> {
    let mut i = 0;
    if byte(msg, i) == Some(b'(') {
        i += 1;
    }
    for _ in 0..2 {
        let Some(j) = lit(msg, i, "[") else { break };
        let mut k = j;
        if byte(msg, k) == Some(b'<') {
            k += 1;
        }
        let h = hex_run(msg, k);
        if h == k {
            break;
        }
        let mut k = h;
        if byte(msg, k) == Some(b'>') {
            k += 1;
        }
        let Some(k) = lit(msg, k, "]") else { break };
        i = spaces(msg, k);
    }
    let mut unsure = false;
    if byte(msg, i) == Some(b'?') {
        let j = spaces(msg, i + 1);
        if j > i + 1 {
            unsure = true;
            i = j;
        }
    }
    if byte(msg, i) == Some(b'(') {
        i += 1;
    }
    let f0 = i;
    if !matches!(byte(msg, f0), Some(b'A'..=b'Z' | b'a'..=b'z' | b'_')) {
        return None;
    }
    let mut f1 = f0 + 1;
    while let Some((c, next)) = super::scan::char_at(msg, f1) {
        if !(is_word(c) || c == '.' || c == '$') {
            break;
        }
        f1 = next;
    }
    let after = |k: usize| -> bool {
        // `\+0x[0-9a-fA-F]+/0x[0-9a-fA-F]+`
        if let Some(h) = lit(msg, k, "+0x") {
            let e = hex_run(msg, h);
            if e > h && lit(msg, e, "/0x").is_some_and(|h2| hex_run(msg, h2) > h2) {
                return true;
            }
        }
        // `\)? from `
        if at(msg, k, " from ") || (byte(msg, k) == Some(b')') && at(msg, k + 1, " from ")) {
            return true;
        }
        // ` \([^()\s]+\.[chS]:\d+`
        if let Some(r0) = lit(msg, k, " (") {
            let mut r1 = r0;
            while let Some((c, next)) = super::scan::char_at(msg, r1) {
                if c == '(' || c == ')' || is_space(c) {
                    break;
                }
                r1 = next;
            }
            let b = msg.as_bytes();
            return (r0 + 1..r1).any(|p| {
                b[p] == b'.'
                    && matches!(b.get(p + 1), Some(b'c' | b'h' | b'S'))
                    && b.get(p + 2) == Some(&b':')
                    && digits1(msg, p + 3).is_some()
            });
        }
        false
    };
    after(f1).then_some((&msg[f0..f1], unsure))
}

/// `stack_line(msg)`: the function of a reliable frame, `""` for a line of the dump without one (a header, a
/// register line, a frame the unwinder only guessed), None for a line after the dump.
pub fn stack_line(msg: &str) -> Option<&str> {
    if super::needles::starts_any(msg, STACK_CONTEXT) || registers(msg) {
        return Some("");
    }
    let (f, unsure) = frame(msg)?;
    Some(if unsure { "" } else { f })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_lines() {
        assert_eq!(stack_line(" dump_stack+0x5c/0x7b"), None); // msg is stripped before: a blank is no frame
        assert_eq!(stack_line("dump_stack+0x5c/0x7b"), Some("dump_stack"));
        assert_eq!(
            stack_line("[<ffffffff8100>] ? out_of_memory+0x1/0x2"),
            Some("")
        );
        assert_eq!(
            stack_line("[<c0>] (unwind_backtrace) from [<c1>] (show_stack+0x10/0x14)"),
            Some("unwind_backtrace")
        );
        assert_eq!(
            stack_line("out_of_memory (mm/oom_kill.c:1105)"),
            Some("out_of_memory")
        );
        assert_eq!(stack_line("Call Trace:"), Some(""));
        assert_eq!(stack_line("r6:000200da r5:00000000"), Some(""));
        assert_eq!(stack_line("Mem-Info:"), None);
    }
}
