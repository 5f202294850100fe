//! The OOM killer's own lines, every historical variant (oom.py, kernel-formats.md §1): the header and
//! dump_stack's CPU line (the victim's lines are in `kill`, the endings without a kill and the summary in
//! `oom_more`).
//! Stateless: each function reads one message (prefixes gone, blanks stripped) and returns its fields, None when
//! the line is not of its form. Every form accepts a line cut short: fields past the cut are absent.
//!
//! Each follows its Python regex to the letter, including where `.*` stops at a newline (a journal message may
//! hold one) and which of several candidates a greedy or lazy group settles on.

use super::scan::{at, byte, digits1, lit, no_newline, pid, signed, spaces, word_start, Found};
use crate::text::decimal;

/// `"%s invoked oom-killer: gfp_mask=…, [nodemask=…,] order=%d, oom_score_adj=%hd"`.
pub struct Invoke<'a> {
    pub comm: &'a str,
    pub gfp: Option<&'a str>,
    pub order: Option<i64>,
    pub oom_score_adj: Option<i64>,
    pub nodemask: Option<&'a str>,
    /// a distro form prints `comm:pid invoked oom-killer`
    pub pid: Option<i64>,
}

pub(super) fn find(s: &str, from: usize, needle: &str) -> Option<usize> {
    memchr::memmem::find(&s.as_bytes()[from..], needle.as_bytes()).map(|i| i + from)
}

/// The first `\bNAME(-?\d+)` in `s` (NAME ends with `=` or `:`): its value.
pub fn search_signed(s: &str, name: &str) -> Found<i64> {
    let mut from = 0;
    while let Some(p) = find(s, from, name) {
        if word_start(s, p) {
            if let Some((_, v)) = signed(s, p + name.len()) {
                return v.map(Some);
            }
        }
        from = p + 1;
    }
    Ok(None)
}

pub fn invoke(msg: &str) -> Found<Invoke<'_>> {
    if find(msg, 0, "invoked oom-killer").is_none() {
        return Ok(None);
    }
    const MARK: &str = " invoked oom-killer: gfp_mask=";
    let Some(k) = find(msg, 0, MARK).filter(|&k| no_newline(msg, k)) else {
        return Ok(None);
    };
    let g0 = k + MARK.len();
    let (mut end, mut gfp) = (g0, None);
    if at(msg, g0, "0x") {
        let h = super::scan::ascii_run(msg, g0 + 2, super::scan::is_hex);
        if h > g0 + 2 {
            end = h;
            if byte(msg, h) == Some(b'(') {
                end = memchr::memchr(b')', &msg.as_bytes()[h..]).map_or(msg.len(), |c| h + c + 1);
            }
            gfp = Some(&msg[g0..end]);
        }
    }
    let rest = &msg[end..];
    let order = search_signed(rest, "order=")?;
    let oom_score_adj = search_signed(rest, "oom_score_adj=")?;
    let mut nodemask = None;
    let mut from = 0;
    while let Some(p) = find(rest, from, "nodemask=") {
        if word_start(rest, p) {
            let v = p + "nodemask=".len();
            let e = rest[v..]
                .find(|c: char| c == ',' || crate::text::is_space(c))
                .map_or(rest.len(), |n| v + n);
            nodemask = Some(&rest[v..e]);
            break;
        }
        from = p + 1;
    }
    let mut comm = &msg[..k];
    let mut who = None;
    if !comm.contains('/') {
        if let Some(colon) = comm.rfind(':') {
            let digits = &comm[colon + 1..];
            if colon > 0 && !digits.is_empty() && digits.chars().all(|c| decimal(c).is_some()) {
                who = Some(pid(digits)?);
                comm = &comm[..colon];
            }
        }
    }
    Ok(Some(Invoke {
        comm,
        gfp,
        order,
        oom_score_adj,
        nodemask,
        pid: who,
    }))
}

/// dump_stack's `CPU: n [UID: u] PID: p Comm: c …` (2.6: `Pid: p, comm: c`): who is running, and the kernel's
/// release when the line names it.
pub struct Who<'a> {
    pub pid: i64,
    pub comm: &'a str,
    pub kernel: Option<&'a str>,
}

/// `(?P<comm>.{1,20}?)` then one of `ends` or the end of the message: the comm's end.
fn short_comm(s: &str, c0: usize, ends: &[&str]) -> Option<usize> {
    let mut p = c0;
    for (n, c) in s[c0..].chars().enumerate() {
        if c == '\n' || n == 20 {
            return None;
        }
        p += c.len_utf8();
        if p == s.len()
            || (p + 1 == s.len() && byte(s, p) == Some(b'\n'))
            || ends.iter().any(|e| at(s, p, e))
        {
            return Some(p);
        }
    }
    None
}

pub fn cpu_line(msg: &str) -> Found<Who<'_>> {
    let found = if msg.starts_with("CPU: ") {
        (|| {
            let mut j = lit(msg, digits1(msg, 5)?, " ")?;
            if let Some(u) = lit(msg, j, "UID: ")
                .and_then(|u| digits1(msg, u))
                .and_then(|u| lit(msg, u, " "))
            {
                if at(msg, u, "PID: ") {
                    j = u;
                }
            }
            let p0 = lit(msg, j, "PID: ")?;
            let p1 = digits1(msg, p0)?;
            let c0 = lit(msg, p1, " Comm: ")?;
            Some((
                p0,
                p1,
                c0,
                short_comm(msg, c0, &[" Not tainted", " Tainted:", " Kdump:"])?,
            ))
        })()
    } else if msg.starts_with("Pid: ") {
        (|| {
            let p1 = digits1(msg, 5)?;
            let c0 = lit(msg, p1, ", comm: ")?;
            Some((
                5,
                p1,
                c0,
                short_comm(msg, c0, &[" Not tainted", " Tainted:"])?,
            ))
        })()
    } else {
        None
    };
    let Some((p0, p1, c0, c1)) = found else {
        return Ok(None);
    };
    Ok(Some(Who {
        pid: pid(&msg[p0..p1])?,
        comm: &msg[c0..c1],
        kernel: kernel_version(msg, c1),
    }))
}

/// `ainted(?::[^\d]*)?\s+(\d+\.\d+[\w.+~-]*)` searched from `from`: the release a (Not) tainted flag precedes.
fn kernel_version(s: &str, from: usize) -> Option<&str> {
    let mut at_ = from;
    while let Some(i) = find(s, at_, "ainted") {
        at_ = i + 1;
        let j = i + "ainted".len();
        let q = if byte(s, j) == Some(b':') {
            // `[^\d]*\s+` then the digits: the first digit after the colon, with a blank just before it
            let Some((off, _)) = s[j + 1..]
                .char_indices()
                .find(|&(_, c)| decimal(c).is_some())
            else {
                continue;
            };
            let q = j + 1 + off;
            match s[j + 1..q].chars().next_back() {
                Some(c) if crate::text::is_space(c) => q,
                _ => continue,
            }
        } else {
            let q = spaces(s, j);
            if q == j {
                continue;
            }
            q
        };
        let Some(d) = digits1(s, q).and_then(|d| lit(s, d, ".")) else {
            continue;
        };
        if digits1(s, d).is_none() {
            continue;
        }
        let end = s[d..]
            .char_indices()
            .find(|&(_, c)| !(crate::text::is_word(c) || matches!(c, '.' | '+' | '~' | '-')))
            .map_or(s.len(), |(n, _)| d + n);
        return Some(&s[q..end]);
    }
    None
}
