//! The bounded reader: every declared length checked against the bytes left before anything is allocated,
//! nesting capped at `MAX_DEPTH`, extension types refused.

use std::sync::Arc;

use crate::model::value::{Str, Value};

use super::MAX_DEPTH;

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
