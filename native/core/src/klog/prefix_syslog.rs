//! The syslog family of prefixes: BSD (RFC 3164, rsyslog's `kern.log`, `journalctl -o short`), ISO 8601
//! (`journalctl -o short-iso`, RFC 5424-ish) and Android's logcat.

use std::borrow::Cow;

use super::months::{month, name_end};
use super::prefix::{kernel_stamp, Prefixed};
use super::prefix_dmesg::clock;
use super::scan::{byte, char_at, dexact, digits1, drun, lit, number, run_of};
use super::wall::{wall_ns, Civil};
use crate::text::is_space;

/// A syslog line's prefix, read: its time, its program, and where the message starts.
pub struct Syslog<'a> {
    wall_ns: Option<i64>,
    tag: &'a str,
    pid: bool,
    end: usize,
}

impl<'a> Syslog<'a> {
    /// The kernel's line (tag `kernel`, no pid) goes on to its printk stamp; another program's is text.
    pub fn prefixed(&self, s: &'a str, yearless: bool) -> Prefixed<'a> {
        let rest = &s[self.end..];
        if self.tag != "kernel" || self.pid {
            Prefixed::other(rest, self.wall_ns, yearless)
        } else {
            kernel_stamp(rest, self.wall_ns, yearless)
        }
    }
}

/// `(\S+) ([^\s:\[]+)(\[\d+\])?: ?` at `i`: the host, the tag, a pid, then the message.
fn host_tag(s: &str, i: usize) -> Option<(&str, bool, usize)> {
    let mut h = i;
    while let Some((c, next)) = char_at(s, h) {
        if is_space(c) {
            break;
        }
        h = next;
    }
    if h == i {
        return None;
    }
    let t0 = lit(s, h, " ")?;
    let mut t = t0;
    while let Some((c, next)) = char_at(s, t) {
        if is_space(c) || c == ':' || c == '[' {
            break;
        }
        t = next;
    }
    if t == t0 {
        return None;
    }
    let (pid, colon) = if byte(s, t) == Some(b'[') {
        (true, lit(s, digits1(s, t + 1)?, "]")?)
    } else {
        (false, t)
    };
    let mut end = lit(s, colon, ":")?;
    if byte(s, end) == Some(b' ') {
        end += 1;
    }
    Some((&s[t0..t], pid, end))
}

/// The shape of a BSD syslog prefix (`SYSLOG_PREFIX`, no month check): where the month's name ends, the tag,
/// whether a pid follows it, where the message starts; and the day, clock and fraction for the wall time.
pub struct BsdShape<'a> {
    pub name_end: usize,
    pub tag: &'a str,
    pub pid: bool,
    pub end: usize,
    day: (usize, usize),
    clock: (i64, i64, i64),
    frac: Option<&'a str>,
}

/// `SYSLOG_PREFIX` at the start of `s`: `Mon DD HH:MM:SS[.frac] host tag[pid]: `, whatever the month's name.
pub fn bsd_shape(s: &str) -> Option<BsdShape<'_>> {
    let n = name_end(s, 0)?;
    let mut j = n;
    if byte(s, j) == Some(b'.') {
        j += 1;
    }
    let d0 = run_of(s, j, b' ');
    if d0 == j {
        return None;
    }
    let d1 = drun(s, d0, 1, 2)?;
    let (hh, mm, ss, mut k) = clock(s, lit(s, d1, " ")?)?;
    let mut frac = None;
    if byte(s, k) == Some(b'.') {
        if let Some(f) = drun(s, k + 1, 1, 9) {
            frac = Some(&s[k + 1..f]);
            k = f;
        }
    }
    let (tag, pid, end) = host_tag(s, lit(s, k, " ")?)?;
    Some(BsdShape {
        name_end: n,
        tag,
        pid,
        end,
        day: (d0, d1),
        clock: (hh, mm, ss),
        frac,
    })
}

/// `_BSD`: `Mon DD HH:MM:SS[.frac] host tag[pid]: ` (the year 2000, as syslog prints none); None also when the
/// month's name is no month's.
pub fn bsd(s: &str) -> Option<Syslog<'_>> {
    let b = bsd_shape(s)?;
    let month_no = month(&s[..b.name_end])?;
    let day = number(&s[b.day.0..b.day.1]).unwrap_or(0);
    let (hh, mm, ss) = b.clock;
    let wall = wall_ns(&Civil {
        year: 2000,
        month: month_no,
        day,
        hh,
        mm,
        ss,
        frac: b.frac,
        offset_min: 0,
    });
    Some(Syslog {
        wall_ns: wall,
        tag: b.tag,
        pid: b.pid,
        end: b.end,
    })
}

