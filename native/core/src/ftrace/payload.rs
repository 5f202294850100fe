//! Event payloads: the `TP_printk` text of each tracepoint (recording.md §3, kernel-formats.md §5), read as
//! Python's `ftrace_payload` reads them.
//!
//! Most payloads are `key=value` pairs, but not all: 6.x `mark_victim` mixes in `key:value` (`file-rss:…kB`),
//! `%-8s` pads values (`zone=Normal   order=0`), a NULL pointer prints as `page= (null)`. Unknown pairs are kept:
//! a vendor kernel adds fields and a converter should not choke on them. Pairs are spans into the payload, in a
//! buffer reused from line to line: reading an `rss_stat` payload allocates nothing.

use super::chars::{digits, non_spaces, space, spaces, strip, words, DASH};
use crate::model::Value;

/// A payload's `key=value` / `key:value` pairs; a repeated key's last value wins (Python builds a dict).
#[derive(Default)]
pub struct Pairs {
    spans: Vec<[u32; 4]>,
}

impl Pairs {
    /// Read `payload`'s pairs (forgetting the previous payload's).
    ///
    /// Plain `key=value` words (every line of most recordings) are split on whitespace; anything else
    /// (`key:value`, `key= (null)`, a word that is no pair) takes the general scan, Python's `_PAIR.findall`.
    pub fn read(&mut self, payload: &str) {
        self.spans.clear();
        let at = |sub: &str| (sub.as_ptr() as usize - payload.as_ptr() as usize) as u32;
        if memchr::memchr2(b':', b'(', payload.as_bytes()).is_none() && self.plain(payload) {
            return;
        }
        self.spans.clear();
        let s = payload.as_bytes();
        let mut p = 0;
        while p < s.len() {
            match pair_at(s, p) {
                Some((key_end, value, end)) => {
                    let v = strip(&payload[value.0..value.1]);
                    let v0 = at(v);
                    self.spans
                        .push([p as u32, key_end as u32, v0, v0 + v.len() as u32]);
                    p = end;
                }
                None => p += 1,
            }
        }
    }

    /// Every word a `key=value` with a field name for its key (Python splits on whitespace and partitions each
    /// word at its first `=`): the pairs read in one pass; false as soon as a word is not one.
    fn plain(&mut self, payload: &str) -> bool {
        let s = payload.as_bytes();
        let mut i = spaces(s, 0);
        while i < s.len() {
            if !matches!(s[i], b'A'..=b'Z' | b'a'..=b'z' | b'_') {
                return false;
            }
            let key_end = words(s, i + 1, DASH);
            if s.get(key_end) != Some(&b'=') {
                return false;
            }
            let end = non_spaces(s, key_end + 1);
            self.spans
                .push([i as u32, key_end as u32, key_end as u32 + 1, end as u32]);
            i = spaces(s, end);
        }
        true
    }

    /// The value of `key` in the payload last read.
    #[inline]
    pub fn get<'p>(&self, payload: &'p str, key: &str) -> Option<&'p str> {
        self.spans
            .iter()
            .rev()
            .find(|sp| &payload.as_bytes()[sp[0] as usize..sp[1] as usize] == key.as_bytes())
            .map(|sp| &payload[sp[2] as usize..sp[3] as usize])
    }
}

/// `([A-Za-z_][\w-]*)(?:=|:(?=\S))( ?\([^)]*\)|\S*)` at `p`: the key's end, the value's span, the match's end.
fn pair_at(s: &[u8], p: usize) -> Option<(usize, (usize, usize), usize)> {
    if !matches!(s[p], b'A'..=b'Z' | b'a'..=b'z' | b'_') {
        return None;
    }
    let key_end = words(s, p + 1, DASH);
    let v = match s.get(key_end) {
        Some(b'=') => key_end + 1,
        Some(b':') if key_end + 1 < s.len() && space(s, key_end + 1).is_none() => key_end + 1,
        _ => return None,
    };
    let open = if s.get(v) == Some(&b' ') && s.get(v + 1) == Some(&b'(') {
        v + 1
    } else {
        v
    };
    if s.get(open) == Some(&b'(') {
        if let Some(close) = memchr::memchr(b')', &s[open + 1..]) {
            let end = open + 1 + close + 1;
            return Some((key_end, (v, end), end));
        }
    }
    let end = super::chars::non_spaces(s, v);
    Some((key_end, (v, end), end))
}

