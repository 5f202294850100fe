//! msgpack, as the Python `msgpack` package writes it with `use_bin_type=True` (the smallest encoding of each
//! integer, unsigned types for non-negative ones, `str` for text and `bin` for bytes), and a bounded reader.
//!
//! The reader trusts no length: every declared string, array or map length is checked against the bytes left
//! before anything is allocated, nesting is capped, and extension types are refused, so a hostile payload fails
//! with an error naming its place instead of exhausting memory or the stack.

use crate::model::value::Value;

mod read;

pub use read::{unpack, Malformed, Parsed, Reader};

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

pub fn packed(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    pack(v, &mut out);
    out
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
