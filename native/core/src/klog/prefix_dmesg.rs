//! The two other forms a dmesg line may start with: `dmesg -T`'s wall time and a `/dev/kmsg` record.

use super::months::{month, name_end};
use super::scan::{ascii_run, byte, digits1, drun, lit, number, run_of};
use super::wall::{wall_ns, Civil};

/// `_DMESG_T`, `[Thu Apr  2 15:52:54 2020] ` (the weekday optional, a fraction possible): its end and the time.
/// None also when the month's name is no month's (`split_prefix` then keeps the line whole).
pub fn dmesg_t(s: &str) -> Option<(usize, Option<i64>)> {
    // `(?:[A-Za-z]{2,4}\.? )?` first; without it if the rest then fails
    let w = ascii_run(s, 1, |c| c.is_ascii_alphabetic());
    let mut with_day = None;
    if (3..=5).contains(&w) {
        let mut j = w;
        if byte(s, j) == Some(b'.') {
            j += 1;
        }
        if let Some(j) = lit(s, j, " ") {
            with_day = after_weekday(s, j);
        }
    }
    let (name, civil, end) = with_day.or_else(|| after_weekday(s, 1))?;
    let month_no = month(name)?;
    Some((
        end,
        wall_ns(&Civil {
            month: month_no,
            ..civil
        }),
    ))
}

/// `([A-Za-zÀ-ÿ]{3,5})\.? +(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))? (\d{4})\] ?` at `i`.
fn after_weekday(s: &str, i: usize) -> Option<(&str, Civil<'_>, usize)> {
    let n = name_end(s, i)?;
    let mut j = n;
    if byte(s, j) == Some(b'.') {
        j += 1;
    }
    let d0 = run_of(s, j, b' ');
    if d0 == j {
        return None;
    }
    let d1 = drun(s, d0, 1, 2)?;
    let h0 = lit(s, d1, " ")?;
    let (hh, mm, ss, mut k) = clock(s, h0)?;
    let mut frac = None;
    if matches!(byte(s, k), Some(b'.' | b',')) {
        let f = drun(s, k + 1, 1, 9)?;
        frac = Some(&s[k + 1..f]);
        k = f;
    }
    let y0 = lit(s, k, " ")?;
    let y1 = drun(s, y0, 4, 4)?;
    let mut end = lit(s, y1, "]")?;
    if byte(s, end) == Some(b' ') {
        end += 1;
    }
    let num = |a: usize, b: usize| number(&s[a..b]).unwrap_or(0);
    let civil = Civil {
        year: num(y0, y1),
        month: 0,
        day: num(d0, d1),
        hh,
        mm,
        ss,
        frac,
        offset_min: 0,
    };
    Some((&s[i..n], civil, end))
}

/// `(\d\d):(\d\d):(\d\d)` at `i`: the three and the end.
pub fn clock(s: &str, i: usize) -> Option<(i64, i64, i64, usize)> {
    let a = drun(s, i, 2, 2)?;
    let b0 = lit(s, a, ":")?;
    let b = drun(s, b0, 2, 2)?;
    let c0 = lit(s, b, ":")?;
    let c = drun(s, c0, 2, 2)?;
    let num = |x: usize, y: usize| number(&s[x..y]).unwrap_or(0);
    Some((num(i, a), num(b0, b), num(c0, c), c))
}

/// `_KMSG`, `(\d{1,3}),(\d+),(\d+),[^;]*;`: its end and the record's time (µs, in ns; None if too large).
pub fn kmsg(s: &str) -> Option<(usize, Option<i64>)> {
    let a = lit(s, drun(s, 0, 1, 3)?, ",")?;
    let b = lit(s, digits1(s, a)?, ",")?;
    let c = digits1(s, b)?;
    let d = lit(s, c, ",")?;
    let end = d + memchr::memchr(b';', &s.as_bytes()[d..])? + 1;
    let mono = number(&s[b..c]).ok().and_then(|us| us.checked_mul(1000));
    Some((end, mono))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dmesg_t_with_and_without_weekday() {
        let (end, wall) = dmesg_t("[Thu Apr  2 15:52:54 2020] x").unwrap();
        assert_eq!((end, wall), (27, Some(1_585_842_774_000_000_000)));
        assert_eq!(
            dmesg_t("[Apr  2 15:52:54,5 2020]x").map(|(e, w)| (e, w.map(|n| n % 1_000_000_000))),
            Some((24, Some(500_000_000)))
        );
        assert_eq!(dmesg_t("[Thu Xyz  2 15:52:54 2020] x"), None);
        assert_eq!(dmesg_t("[Thu Feb 30 15:52:54 2020] x"), Some((27, None)));
    }

    #[test]
    fn kmsg_records() {
        assert_eq!(
            kmsg("3,1234,493791708,-;x"),
            Some((19, Some(493_791_708_000)))
        );
        assert_eq!(kmsg("3,1,99999999999999999999,-;x"), Some((27, None)));
        assert_eq!(kmsg("3,1,2,-x"), None);
    }
}
