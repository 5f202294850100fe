//! msgpack, as the Python `msgpack` package writes it with `use_bin_type=True` (the smallest encoding of each
//! integer, unsigned types for non-negative ones, `str` for text and `bin` for bytes), and a bounded reader.
//!
//! The reader trusts no length: every declared string, array or map length is checked against the bytes left
//! before anything is allocated, nesting is capped, and extension types are refused, so a hostile payload fails
//! with an error naming its place instead of exhausting memory or the stack.

use std::sync::Arc;

use crate::model::value::{Str, Value};

/// Deeper nesting than any payload of ours; a hostile one is refused long before the stack is at risk.
const MAX_DEPTH: usize = 64;

pub fn pack(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Nil => out.push(0xc0),
        Value::Bool(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Int(i) => pack_int(*i, out),
        Value::UInt(u) => pack_uint(*u, out),
        Value::Float(f) => {
            out.push(0xcb);
            out.extend_from_slice(&f.to_bits().to_be_bytes());
        }
        Value::Str(s) => pack_str(s, out),
        Value::Bin(b) => pack_bin(b, out),
        Value::List(l) => {
            pack_array_len(l.len(), out);
            for x in l.iter() {
                pack(x, out);
            }
        }
        Value::Map(m) => {
            pack_map_len(m.len(), out);
            for (k, x) in m.iter() {
                pack(k, out);
                pack(x, out);
            }
        }
    }
}

pub fn pack_int(i: i64, out: &mut Vec<u8>) {
    if i >= 0 {
        pack_uint(i as u64, out)
    } else if i >= -32 {
        out.push(i as i8 as u8)
    } else if i >= -128 {
        out.push(0xd0);
        out.push(i as i8 as u8);
    } else if i >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(i as i16).to_be_bytes());
    } else if i >= -(1 << 31) {
        out.push(0xd2);
        out.extend_from_slice(&(i as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&i.to_be_bytes());
    }
}

pub fn pack_uint(u: u64, out: &mut Vec<u8>) {
    if u < 128 {
        out.push(u as u8)
    } else if u < 256 {
        out.push(0xcc);
        out.push(u as u8);
    } else if u < 65536 {
        out.push(0xcd);
        out.extend_from_slice(&(u as u16).to_be_bytes());
    } else if u < (1 << 32) {
        out.push(0xce);
        out.extend_from_slice(&(u as u32).to_be_bytes());
    } else {
        out.push(0xcf);
        out.extend_from_slice(&u.to_be_bytes());
    }
}

pub fn pack_opt_int(i: Option<i64>, out: &mut Vec<u8>) {
    match i {
        Some(i) => pack_int(i, out),
        None => out.push(0xc0),
    }
}

