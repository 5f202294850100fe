//! Line prefixes (prefix.py): what dmesg, syslog, journalctl, logcat and people pasting logs put in front of a
//! kernel message. `split_prefix` peels them off one line in the order they nest (e-mail quoting, a pasted line
//! number, the tool's prefix, then the kernel's own stamp and caller id) and says what they told: the printk
//! stamp, a wall time, whether the message is the kernel's at all, whether the wall time had no year.
//!
//! Every form is read by hand, byte by byte, to the letter of the Python regexes (`\d` and `\s` in Python's
//! Unicode sense); the common one, `[ sec.frac] `, costs a few comparisons.

use std::borrow::Cow;

use super::prefix_syslog::{bsd, iso, logcat};
use super::scan::{at, byte, char_at, digits1, drun, lit, spaces};
use super::wall::frac_ns;
use super::{journal, months, prefix_dmesg};
use crate::text::{decimal, is_space};

/// `--format`: `Auto` tries every prefix on every line; the others only their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Auto,
    Dmesg,
    Syslog,
    Journal,
    Kmsg,
    Logcat,
    Plain,
}

impl Format {
    /// Every `--format`, as the CLI offers them.
    pub const NAMES: [&'static str; 7] = [
        "auto", "dmesg", "syslog", "journal", "kmsg", "logcat", "plain",
    ];

    /// By name (one of `NAMES`).
    pub fn parse(name: &str) -> Option<Format> {
        Some(match name {
            "auto" => Format::Auto,
            "dmesg" => Format::Dmesg,
            "syslog" => Format::Syslog,
            "journal" => Format::Journal,
            "kmsg" => Format::Kmsg,
            "logcat" => Format::Logcat,
            "plain" => Format::Plain,
            _ => return None,
        })
    }

    /// `DMESG_FORMATS`: lines may start with a printk stamp.
    pub fn dmesg_stamps(self) -> bool {
        matches!(
            self,
            Format::Auto | Format::Dmesg | Format::Journal | Format::Kmsg
        )
    }

    /// `SYSLOG_FORMATS`: lines may carry a syslog prefix.
    pub fn syslog_prefix(self) -> bool {
        matches!(self, Format::Auto | Format::Syslog | Format::Journal)
    }
}

/// One line with its prefixes taken off: the message and what the prefixes said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prefixed<'a> {
    pub text: Cow<'a, str>,
    /// the printk stamp (the kernel's clock since boot), ns
    pub mono_ns: Option<i64>,
    /// a wall time, ns since the Unix epoch (a year-less one counts from 2000)
    pub wall_ns: Option<i64>,
    /// false for another program's line (a syslog line from dockerd): kept as text, never parsed
    pub kernel: bool,
    /// the wall time had no year (syslog, logcat): the converter rolls it forward across New Year
    pub yearless: bool,
    /// the line's own time does not fit the trace (a printk stamp, kmsg or journal time past i64 nanoseconds,
    /// which no kernel prints: `local_clock()` would have to run for 292 years): the converter keeps the whole
    /// line as a `log` event and lists it in `overflow`, rather than parse it at a time it does not say
    pub overflow: bool,
}

