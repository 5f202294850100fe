//! Python's text semantics, shared by both tokenizers (ftrace lines and kernel-log lines): the character classes
//! `re` and `str` use (`unicode`, generated from Python 3.11's tables by `tests/gen_unicode.py`), scans over
//! UTF-8 bytes with them (`chars`), and the `str` methods the converters call (`pystr`). One copy of each idea:
//! a class that differed between the two converters would make them split the same console line differently.

pub mod chars;
pub mod pystr;
pub mod unicode;

use unicode::{DECIMAL, PRINTABLE, SPACE, WORD};

/// Whether `c` lies in one of `table`'s ranges, and how far from that range's start.
#[inline]
fn within(table: &[(u32, u32)], c: char) -> Option<u32> {
    let c = c as u32;
    let i = table.partition_point(|&(_, hi)| hi < c);
    table
        .get(i)
        .filter(|&&(lo, _)| lo <= c)
        .map(|&(lo, _)| c - lo)
}

/// Python's `\s` (`str.isspace`, what `str.strip()`/`str.split()` take away).
#[inline]
pub fn is_space(c: char) -> bool {
    if c.is_ascii() {
        matches!(c, '\t'..='\r' | '\x1c'..=' ')
    } else {
        within(SPACE, c).is_some()
    }
}

/// The value of a `\d` character (any script's decimal digit), as `int()` reads it.
#[inline]
pub fn decimal(c: char) -> Option<u32> {
    if c.is_ascii() {
        c.to_digit(10)
    } else {
        within(DECIMAL, c).map(|off| off % 10)
    }
}

/// Python's `\w`.
#[inline]
pub fn is_word(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || c == '_'
    } else {
        within(WORD, c).is_some()
    }
}

/// `str.isprintable` of one character.
#[inline]
pub fn is_printable(c: char) -> bool {
    if c.is_ascii() {
        (' '..='~').contains(&c)
    } else {
        within(PRINTABLE, c).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_python() {
        assert!(is_space('\x1c') && is_space('\u{3000}') && !is_space('\u{200b}'));
        assert_eq!(decimal('\u{663}'), Some(3));
        assert_eq!(decimal('\u{1d7d8}'), Some(0));
        assert!(is_word('é') && !is_word('-'));
        assert!(is_printable('é') && !is_printable('\u{a0}') && !is_printable('\x7f'));
    }
}
