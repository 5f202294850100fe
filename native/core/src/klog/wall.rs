//! Wall-clock times as `datetime(...).timestamp()` gives them: a date Python refuses (Feb 30, hour 24, year 0) is
//! no time, and so is one too far from 1970 for an i64 of nanoseconds (see `mod.rs`).

/// `int(frac) * 10 ** (9 - len(frac))`: a fraction of at most 9 digits (any script), in ns.
pub fn frac_ns(frac: &str) -> i64 {
    let mut ns: i64 = 0;
    let mut n = 0;
    for c in frac.chars() {
        ns = ns * 10 + crate::text::decimal(c).unwrap_or(0) as i64;
        n += 1;
    }
    for _ in n..9 {
        ns *= 10;
    }
    ns
}

fn leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The fields of a wall time, as the prefixes' regexes read them.
pub struct Civil<'a> {
    pub year: i64,
    pub month: i64,
    pub day: i64,
    pub hh: i64,
    pub mm: i64,
    pub ss: i64,
    pub frac: Option<&'a str>,
    /// minutes east of UTC
    pub offset_min: i64,
}

/// ns since the epoch, or None where `datetime` raises ValueError (or the time does not fit).
pub fn wall_ns(c: &Civil) -> Option<i64> {
    let dim = [
        31,
        if leap(c.year) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=9999).contains(&c.year)
        || !(1..=12).contains(&c.month)
        || c.day < 1
        || c.day > dim[c.month as usize - 1]
        || c.hh > 23
        || c.mm > 59
        || c.ss > 59
    {
        return None;
    }
    let secs = days_from_civil(c.year, c.month, c.day) * 86_400 + c.hh * 3600 + c.mm * 60 + c.ss
        - c.offset_min * 60;
    secs.checked_mul(1_000_000_000)?
        .checked_add(c.frac.map_or(0, frac_ns))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(year: i64, month: i64, day: i64, offset_min: i64) -> Option<i64> {
        wall_ns(&Civil {
            year,
            month,
            day,
            hh: 15,
            mm: 52,
            ss: 54,
            frac: None,
            offset_min,
        })
    }

    #[test]
    fn epoch_seconds_like_datetime() {
        assert_eq!(at(2020, 4, 2, 0), Some(1_585_842_774_000_000_000));
        assert_eq!(at(2020, 4, 2, 120), Some(1_585_835_574_000_000_000));
        assert_eq!(
            at(2000, 2, 29, 0).map(|n| n / 1_000_000_000),
            Some(951_839_574)
        );
        assert_eq!(at(2001, 2, 29, 0), None);
        assert_eq!(at(0, 1, 1, 0), None);
        assert_eq!(at(9999, 1, 1, 0), None, "past 2262: no i64 of ns");
        assert_eq!(frac_ns("25"), 250_000_000);
    }
}