impl<'a> Prefixed<'a> {
    /// A line with no prefix: kernel text with no time.
    pub fn plain(text: &'a str) -> Prefixed<'a> {
        Prefixed {
            text: Cow::Borrowed(text),
            mono_ns: None,
            wall_ns: None,
            kernel: true,
            yearless: false,
            overflow: false,
        }
    }

    pub fn other(text: &'a str, wall_ns: Option<i64>, yearless: bool) -> Prefixed<'a> {
        Prefixed {
            text: Cow::Borrowed(text),
            mono_ns: None,
            wall_ns,
            kernel: false,
            yearless,
            overflow: false,
        }
    }
}

/// `(?:>[ \t]?)+` at the start: e-mail quoting.
fn unquote(s: &str) -> usize {
    let mut i = 0;
    while byte(s, i) == Some(b'>') {
        i += 1;
        if matches!(byte(s, i), Some(b' ' | b'\t')) {
            i += 1;
        }
    }
    i
}

/// `_LINENO`: `\s*\d+[:.)]?\s+` before what a prefix starts with; the end of the line number.
fn lineno(s: &str) -> Option<usize> {
    let mut i = digits1(s, spaces(s, 0))?;
    if matches!(byte(s, i), Some(b':' | b'.' | b')')) {
        i += 1;
    }
    let e = spaces(s, i);
    if e == i {
        return None;
    }
    let ahead = matches!(byte(s, e), Some(b'[' | b'<'))
        || month_ahead(s, e)
        || iso_ahead(s, e)
        || at(s, e, "kernel: ");
    ahead.then_some(e)
}

/// `[A-Za-zÀ-ÿ]{3,5}\.? +\d{1,2} \d\d:`
fn month_ahead(s: &str, i: usize) -> bool {
    (|| {
        let mut i = months::name_end(s, i)?;
        if byte(s, i) == Some(b'.') {
            i += 1;
        }
        let j = super::scan::run_of(s, i, b' ');
        if j == i {
            return None;
        }
        let i = lit(s, drun(s, j, 1, 2)?, " ")?;
        lit(s, drun(s, i, 2, 2)?, ":")
    })()
    .is_some()
}

/// `\d{4}-\d\d-\d\d[T ]`
fn iso_ahead(s: &str, i: usize) -> bool {
    (|| {
        let i = lit(s, drun(s, i, 4, 4)?, "-")?;
        let i = lit(s, drun(s, i, 2, 2)?, "-")?;
        matches!(byte(s, drun(s, i, 2, 2)?), Some(b'T' | b' ')).then_some(())
    })()
    .is_some()
}

/// `<(\d{1,3})>`: a kmsg / `dmesg -r` level.
fn level(s: &str) -> Option<usize> {
    lit(s, drun(s, 1, 1, 3)?, ">")
}

/// `_KERNEL_STAMP` at the start of `s`: an optional printk stamp `[ sec.frac] `, an optional caller id
/// `[T123] `; the message follows. A stamp too large for an i64 of ns is read, as no time, and flagged.
pub fn kernel_stamp(s: &str, wall_ns: Option<i64>, yearless: bool) -> Prefixed<'_> {
    let mut i = 0;
    let mut mono = None;
    let mut overflow = false;
    if let Some((end, ns)) = printk_stamp(s) {
        i = end;
        mono = ns;
        overflow = ns.is_none();
    }
    if let Some(end) = caller_id(s, i) {
        i = end;
    }
    Prefixed {
        text: Cow::Borrowed(&s[i..]),
        mono_ns: mono,
        wall_ns,
        kernel: true,
        yearless,
        overflow,
    }
}

/// `\[\s*(\d{1,12})\.(\d{1,9})\] ?`: its end and the time it says.
#[inline]
fn printk_stamp(s: &str) -> Option<(usize, Option<i64>)> {
    if byte(s, 0) != Some(b'[') {
        return None;
    }
    let a = spaces(s, 1);
    let b = drun(s, a, 1, 12)?;
    let c = lit(s, b, ".")?;
    let d = drun(s, c, 1, 9)?;
    let mut end = lit(s, d, "]")?;
    if byte(s, end) == Some(b' ') {
        end += 1;
    }
    let secs = super::scan::number(&s[a..b]).ok();
    let ns = secs
        .and_then(|v| v.checked_mul(1_000_000_000))
        .and_then(|v| v.checked_add(frac_ns(&s[c..d])));
    Some((end, ns))
}

/// `\[\s*[TC]\d{1,10}\] ?` at `i`.
fn caller_id(s: &str, i: usize) -> Option<usize> {
    let j = spaces(s, lit(s, i, "[")?);
    if !matches!(byte(s, j), Some(b'T' | b'C')) {
        return None;
    }
    let mut end = lit(s, drun(s, j + 1, 1, 10)?, "]")?;
    if byte(s, end) == Some(b' ') {
        end += 1;
    }
    Some(end)
}

/// `\S+ kernel: ` at the start: the host journalctl -o short-monotonic puts after the stamp.
fn journal_host(text: &str) -> Option<usize> {
    let mut i = 0;
    while let Some((c, next)) = char_at(text, i) {
        if is_space(c) {
            break;
        }
        i = next;
    }
    if i == 0 {
        return None;
    }
    lit(text, i, " kernel: ")
}

/// `split_prefix(line, fmt)`: every prefix taken off `line`. A line with no prefix comes back whole, as kernel
/// text with no time.
pub fn split_prefix(line: &str, fmt: Format) -> Prefixed<'_> {
    let mut s = line;
    if byte(s, 0) == Some(b'>') {
        s = &s[unquote(s)..];
    }
    let first = |s: &str| char_at(s, 0).map(|(c, _)| c);
    if first(s).is_some_and(|c| is_space(c) || decimal(c).is_some()) {
        if let Some(end) = lineno(s) {
            s = &s[end..];
        }
    }
    let auto = fmt == Format::Auto;
    if byte(s, 0) == Some(b'<') && (auto || matches!(fmt, Format::Kmsg | Format::Dmesg)) {
        if let Some(end) = level(s) {
            s = &s[end..];
        }
    }
    match first(s) {
        Some('[') => {
            if fmt.dmesg_stamps() {
                let mut p = kernel_stamp(s, None, false);
                if p.mono_ns.is_some() {
                    if let Cow::Borrowed(text) = p.text {
                        if super::scan::holds_kernel_colon(text) {
                            if let Some(end) = journal_host(text) {
                                p.text = Cow::Borrowed(&text[end..]);
                            }
                        }
                    }
                    return p;
                }
                if p.overflow {
                    return Prefixed {
                        overflow: true,
                        ..Prefixed::plain(s)
                    };
                }
            }
            if auto || fmt == Format::Dmesg {
                if let Some((end, wall)) = prefix_dmesg::dmesg_t(s) {
                    return kernel_stamp(&s[end..], wall, false);
                }
            }
        }
        Some(c) if decimal(c).is_some() => {
            if auto || fmt == Format::Kmsg {
                if let Some((end, mono)) = prefix_dmesg::kmsg(s) {
                    return Prefixed {
                        mono_ns: mono,
                        overflow: mono.is_none(),
                        ..Prefixed::plain(&s[end..])
                    };
                }
            }
            if fmt.syslog_prefix() {
                if let Some(m) = iso(s) {
                    return m.prefixed(s, false);
                }
            }
            if auto || fmt == Format::Logcat {
                if let Some(p) = logcat(s) {
                    return p;
                }
            }
        }
        // `first.isalpha()`: only letters of `[A-Za-zÀ-ÿ]` can start either form, and × ÷ are no letters
        Some(c) if months::is_name_char(c) && c != '×' && c != '÷' => {
            if fmt.syslog_prefix() {
                if let Some(m) = bsd(s) {
                    return m.prefixed(s, true);
                }
                if let Some(end) = lit(s, 0, "kernel: ") {
                    return kernel_stamp(&s[end..], None, false);
                }
            }
        }
        Some('{') if auto || fmt == Format::Journal => {
            if let Some(p) = journal::record(s) {
                return p;
            }
        }
        _ => {}
    }
    Prefixed::plain(s)
}