pub fn pack_str(s: &str, out: &mut Vec<u8>) {
    let n = s.len();
    if n < 32 {
        out.push(0xa0 | n as u8);
    } else if n < 256 {
        out.push(0xd9);
        out.push(n as u8);
    } else if n < 65536 {
        out.push(0xda);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
    out.extend_from_slice(s.as_bytes());
}

pub fn pack_bin(b: &[u8], out: &mut Vec<u8>) {
    let n = b.len();
    if n < 256 {
        out.push(0xc4);
        out.push(n as u8);
    } else if n < 65536 {
        out.push(0xc5);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0xc6);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
    out.extend_from_slice(b);
}

pub fn pack_array_len(n: usize, out: &mut Vec<u8>) {
    if n < 16 {
        out.push(0x90 | n as u8);
    } else if n < 65536 {
        out.push(0xdc);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0xdd);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

pub fn pack_map_len(n: usize, out: &mut Vec<u8>) {
    if n < 16 {
        out.push(0x80 | n as u8);
    } else if n < 65536 {
        out.push(0xde);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0xdf);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// A msgpack payload cut short or malformed: what and at which byte.
#[derive(Debug, PartialEq)]
pub struct Malformed(pub String);

pub type Parsed<T> = std::result::Result<T, Malformed>;

fn bad<T>(msg: impl Into<String>) -> Parsed<T> {
    Err(Malformed(msg.into()))
}

/// A reader over one payload.
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data, pos: 0 }
    }

    pub fn at_end(&self) -> bool {
        self.pos == self.data.len()
    }

    fn take(&mut self, n: usize) -> Parsed<&'a [u8]> {
        if n > self.data.len() - self.pos {
            return bad(format!(
                "{n} bytes declared at byte {}, {} left",
                self.pos,
                self.data.len() - self.pos
            ));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn byte(&mut self) -> Parsed<u8> {
        Ok(self.take(1)?[0])
    }

    fn be(&mut self, n: usize) -> Parsed<u64> {
        Ok(self.take(n)?.iter().fold(0u64, |a, b| (a << 8) | *b as u64))
    }

    /// A container's element count, refused when more than the bytes left could hold (one byte each at least).
    fn count(&mut self, n: u64, per: usize) -> Parsed<usize> {
        let left = (self.data.len() - self.pos) as u64;
        if n.saturating_mul(per as u64) > left {
            return bad(format!(
                "a container of {n} elements at byte {} with {left} bytes left",
                self.pos
            ));
        }
        Ok(n as usize)
    }

    pub fn value(&mut self) -> Parsed<Value> {
        self.value_at(0)
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    fn peek(&self) -> Parsed<u8> {
        self.data
            .get(self.pos)
            .copied()
            .ok_or_else(|| Malformed(format!("the payload ends at byte {}", self.pos)))
    }

    /// Consume a nil if one comes next.
    pub fn nil(&mut self) -> Parsed<bool> {
        if self.peek()? == 0xc0 {
            self.pos += 1;
            return Ok(true);
        }
        Ok(false)
    }

    /// An array's length (its elements follow), refused when the bytes left could not hold them.
    pub fn array_len(&mut self) -> Parsed<usize> {
        let b = self.byte()?;
        let n = match b {
            0x90..=0x9f => (b & 0xf) as u64,
            0xdc => self.be(2)?,
            0xdd => self.be(4)?,
            _ => return bad(format!("an array expected at byte {}", self.pos - 1)),
        };
        self.count(n, 1)
    }

    pub fn map_len(&mut self) -> Parsed<usize> {
        let b = self.byte()?;
        let n = match b {
            0x80..=0x8f => (b & 0xf) as u64,
            0xde => self.be(2)?,
            0xdf => self.be(4)?,
            _ => return bad(format!("a map expected at byte {}", self.pos - 1)),
        };
        self.count(n, 2)
    }

    /// Whether a map comes next (without consuming it).
    pub fn at_map(&self) -> bool {
        matches!(self.data.get(self.pos), Some(0x80..=0x8f | 0xde | 0xdf))
    }

    pub fn int(&mut self) -> Parsed<i64> {
        let at = self.pos;
        let b = self.byte()?;
        Ok(match b {
            0x00..=0x7f => b as i64,
            0xe0..=0xff => b as i8 as i64,
            0xcc..=0xcf => {
                let u = self.be(1 << (b - 0xcc))?;
                i64::try_from(u)
                    .map_err(|_| Malformed(format!("an integer out of range at byte {at}")))?
            }
            0xd0 => self.be(1)? as u8 as i8 as i64,
            0xd1 => self.be(2)? as u16 as i16 as i64,
            0xd2 => self.be(4)? as u32 as i32 as i64,
            0xd3 => self.be(8)? as i64,
            _ => return bad(format!("an integer expected at byte {at}")),
        })
    }

    pub fn opt_int(&mut self) -> Parsed<Option<i64>> {
        if self.nil()? {
            return Ok(None);
        }
        self.int().map(Some)
    }

    pub fn ints(&mut self) -> Parsed<Vec<i64>> {
        let n = self.array_len()?;
        (0..n).map(|_| self.int()).collect()
    }

    pub fn bin(&mut self) -> Parsed<&'a [u8]> {
        let b = self.byte()?;
        let n = match b {
            0xc4 | 0xc5 | 0xc6 => self.be(1 << (b - 0xc4))? as usize,
            _ => return bad(format!("bytes expected at byte {}", self.pos - 1)),
        };
        self.take(n)
    }

    pub fn str(&mut self) -> Parsed<&'a str> {
        let b = self.byte()?;
        let n = match b {
            0xa0..=0xbf => (b & 0x1f) as usize,
            0xd9 | 0xda | 0xdb => self.be(1 << (b - 0xd9))? as usize,
            _ => return bad(format!("a string expected at byte {}", self.pos - 1)),
        };
        let at = self.pos;
        std::str::from_utf8(self.take(n)?)
            .map_err(|_| Malformed(format!("a string at byte {at} that is not UTF-8")))
    }

    fn value_at(&mut self, depth: usize) -> Parsed<Value> {
        if depth > MAX_DEPTH {
            return bad("nested too deeply");
        }
        let b = self.byte()?;
        Ok(match b {
            0x00..=0x7f => Value::Int(b as i64),
            0x80..=0x8f => self.map(b as u64 & 0xf, depth)?,
            0x90..=0x9f => self.array(b as u64 & 0xf, depth)?,
            0xa0..=0xbf => self.text(b as usize & 0x1f)?,
            0xc0 => Value::Nil,
            0xc2 => Value::Bool(false),
            0xc3 => Value::Bool(true),
            0xc4 | 0xc5 | 0xc6 => {
                let n = self.be(1 << (b - 0xc4))? as usize;
                Value::Bin(Arc::from(self.take(n)?))
            }
            0xca => Value::Float(f32::from_bits(self.be(4)? as u32) as f64),
            0xcb => Value::Float(f64::from_bits(self.be(8)?)),
            0xcc..=0xcf => {
                let u = self.be(1 << (b - 0xcc))?;
                if u <= i64::MAX as u64 {
                    Value::Int(u as i64)
                } else {
                    Value::UInt(u)
                }
            }
            0xd0 => Value::Int(self.be(1)? as u8 as i8 as i64),
            0xd1 => Value::Int(self.be(2)? as u16 as i16 as i64),
            0xd2 => Value::Int(self.be(4)? as u32 as i32 as i64),
            0xd3 => Value::Int(self.be(8)? as i64),
            0xd9 | 0xda | 0xdb => {
                let n = self.be(1 << (b - 0xd9))? as usize;
                self.text(n)?
            }
            0xdc | 0xdd => {
                let n = self.be(2 << (b - 0xdc))?;
                self.array(n, depth)?
            }
            0xde | 0xdf => {
                let n = self.be(2 << (b - 0xde))?;
                self.map(n, depth)?
            }
            0xe0..=0xff => Value::Int(b as i8 as i64),
            _ => {
                return bad(format!(
                    "byte {b:#04x} at {} (an extension type or unused)",
                    self.pos - 1
                ))
            }
        })
    }

    fn text(&mut self, n: usize) -> Parsed<Value> {
        let at = self.pos;
        let raw = self.take(n)?;
        match std::str::from_utf8(raw) {
            Ok(s) => Ok(Value::Str(Str::from(s))),
            Err(_) => bad(format!("a string at byte {at} that is not UTF-8")),
        }
    }

    fn array(&mut self, n: u64, depth: usize) -> Parsed<Value> {
        let n = self.count(n, 1)?;
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            items.push(self.value_at(depth + 1)?);
        }
        Ok(Value::List(Arc::from(items)))
    }

    fn map(&mut self, n: u64, depth: usize) -> Parsed<Value> {
        let n = self.count(n, 2)?;
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            let k = self.value_at(depth + 1)?;
            let v = self.value_at(depth + 1)?;
            items.push((k, v));
        }
        Ok(Value::Map(Arc::from(items)))
    }
}

