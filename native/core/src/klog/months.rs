//! Month abbreviations as `date`/syslog print them in the locales people paste logs from (prefix.py `_MONTHS`).

use crate::text::pystr::lower_latin1;

/// `month(name)`: the number of a month's name (3 to 5 characters of `[A-Za-zÀ-ÿ]`), any case.
pub fn month(name: &str) -> Option<i64> {
    let mut buf = [0u8; 12];
    let mut n = 0;
    for c in name.chars() {
        let c = lower_latin1(c);
        if n + c.len_utf8() > buf.len() {
            return None;
        }
        n += c.encode_utf8(&mut buf[n..]).len();
    }
    Some(match std::str::from_utf8(&buf[..n]).ok()? {
        "jan" | "ene" | "gen" | "janv" | "jän" => 1,
        "feb" | "fev" | "fév" | "févr" => 2,
        "mar" | "mär" | "mrz" | "mrt" | "märz" | "mars" => 3,
        "apr" | "abr" | "avr" => 4,
        "may" | "mai" | "mag" | "mei" => 5,
        "jun" | "jui" | "juin" | "giu" => 6,
        "jul" | "juil" | "lug" => 7,
        "aug" | "ago" | "aoû" | "août" => 8,
        "sep" | "set" | "sept" => 9,
        "oct" | "okt" | "ott" | "out" => 10,
        "nov" => 11,
        "dec" | "dic" | "dez" | "déc" => 12,
        _ => return None,
    })
}

/// `[A-Za-zÀ-ÿ]`.
#[inline]
pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphabetic() || ('À'..='ÿ').contains(&c)
}

/// The end of a month's name at `i`: a run of `[A-Za-zÀ-ÿ]` of 3 to 5 characters (`{3,5}` followed by what is
/// not one of them).
pub fn name_end(s: &str, i: usize) -> Option<usize> {
    let mut n = 0;
    let mut end = i;
    for c in s[i..].chars() {
        if !is_name_char(c) {
            break;
        }
        n += 1;
        end += c.len_utf8();
        if n > 5 {
            return None;
        }
    }
    (n >= 3).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_their_locales() {
        assert_eq!(month("Jun"), Some(6));
        assert_eq!(month("MÄRZ"), Some(3));
        assert_eq!(month("Sept"), Some(9));
        assert_eq!(month("DÉC"), Some(12));
        assert_eq!(month("Xyz"), None);
        assert_eq!(name_end("Apr  2", 0), Some(3));
        assert_eq!(name_end("Septem", 0), None);
        assert_eq!(name_end("Ab 1", 0), None);
    }
}
