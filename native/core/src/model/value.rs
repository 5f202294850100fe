//! A field value: what msgpack can hold and a converter can say (ints, strings, lists of either, nothing).
//!
//! Events and state records are positional arrays of these, exactly as the store writes them, so a record goes
//! from a page to a Python tuple, and back, without a per-field schema of types.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

pub type Str = Arc<str>;

#[derive(Clone, Debug, Default)]
pub enum Value {
    #[default]
    Nil,
    Bool(bool),
    Int(i64),
    /// An integer above `i64::MAX` (a `u64` as msgpack stores it): kept, never wrapped.
    UInt(u64),
    Float(f64),
    Str(Str),
    Bin(Arc<[u8]>),
    List(Arc<[Value]>),
    Map(Arc<[(Value, Value)]>),
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Arc::from(items))
    }

    #[inline]
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// The integer, if this is one that fits an i64 (bools are not integers here).
    #[inline]
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    #[inline]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// Python's truthiness, which the model's rules were written in (`if not name`, `a or b`).
    pub fn truthy(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::UInt(u) => *u != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Bin(b) => !b.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
        }
    }

    /// `a or b` as Python says it.
    pub fn or<'a>(&'a self, other: &'a Value) -> &'a Value {
        if self.truthy() {
            self
        } else {
            other
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Value::Nil => 0,
            Value::Bool(_) | Value::Int(_) | Value::UInt(_) | Value::Float(_) => 1,
            Value::Str(_) => 2,
            Value::Bin(_) => 3,
            Value::List(_) => 4,
            Value::Map(_) => 5,
        }
    }

    fn number(&self) -> Option<f64> {
        match self {
            Value::Bool(b) => Some(*b as i64 as f64),
            Value::Int(i) => Some(*i as f64),
            Value::UInt(u) => Some(*u as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    fn exact_int(&self) -> Option<i128> {
        match self {
            Value::Bool(b) => Some(*b as i128),
            Value::Int(i) => Some(*i as i128),
            Value::UInt(u) => Some(*u as i128),
            _ => None,
        }
    }
}

/// Equality as Python's `==` on the values the store round-trips: `1 == True == 1.0`, lists element-wise.
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil) => true,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Bin(a), Value::Bin(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Map(a), Value::Map(b)) => a == b,
            _ => match (self.exact_int(), other.exact_int()) {
                (Some(a), Some(b)) => a == b,
                _ => match (self.number(), other.number()) {
                    (Some(a), Some(b)) => a == b,
                    _ => false,
                },
            },
        }
    }
}

/// A total order for sorting keys and rows the way the Python model sorted them (numbers by value, strings by
/// code point, which UTF-8 byte order preserves); values of different kinds order by kind.
impl Ord for Value {
    fn cmp(&self, other: &Value) -> Ordering {
        match (self, other) {
            (Value::Str(a), Value::Str(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Value::Bin(a), Value::Bin(b)) => a.cmp(b),
            (Value::List(a), Value::List(b)) => a.iter().cmp(b.iter()),
            (Value::Map(a), Value::Map(b)) => a.iter().cmp(b.iter()),
            _ => match (self.exact_int(), other.exact_int()) {
                (Some(a), Some(b)) => a.cmp(&b),
                _ => match (self.number(), other.number()) {
                    (Some(a), Some(b)) => a.total_cmp(&b),
                    _ => self.rank().cmp(&other.rank()),
                },
            },
        }
    }
}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Value) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Eq for Value {}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<Option<i64>> for Value {
    fn from(i: Option<i64>) -> Value {
        i.map_or(Value::Nil, Value::Int)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::str(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

/// Python's `str()` of the value, for messages (anomalies quote names and numbers as the Python model did).
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => f.write_str("None"),
            Value::Bool(b) => f.write_str(if *b { "True" } else { "False" }),
            Value::Int(i) => write!(f, "{i}"),
            Value::UInt(u) => write!(f, "{u}"),
            Value::Float(x) => write!(f, "{}", py_float(*x)),
            Value::Str(s) => f.write_str(s),
            Value::Bin(b) => write!(f, "b{}", py_repr_bytes(b)),
            Value::List(l) => {
                f.write_str("(")?;
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(&v.repr())?;
                }
                f.write_str(if l.len() == 1 { ",)" } else { ")" })
            }
            Value::Map(m) => {
                f.write_str("{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}: {}", k.repr(), v.repr())?;
                }
                f.write_str("}")
            }
        }
    }
}

impl Value {
    /// Python's `repr()`: what `{x!r}` in the model's messages printed.
    pub fn repr(&self) -> String {
        match self {
            Value::Str(s) => py_repr_str(s),
            other => other.to_string(),
        }
    }
}

fn py_float(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        if x > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        }
    } else if x == x.trunc() && x.abs() < 1e16 {
        format!("{x:.1}")
    } else {
        format!("{x}")
    }
}

fn py_repr_bytes(b: &[u8]) -> String {
    let mut out = String::from("'");
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\'' => out.push_str("\\'"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(c as char),
            _ => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push('\'');
    out
}

/// `repr(s)` as CPython writes it: single quotes unless the text holds one and no double quote, and escapes
/// for backslashes, the quote, and characters that are not printable.
pub fn py_repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_printable(c) => out.push(c),
            c => {
                let n = c as u32;
                if n < 0x100 {
                    out.push_str(&format!("\\x{n:02x}"));
                } else if n < 0x10000 {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
        }
    }
    out.push(quote);
    out
}

/// Close to `str.isprintable` for one character: controls, separators other than space, and the unassigned
/// surrogate and private ranges are not.
fn is_printable(c: char) -> bool {
    let n = c as u32;
    !(n < 0x20
        || (0x7f..0xa0).contains(&n)
        || n == 0xad
        || (0x2028..=0x2029).contains(&n)
        || (0x200b..=0x200f).contains(&n)
        || (0x202a..=0x202e).contains(&n)
        || (0x2060..=0x206f).contains(&n)
        || n == 0xfeff
        || (0xe000..=0xf8ff).contains(&n)
        || (0xfff9..=0xfffb).contains(&n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_equality_and_order() {
        assert_eq!(Value::Int(1), Value::Bool(true));
        assert_eq!(Value::Int(2), Value::Float(2.0));
        assert_ne!(Value::Int(1), Value::str("1"));
        assert!(Value::str("a") < Value::str("b"));
        assert!(Value::Int(-3) < Value::Int(2));
        assert!(Value::Int(i64::MAX) < Value::UInt(u64::MAX));
    }

    #[test]
    fn repr_like_python() {
        assert_eq!(py_repr_str("Normal"), "'Normal'");
        assert_eq!(py_repr_str("it's"), "\"it's\"");
        assert_eq!(py_repr_str("a\x1bb"), "'a\\x1bb'");
        assert_eq!(
            Value::list(vec![Value::Int(0), Value::str("DMA")]).to_string(),
            "(0, 'DMA')"
        );
        assert_eq!(Value::list(vec![Value::Int(0)]).to_string(), "(0,)");
        assert_eq!(Value::Nil.repr(), "None");
    }
}