/// One whole payload: a single value and nothing after it.
pub fn unpack(data: &[u8]) -> Parsed<Value> {
    let mut r = Reader::new(data);
    let v = r.value()?;
    if !r.at_end() {
        return bad(format!("{} bytes after the value", data.len() - r.pos));
    }
    Ok(v)
}

pub fn packed(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    pack(v, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn integers_as_python_msgpack_writes_them() {
        let cases: &[(i64, &[u8])] = &[
            (0, &[0x00]),
            (127, &[0x7f]),
            (128, &[0xcc, 0x80]),
            (255, &[0xcc, 0xff]),
            (256, &[0xcd, 1, 0]),
            (-1, &[0xff]),
            (-32, &[0xe0]),
            (-33, &[0xd0, 0xdf]),
            (-129, &[0xd1, 0xff, 0x7f]),
            (1 << 32, &[0xcf, 0, 0, 0, 1, 0, 0, 0, 0]),
        ];
        for (i, bytes) in cases {
            assert_eq!(packed(&Value::Int(*i)), *bytes, "{i}");
            assert_eq!(unpack(bytes).unwrap(), Value::Int(*i));
        }
    }

    #[test]
    fn lying_lengths_are_refused() {
        assert!(unpack(&[0xdd, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(unpack(&[0xdb, 0, 0, 0, 9, b'a']).is_err());
        assert!(unpack(&[0xc7, 1, 1, 0]).is_err());
        let deep = vec![0x91u8; 1000];
        assert!(unpack(&deep).is_err());
        assert!(unpack(&[0x01, 0x02]).is_err());
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Nil),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::Int),
            (i64::MAX as u64 + 1..=u64::MAX).prop_map(Value::UInt),
            ".{0,40}".prop_map(|s| Value::str(&s)),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(|b| Value::Bin(Arc::from(b))),
        ];
        leaf.prop_recursive(4, 64, 20, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..20).prop_map(Value::list),
                proptest::collection::vec((inner.clone(), inner), 0..20)
                    .prop_map(|m| Value::Map(Arc::from(m))),
            ]
        })
    }

    proptest! {
        #[test]
        fn round_trip(v in value()) {
            prop_assert_eq!(unpack(&packed(&v)).unwrap(), v);
        }

        #[test]
        fn any_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = unpack(&data);
        }
    }
}
