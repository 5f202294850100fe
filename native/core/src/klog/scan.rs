//! The pieces the recognisers are written with, in place of Python's regexes: runs of `\d` or `\s` (in Python's
//! Unicode sense), literals, and numbers read with their range checked. Positions are byte offsets in a `&str`.

use crate::text::{decimal, is_space, is_word};

/// A number on a line too large for the type the kernel printed it from (see `mod.rs`): the line is kept as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow;

/// What a recogniser found: None when the line is not of its form.
pub type Found<T> = Result<Option<T>, Overflow>;

/// The character at `i` and where the next one starts.
#[inline]
pub fn char_at(s: &str, i: usize) -> Option<(char, usize)> {
    let b = *s.as_bytes().get(i)?;
    if b < 0x80 {
        return Some((b as char, i + 1));
    }
    // inside a character (an index past a byte that starts one): no character starts here
    let c = s.get(i..)?.chars().next()?;
    Some((c, i + c.len_utf8()))
}

/// The end of the run of `\d` from `i`.
#[inline]
pub fn digits(s: &str, mut i: usize) -> usize {
    let b = s.as_bytes();
    loop {
        match b.get(i) {
            Some(c) if c.is_ascii_digit() => i += 1,
            Some(&c) if c >= 0x80 => match char_at(s, i) {
                Some((ch, next)) if decimal(ch).is_some() => i = next,
                _ => return i,
            },
            _ => return i,
        }
    }
}

/// The end of the run of `\s` from `i`.
#[inline]
pub fn spaces(s: &str, mut i: usize) -> usize {
    let b = s.as_bytes();
    loop {
        match b.get(i) {
            Some(&c) if c < 0x80 => {
                if is_space(c as char) {
                    i += 1
                } else {
                    return i;
                }
            }
            Some(_) => match char_at(s, i) {
                Some((ch, next)) if is_space(ch) => i = next,
                _ => return i,
            },
            None => return i,
        }
    }
}

/// The end of the run of the byte `c` (an ASCII character) from `i`.
#[inline]
pub fn run_of(s: &str, mut i: usize, c: u8) -> usize {
    while s.as_bytes().get(i) == Some(&c) {
        i += 1;
    }
    i
}

/// The end of the run of ASCII bytes for which `f` holds, from `i`.
#[inline]
pub fn ascii_run(s: &str, mut i: usize, f: impl Fn(u8) -> bool) -> usize {
    while s.as_bytes().get(i).is_some_and(|&c| f(c)) {
        i += 1;
    }
    i
}

/// `\d+` from `i`: its end, if there is at least one digit.
#[inline]
pub fn digits1(s: &str, i: usize) -> Option<usize> {
    let end = digits(s, i);
    (end > i).then_some(end)
}

/// `\d{min,max}` at `i` where a non-digit must follow (every such use in the patterns): the end of the run of
/// digits there, if it holds `min` to `max` of them.
#[inline]
pub fn drun(s: &str, i: usize, min: usize, max: usize) -> Option<usize> {
    let end = digits(s, i);
    let n = if s.as_bytes()[i..end].is_ascii() {
        end - i
    } else {
        s[i..end].chars().count()
    };
    (min..=max).contains(&n).then_some(end)
}

/// `\d` repeated `n` times at `i`, whatever follows.
pub fn dexact(s: &str, mut i: usize, n: usize) -> Option<usize> {
    for _ in 0..n {
        match char_at(s, i) {
            Some((c, next)) if decimal(c).is_some() => i = next,
            _ => return None,
        }
    }
    Some(i)
}

/// The end of `lit` if `s` holds it at `i`.
#[inline]
pub fn lit(s: &str, i: usize, lit: &str) -> Option<usize> {
    s.as_bytes()
        .get(i..i + lit.len())
        .filter(|b| *b == lit.as_bytes())
        .map(|_| i + lit.len())
}

/// Whether `s` holds `lit` at `i`.
#[inline]
pub fn at(s: &str, i: usize, lit: &str) -> bool {
    s.as_bytes().get(i..i + lit.len()) == Some(lit.as_bytes())
}

/// The byte at `i`, if any.
#[inline]
pub fn byte(s: &str, i: usize) -> Option<u8> {
    s.as_bytes().get(i).copied()
}

/// The value of a run of `\d` (any script), as `int()` gives it; Overflow past i64.
pub fn number(run: &str) -> Result<i64, Overflow> {
    let push = |v: i64, d: u32| {
        v.checked_mul(10)
            .and_then(|v| v.checked_add(d as i64))
            .ok_or(Overflow)
    };
    if run.is_ascii() {
        return run.bytes().try_fold(0, |v, b| push(v, (b - b'0') as u32));
    }
    run.chars()
        .try_fold(0, |v, c| push(v, decimal(c).unwrap_or(0)))
}

/// `-?\d+` at `i`: its end and value.
pub fn signed(s: &str, i: usize) -> Option<(usize, Result<i64, Overflow>)> {
    if byte(s, i) == Some(b'-') {
        if let Some(end) = digits1(s, i + 1) {
            return Some((end, number(&s[i + 1..end]).map(|v| -v)));
        }
    }
    let end = digits1(s, i)?;
    Some((end, number(&s[i..end])))
}

/// A pid (`pid_t`, an i32 in the kernel) from a run of digits.
pub fn pid(run: &str) -> Result<i64, Overflow> {
    let v = number(run)?;
    if v > i32::MAX as i64 {
        return Err(Overflow);
    }
    Ok(v)
}

/// Whether Python's `\b` holds before position `i` of `s` when the next character is a word character: the one
/// before is not (or there is none).
#[inline]
pub fn word_start(s: &str, i: usize) -> bool {
    s[..i].chars().next_back().is_none_or(|c| !is_word(c))
}

/// `s[..i]` holds no newline: `.` of a regex cannot have crossed one.
#[inline]
pub fn no_newline(s: &str, i: usize) -> bool {
    memchr::memchr(b'\n', &s.as_bytes()[..i]).is_none()
}

/// Where the first line of `s` ends: a pattern whose `.` parts stop at a newline matches within it.
#[inline]
pub fn line_end(s: &str, from: usize) -> usize {
    memchr::memchr(b'\n', &s.as_bytes()[from..]).map_or(s.len(), |n| from + n)
}

/// `"kernel: " in text`, with a searcher made once.
#[inline]
pub fn holds_kernel_colon(text: &str) -> bool {
    static F: std::sync::OnceLock<memchr::memmem::Finder<'static>> = std::sync::OnceLock::new();
    F.get_or_init(|| memchr::memmem::Finder::new(b"kernel: "))
        .find(text.as_bytes())
        .is_some()
}

/// Hex digits `[0-9a-fA-F]`.
#[inline]
pub fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_unicode_as_in_python() {
        assert_eq!(digits("12\u{663}x", 0), 4);
        assert_eq!(number("1\u{663}").unwrap(), 13);
        assert_eq!(spaces(" \u{2003}\x1cx", 0), 5);
        assert_eq!(number("9223372036854775808"), Err(Overflow));
        assert_eq!(
            signed("-12,", 0).map(|(e, v)| (e, v.unwrap())),
            Some((3, -12))
        );
        assert_eq!(signed("-,", 0), None);
        assert_eq!(pid("2147483648"), Err(Overflow));
    }

    #[test]
    fn word_boundaries() {
        assert!(word_start("a order=", 2));
        assert!(!word_start("xorder=", 1));
        assert!(word_start("order=", 0));
        assert!(!word_start("éorder", 2));
    }
}
