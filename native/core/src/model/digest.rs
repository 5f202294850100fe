//! A 64-bit fingerprint of a state's tables, for the explorer's set of visited states.
//!
//! Each table keeps (when made with `Table::hashed`) the wrapping sum of one hash per entry, updated on every
//! `set` and `delete`: a state's fingerprint then costs nine additions, however many records it holds, and two
//! states holding the same records have the same fingerprint whatever order they were written in. The hash
//! agrees with `Value`'s `==` (`1 == True == 1.0`), so equal records always hash alike. As in TLC, two different
//! states may share a fingerprint (at 10^6 states the chance is about 3 in 10^8); the explorer says so.

use super::table::Key;
use super::value::Value;

const K: u64 = 0x9E37_79B9_7F4A_7C15;

/// A small streaming hash: multiply-xorshift per word, then the splitmix64 finaliser.
pub struct Fp(u64);

impl Default for Fp {
    fn default() -> Fp {
        Fp::new(0)
    }
}

impl Fp {
    pub fn new(seed: u64) -> Fp {
        Fp(seed ^ K)
    }

    #[inline]
    pub fn word(&mut self, w: u64) {
        let h = (self.0 ^ w).wrapping_mul(K);
        self.0 = h ^ (h >> 29);
    }

    pub fn bytes(&mut self, b: &[u8]) {
        self.word(b.len() as u64);
        let mut chunks = b.chunks_exact(8);
        for c in &mut chunks {
            self.word(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.word(u64::from_le_bytes(last));
        }
    }

    pub fn value(&mut self, v: &Value) {
        match v {
            Value::Nil => self.word(0),
            Value::Bool(b) => self.int(*b as i128),
            Value::Int(i) => self.int(*i as i128),
            Value::UInt(u) => self.int(*u as i128),
            Value::Float(f) => {
                // a float equal to an integer is that integer (`1.0 == 1`)
                if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e38 {
                    self.int(*f as i128)
                } else {
                    self.word(2);
                    self.word(f.to_bits());
                }
            }
            Value::Str(s) => {
                self.word(3);
                self.bytes(s.as_bytes());
            }
            Value::Bin(b) => {
                self.word(4);
                self.bytes(b);
            }
            Value::List(l) => {
                self.word(5);
                self.word(l.len() as u64);
                for x in l.iter() {
                    self.value(x);
                }
            }
            Value::Map(m) => {
                self.word(6);
                self.word(m.len() as u64);
                for (k, x) in m.iter() {
                    self.value(k);
                    self.value(x);
                }
            }
        }
    }

    fn int(&mut self, i: i128) {
        self.word(1);
        self.word(i as u64);
        self.word((i >> 64) as u64);
    }

    pub fn key(&mut self, k: &Key) {
        match k {
            Key::Int(i) => self.int(*i as i128),
            Key::Str(s) => {
                self.word(3);
                self.bytes(s.as_bytes());
            }
            Key::Zone(n, z) => {
                self.word(7);
                self.int(*n as i128);
                self.bytes(z.as_bytes());
            }
        }
    }

    pub fn finish(&self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// One table entry's share of the table's digest.
pub fn entry(key: &Key, rec: &[Value]) -> u64 {
    let mut h = Fp::default();
    h.key(key);
    h.word(rec.len() as u64);
    for v in rec {
        h.value(v);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_hash_alike() {
        let a = [Value::Int(1), Value::str("x")];
        let b = [Value::Float(1.0), Value::str("x")];
        assert_eq!(a, b);
        assert_eq!(entry(&Key::Int(3), &a), entry(&Key::Int(3), &b));
        assert_ne!(entry(&Key::Int(3), &a), entry(&Key::Int(4), &a));
        assert_ne!(
            entry(&Key::Int(3), &[Value::str("ab")]),
            entry(&Key::Int(3), &[Value::str("ba")])
        );
    }
}
