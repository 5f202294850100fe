//! Python's `str` methods as the converter uses them: `strip`, `rstrip`, `split()` with a limit, `int()` and a
//! cut by characters, each to the letter of CPython (its whitespace includes `\x1c`-`\x1f`, its `int()` reads any
//! script's digits and `_` between them).

use super::{decimal, is_space};

pub use super::chars::{rstrip, strip};

/// `s.split(None, maxsplit)` (`maxsplit` None: `s.split()`): the words between blanks, the last one holding the
/// rest of the line (its trailing blanks included) once `maxsplit` words are cut off.
pub fn split_ws(s: &str, maxsplit: Option<usize>) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s.trim_start_matches(is_space);
    while !rest.is_empty() {
        if maxsplit.is_some_and(|n| out.len() == n) {
            out.push(rest);
            break;
        }
        let end = rest.find(is_space).unwrap_or(rest.len());
        out.push(&rest[..end]);
        rest = rest[end..].trim_start_matches(is_space);
    }
    out
}

/// `int(s)` for a `str`: blanks around, a sign, digits of any script with single `_` between them. None where
/// Python raises ValueError, and where the value does not fit an i64 (Python's int has no bound: see `mod.rs`).
pub fn py_int(s: &str) -> Option<i64> {
    let t = strip(s);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut value: i128 = 0;
    let mut last_digit = false;
    for c in digits.chars() {
        if c == '_' {
            if !last_digit {
                return None;
            }
            last_digit = false;
            continue;
        }
        value = value * 10 + decimal(c)? as i128;
        if value > i64::MAX as i128 + 1 {
            return None;
        }
        last_digit = true;
    }
    if !last_digit {
        return None; // empty, or ending with `_`
    }
    i64::try_from(if neg { -value } else { value }).ok()
}

/// `s[:n]`: the first `n` characters.
#[inline]
pub fn cut_chars(s: &str, n: usize) -> &str {
    if s.len() <= n {
        return s; // no more bytes than characters allowed
    }
    match s.char_indices().nth(n) {
        Some((at, _)) => &s[..at],
        None => s,
    }
}

/// `c.lower()` for the characters a month's name is read from (`[A-Za-zÀ-ÿ]`): Latin-1 letters, `×` and `÷`
/// kept, `ß` and `ÿ` having no single lower case of another letter.
pub fn lower_latin1(c: char) -> char {
    match c {
        'A'..='Z' | 'À'..='Ö' | 'Ø'..='Þ' => char::from_u32(c as u32 + 32).unwrap_or(c),
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_takes_pythons_blanks() {
        assert_eq!(strip(" \t\x1c a b\u{3000}\u{a0}"), "a b");
        assert_eq!(strip("\u{200b}x"), "\u{200b}x"); // a zero-width space is no blank to Python
        assert_eq!(rstrip("a \x1f"), "a");
    }

    #[test]
    fn split_like_python() {
        assert_eq!(split_ws("  a  b  c  ", Some(1)), ["a", "b  c  "]);
        assert_eq!(split_ws("a b ", Some(2)), ["a", "b"]);
        assert_eq!(split_ws("", Some(0)), Vec::<&str>::new());
        assert_eq!(split_ws("  a b ", Some(0)), ["a b "]);
        assert_eq!(split_ws(" x\u{2003}y ", None), ["x", "y"]);
    }

    #[test]
    fn int_like_python() {
        assert_eq!(py_int(" 1_000 "), Some(1000));
        assert_eq!(py_int("+\u{663}"), Some(3));
        assert_eq!(py_int("-5"), Some(-5));
        for bad in [
            "",
            "_1",
            "1_",
            "1__0",
            "1.0",
            "0x10",
            "- 1",
            "9223372036854775808",
        ] {
            assert_eq!(py_int(bad), None, "{bad}");
        }
        assert_eq!(py_int("-9223372036854775808"), Some(i64::MIN));
    }

    #[test]
    fn cut_counts_characters() {
        assert_eq!(cut_chars("ééé", 2), "éé");
        assert_eq!(cut_chars("abc", 5), "abc");
    }
}
