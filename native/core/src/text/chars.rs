//! Python's character classes on UTF-8 bytes: what `\d`, `\s`, `\w`, `str.isspace` and `str.strip` accept in the
//! Python converter, so that a line is split exactly where the Python one splits it.
//!
//! Every scan works on byte offsets into a `&str`. ASCII bytes (every byte of a real trace line) are decided by
//! a table lookup; a byte at or above 0x80 decodes one character and looks it up in `unicode`'s ranges. An offset
//! inside a character (a continuation byte) belongs to no class, which is what Python, counting characters, sees.

use super::unicode::{DECIMAL, DIGIT_NOT_DECIMAL, SPACE, WORD};

const DIGIT: u8 = 1;
const SPACE_: u8 = 2;
const WORD_: u8 = 4;
const NON_SPACE: u8 = 8;
/// The bytes a `[\w…]` class adds to `\w`, for `words`.
pub const DASH: u8 = 16;
pub const COLON: u8 = 32;
pub const DOT: u8 = 64;

/// The ASCII classes, by byte.
static ASCII: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut c = 0;
    while c < 128 {
        let b = c as u8;
        if b.is_ascii_digit() {
            t[c] |= DIGIT | WORD_;
        }
        if b.is_ascii_alphabetic() || b == b'_' {
            t[c] |= WORD_;
        }
        t[c] |= match b {
            b'-' => DASH,
            b':' => COLON,
            b'.' => DOT,
            _ => 0,
        };
        // str.isspace: \t \n \v \f \r, the four information separators 0x1c-0x1f, and the space
        if matches!(b, 0x09..=0x0d | 0x1c..=0x20) {
            t[c] |= SPACE_;
        } else {
            t[c] |= NON_SPACE;
        }
        c += 1;
    }
    t
};

/// The index of the range of `table` holding `c`.
fn find(table: &[(u32, u32)], c: u32) -> Option<usize> {
    use std::cmp::Ordering;
    table
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                Ordering::Less
            } else if lo > c {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        })
        .ok()
}

fn in_ranges(table: &[(u32, u32)], c: u32) -> bool {
    find(table, c).is_some()
}

/// The character starting at `i` and its length in bytes; None past the end or inside a character.
#[inline]
fn decode(s: &[u8], i: usize) -> Option<(u32, usize)> {
    let b = *s.get(i)?;
    let (len, init) = match b {
        0x00..=0x7f => return Some((b as u32, 1)),
        0xc0..=0xdf => (2, (b & 0x1f) as u32),
        0xe0..=0xef => (3, (b & 0x0f) as u32),
        0xf0..=0xf7 => (4, (b & 0x07) as u32),
        _ => return None,
    };
    let tail = s.get(i + 1..i + len)?;
    Some((
        tail.iter().fold(init, |c, &t| (c << 6) | (t & 0x3f) as u32),
        len,
    ))
}

/// Python `\d` at `i`: the digit's value and the character's length.
#[inline]
pub fn digit(s: &[u8], i: usize) -> Option<(u32, usize)> {
    match s.get(i) {
        Some(&b) if b < 0x80 => (ASCII[b as usize] & DIGIT != 0).then(|| ((b - b'0') as u32, 1)),
        Some(_) => {
            let (c, len) = decode(s, i)?;
            find(DECIMAL, c).map(|k| ((c - DECIMAL[k].0) % 10, len))
        }
        None => None,
    }
}

/// Python `\s` (`str.isspace`) at `i`: the character's length.
#[inline]
pub fn space(s: &[u8], i: usize) -> Option<usize> {
    match s.get(i) {
        Some(&b) if b < 0x80 => (ASCII[b as usize] & SPACE_ != 0).then_some(1),
        Some(_) => decode(s, i)
            .filter(|&(c, _)| in_ranges(SPACE, c))
            .map(|(_, len)| len),
        None => None,
    }
}

/// Python `\w` at `i`: the character's length.
#[inline]
pub fn word(s: &[u8], i: usize) -> Option<usize> {
    match s.get(i) {
        Some(&b) if b < 0x80 => (ASCII[b as usize] & WORD_ != 0).then_some(1),
        Some(_) => decode(s, i)
            .filter(|&(c, _)| in_ranges(WORD, c))
            .map(|(_, len)| len),
        None => None,
    }
}

/// `\S` at `i` (any character that is not whitespace): its length.
#[inline]
pub fn non_space(s: &[u8], i: usize) -> Option<usize> {
    match s.get(i) {
        Some(&b) if b < 0x80 => (ASCII[b as usize] & SPACE_ == 0).then_some(1),
        Some(_) => decode(s, i)
            .filter(|&(c, _)| !in_ranges(SPACE, c))
            .map(|(_, len)| len),
        None => None,
    }
}