/// An integer field as Python's `number()` reads it: `(-?\d+)(?:kB|B)?`, the unit dropped.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Num {
    /// Absent, or not a number (Python's None).
    None,
    Int(i128),
    /// A number beyond a u64: Python reads it, this converter keeps its line as text.
    Huge,
}

pub fn number(value: Option<&str>) -> Num {
    let Some(v) = value else { return Num::None };
    let s = v.as_bytes();
    let neg = s.first() == Some(&b'-');
    let d = digits(s, neg as usize);
    if d.count == 0 || !matches!(&s[d.end..], b"" | b"kB" | b"B") {
        return Num::None;
    }
    match d.value {
        Some(x) => Num::Int(if neg { -(x as i128) } else { x as i128 }),
        None => Num::Huge,
    }
}

/// A number too large for the event model (beyond a u64, or below an i64): its line is kept as text.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TooLarge;

impl Num {
    pub fn is_none(self) -> bool {
        self == Num::None
    }

    /// The field's value: Nil when absent, an Int when it fits an i64, a UInt when it fits a u64.
    pub fn value(self) -> Result<Value, TooLarge> {
        match self {
            Num::None => Ok(Value::Nil),
            Num::Int(x) => int_value(x),
            Num::Huge => Err(TooLarge),
        }
    }

    /// A pid or a count that the converter keys by: None when absent, an error beyond an i32.
    pub fn pid(self) -> Result<Option<i64>, TooLarge> {
        match self {
            Num::None => Ok(None),
            Num::Int(x) if i32::try_from(x).is_ok() => Ok(Some(x as i64)),
            _ => Err(TooLarge),
        }
    }
}

/// An integer the converter computed (kB from bytes or pages) as a field value.
pub fn int_value(x: i128) -> Result<Value, TooLarge> {
    if let Ok(i) = i64::try_from(x) {
        Ok(Value::Int(i))
    } else if let Ok(u) = u64::try_from(x) {
        Ok(Value::UInt(u))
    } else {
        Err(TooLarge)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(payload: &str) -> Vec<(&str, &str)> {
        let mut p = Pairs::default();
        p.read(payload);
        let mut keys: Vec<&str> = p
            .spans
            .iter()
            .map(|sp| &payload[sp[0] as usize..sp[1] as usize])
            .collect();
        keys.dedup();
        keys.into_iter()
            .map(|k| (k, p.get(payload, k).unwrap()))
            .collect()
    }

    #[test]
    fn plain_pairs() {
        assert_eq!(
            pairs("mm_id=1766604649 curr=0 type=MM_ANONPAGES size=16384B"),
            [
                ("mm_id", "1766604649"),
                ("curr", "0"),
                ("type", "MM_ANONPAGES"),
                ("size", "16384B")
            ]
        );
        assert_eq!(pairs("a=b=c"), [("a", "b=c")]);
        assert_eq!(pairs("a=1 a=2"), [("a", "2")]); // the last value wins
    }

    #[test]
    fn mixed_pairs_padding_and_null() {
        let p = "pid=42 comm=grow total-vm=10kB file-rss:1kB shmem-rss:0kB uid=0";
        assert_eq!(pairs(p)[3], ("file-rss", "1kB"));
        assert_eq!(
            pairs("node=0 zone=Normal   order=0"),
            [("node", "0"), ("zone", "Normal"), ("order", "0")]
        );
        assert_eq!(
            pairs("page= (null) pfn=0"),
            [("page", "(null)"), ("pfn", "0")]
        );
        assert_eq!(pairs("x-y.z=1 foo bar: k:v"), [("z", "1"), ("k", "v")]); // keys found mid-word, as findall does
    }

    #[test]
    fn numbers() {
        assert_eq!(number(Some("16384B")), Num::Int(16384));
        assert_eq!(number(Some("-4kB")), Num::Int(-4));
        assert_eq!(number(Some("٤٢")), Num::Int(42));
        assert_eq!(number(Some("kB")), Num::None);
        assert_eq!(number(Some("1.5")), Num::None);
        assert_eq!(number(None), Num::None);
        assert_eq!(number(Some(&"9".repeat(21))), Num::Huge);
        assert_eq!(Num::Int(1 << 63).value(), Ok(Value::UInt(1 << 63)));
        assert_eq!(Num::Int(1 << 64).value(), Err(TooLarge));
        assert_eq!(Num::Int(1 << 31).pid(), Err(TooLarge));
    }
}