/// `_ISO`: `YYYY-MM-DD[T ]HH:MM:SS[.frac][Z|±HH[:]MM] host tag[pid]: `.
pub fn iso(s: &str) -> Option<Syslog<'_>> {
    let y = drun(s, 0, 4, 4)?;
    let mo0 = lit(s, y, "-")?;
    let mo = drun(s, mo0, 2, 2)?;
    let d0 = lit(s, mo, "-")?;
    let d = drun(s, d0, 2, 2)?;
    if !matches!(byte(s, d), Some(b'T' | b' ')) {
        return None;
    }
    let (hh, mm, ss, mut k) = clock(s, d + 1)?;
    let mut frac = None;
    if matches!(byte(s, k), Some(b'.' | b',')) {
        let f = drun(s, k + 1, 1, 9)?;
        frac = Some(&s[k + 1..f]);
        k = f;
    }
    let mut offset_min = Some(0);
    match byte(s, k) {
        Some(b'Z') => k += 1,
        Some(sign @ (b'+' | b'-')) => {
            let h = dexact(s, k + 1, 2)?;
            let m0 = if byte(s, h) == Some(b':') { h + 1 } else { h };
            let m = dexact(s, m0, 2)?;
            let minutes = number(&s[k + 1..h]).unwrap_or(0) * 60 + number(&s[m0..m]).unwrap_or(0);
            // timezone() refuses an offset of a day or more: Python raises there (see mod.rs); no time here
            offset_min =
                (minutes < 24 * 60).then_some(if sign == b'-' { -minutes } else { minutes });
            k = m;
        }
        _ => {}
    }
    let (tag, pid, end) = host_tag(s, lit(s, k, " ")?)?;
    let num = |a: usize, b: usize| number(&s[a..b]).unwrap_or(0);
    let wall = offset_min.and_then(|offset_min| {
        wall_ns(&Civil {
            year: num(0, y),
            month: num(mo0, mo),
            day: num(d0, d),
            hh,
            mm,
            ss,
            frac,
            offset_min,
        })
    });
    Some(Syslog {
        wall_ns: wall,
        tag,
        pid,
        end,
    })
}

/// `_LOGCAT`: `MM-DD HH:MM:SS.mmm  pid  tid L tag: `; the message keeps its tag, and is the kernel's only for the
/// low-memory killers.
pub fn logcat(s: &str) -> Option<Prefixed<'_>> {
    let mo = drun(s, 0, 2, 2)?;
    let d0 = lit(s, mo, "-")?;
    let d = drun(s, d0, 2, 2)?;
    let (hh, mm, ss, k) = clock(s, lit(s, d, " ")?)?;
    let f0 = lit(s, k, ".")?;
    let f = drun(s, f0, 3, 3)?;
    let mut i = f;
    for _ in 0..2 {
        let j = run_of(s, i, b' ');
        if j == i {
            return None;
        }
        i = digits1(s, j)?;
    }
    let i = lit(s, i, " ")?;
    if !matches!(
        byte(s, i),
        Some(b'V' | b'D' | b'I' | b'W' | b'E' | b'F' | b'A')
    ) {
        return None;
    }
    let t0 = lit(s, i + 1, " ")?;
    let colon = t0 + memchr::memchr(b':', &s.as_bytes()[t0..])?;
    let end = lit(s, colon + 1, " ")?;
    let tag = s[t0..colon].trim_end_matches(' ');
    let num = |a: usize, b: usize| number(&s[a..b]).unwrap_or(0);
    let civil = Civil {
        year: 2000,
        month: num(0, mo),
        day: num(d0, d),
        hh,
        mm,
        ss,
        frac: Some(&s[f0..f]),
        offset_min: 0,
    };
    Some(Prefixed {
        text: Cow::Owned(format!("{tag}: {}", &s[end..])),
        mono_ns: None,
        wall_ns: wall_ns(&civil),
        kernel: tag == "lowmemorykiller" || tag == "lmkd",
        yearless: true,
        overflow: false,
    })
}