/// The end of the run of characters of `class` (an ASCII class bit) starting at `i`, the ASCII bytes read in a
/// tight loop; `slow` decides a character at or above 0x80.
#[inline(always)]
fn run(s: &[u8], mut i: usize, class: u8, slow: fn(&[u8], usize) -> Option<usize>) -> usize {
    while let Some(&b) = s.get(i) {
        if b < 0x80 {
            if ASCII[b as usize] & class == 0 {
                break;
            }
            i += 1;
        } else {
            match slow(s, i) {
                Some(n) => i += n,
                None => break,
            }
        }
    }
    i
}

/// The end of the run of whitespace starting at `i` (`i` itself when there is none).
#[inline]
pub fn spaces(s: &[u8], i: usize) -> usize {
    run(s, i, SPACE_, space)
}

/// The end of the run of non-whitespace starting at `i`.
#[inline]
pub fn non_spaces(s: &[u8], i: usize) -> usize {
    run(s, i, NON_SPACE, non_space)
}

/// The end of the run of `\w` characters and the `extra` bytes (`DASH`, `COLON`, `DOT`) starting at `i`
/// (`[\w…]*`).
#[inline]
pub fn words(s: &[u8], i: usize, extra: u8) -> usize {
    run(s, i, WORD_ | extra, word)
}

/// A run of `\d` from `i`, as `int()` reads it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Digits {
    pub end: usize,
    /// How many digits (characters): `\d{1,4}` counts these.
    pub count: usize,
    /// The value; None when it does not fit a u64 (`int()` would still read it: a number too large to keep).
    pub value: Option<u64>,
}

#[inline]
pub fn digits(s: &[u8], mut i: usize) -> Digits {
    // ASCII digits first, up to 18 of them (no overflow check needed), then the general loop
    let start = i;
    let mut v = 0u64;
    while let Some(&b) = s.get(i) {
        if !b.is_ascii_digit() || i - start == 18 {
            break;
        }
        v = v * 10 + (b - b'0') as u64;
        i += 1;
    }
    if s.get(i).is_none_or(|&b| b < 0x80 && !b.is_ascii_digit()) {
        return Digits {
            end: i,
            count: i - start,
            value: Some(v),
        };
    }
    let mut value = Some(v);
    let mut count = i - start;
    while let Some((d, n)) = digit(s, i) {
        value = value
            .and_then(|v| v.checked_mul(10))
            .and_then(|v| v.checked_add(d as u64));
        count += 1;
        i += n;
    }
    Digits {
        end: i,
        count,
        value,
    }
}

/// `str.isdigit()` of a whole string (non-empty, every character a digit in Python's wide sense).
pub fn is_py_digit_str(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match digit(b, i) {
            Some((_, n)) => i += n,
            None => match decode(b, i) {
                Some((c, n)) if in_ranges(DIGIT_NOT_DECIMAL, c) => i += n,
                _ => return false,
            },
        }
    }
    !s.is_empty()
}

/// `str.lstrip()`.
pub fn lstrip(s: &str) -> &str {
    &s[spaces(s.as_bytes(), 0)..]
}

/// `str.rstrip()`.
pub fn rstrip(s: &str) -> &str {
    let b = s.as_bytes();
    let mut end = b.len();
    while end > 0 {
        let mut start = end - 1;
        while start > 0 && (b[start] & 0xc0) == 0x80 {
            start -= 1;
        }
        if space(b, start).is_none() {
            break;
        }
        end = start;
    }
    &s[..end]
}

/// `str.strip()`.
pub fn strip(s: &str) -> &str {
    rstrip(lstrip(s))
}

/// `f"{n:,}"`: a decimal number with a comma every three digits.
pub fn thousands(n: impl std::fmt::Display) -> String {
    let plain = n.to_string();
    let (sign, digits) = plain.split_at(plain.starts_with('-') as usize);
    let mut out = String::with_capacity(plain.len() + digits.len() / 3);
    out.push_str(sign);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_python() {
        assert_eq!(digit("٣".as_bytes(), 0), Some((3, 2)));
        assert_eq!(digit("²".as_bytes(), 0), None); // isdigit, but not \d
        assert!(is_py_digit_str("1²"));
        assert!(!is_py_digit_str(""));
        assert_eq!(space(b"\x1c", 0), Some(1));
        assert_eq!(space("\u{3000}".as_bytes(), 0), Some(3));
        assert_eq!(word("é".as_bytes(), 0), Some(2));
        assert_eq!(word("é".as_bytes(), 1), None); // inside the character
        assert_eq!(word("\u{FFFD}".as_bytes(), 0), None);
        assert_eq!(strip("\u{a0} a b\x1f "), "a b");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(-1234), "-1,234");
        assert_eq!(thousands(12), "12");
    }

    #[test]
    fn digit_runs_keep_their_value_or_say_it_is_too_large() {
        let d = digits(b"0042x", 0);
        assert_eq!((d.end, d.count, d.value), (4, 4, Some(42)));
        let long = "9".repeat(20);
        let d = digits(long.as_bytes(), 0);
        assert_eq!((d.end, d.count, d.value), (20, 20, None));
    }
}
