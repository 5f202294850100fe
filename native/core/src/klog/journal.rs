//! `journalctl -o json` lines (prefix.py `_json_record`): the message and the times of a record, and `str()` of
//! a message that is not a string, as Python writes it.

use std::borrow::Cow;
use std::fmt::Write;

use super::json::{loads, Json};
use super::prefix::Prefixed;
use crate::text::is_printable;
use crate::text::pystr::py_int;

/// The record's message and its monotonic and wall times, when `s` is a JSON object with a MESSAGE.
pub fn record(s: &str) -> Option<Prefixed<'static>> {
    let rec = loads(s)?;
    if !matches!(rec, Json::Obj(_)) {
        return None;
    }
    let msg = match rec.get("MESSAGE")? {
        // journald stores non-UTF-8 messages as byte arrays: the bytes that are bytes, decoded
        Json::List(items) => {
            let bytes: Vec<u8> = items
                .iter()
                .filter_map(|b| match b {
                    Json::Bool(v) => Some(*v as u8),
                    Json::Int(lit) => lit
                        .parse::<i64>()
                        .ok()
                        .filter(|n| (0..256).contains(n))
                        .map(|n| n as u8),
                    _ => None,
                })
                .collect();
            String::from_utf8_lossy(&bytes).into_owned()
        }
        other => py_str(other),
    };
    let either = |a: &str, b: &str| match rec.get(a) {
        Some(v) if v.truthy() => Some(v),
        _ => rec.get(b),
    };
    let mono = either("_SOURCE_MONOTONIC_TIMESTAMP", "__MONOTONIC_TIMESTAMP");
    let wall = either("_SOURCE_REALTIME_TIMESTAMP", "__REALTIME_TIMESTAMP");
    // `int(x) * 1000` for both in one try: either failing leaves both unknown; a number past the trace's range
    // (journald writes u64 µs, the trace holds i64 ns) or not finite flags the line, kept as text
    let (m, w) = (micros_ns(mono), micros_ns(wall));
    let overflow = m == Err(Unreadable::TooLarge) || w == Err(Unreadable::TooLarge);
    let (mono_ns, wall_ns) = match (m, w) {
        (Ok(m), Ok(w)) => (m, w),
        _ => (None, None),
    };
    let is_kernel = |key: &str| match rec.get(key) {
        None | Some(Json::Null) => true,
        Some(Json::Str(s)) => s == "kernel",
        _ => false,
    };
    let kernel = is_kernel("_TRANSPORT") && is_kernel("SYSLOG_IDENTIFIER");
    Some(Prefixed {
        text: Cow::Owned(msg),
        mono_ns,
        wall_ns,
        kernel,
        yearless: false,
        overflow,
    })
}

/// Why a journal time was not read: not a number `int()` takes, or a number no kernel clock reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unreadable {
    NoNumber,
    TooLarge,
}

/// `int(v) * 1000 if v is not None else None`; Err where `int()` raises (`NoNumber`), or where the value does
/// not fit an i64 of ns or is not finite (`Infinity`, `NaN`: `TooLarge`).
fn micros_ns(v: Option<&Json>) -> Result<Option<i64>, Unreadable> {
    let big = Unreadable::TooLarge;
    let us = match v {
        None | Some(Json::Null) => return Ok(None),
        Some(Json::Bool(b)) => *b as i64,
        // a JSON integer literal is digits with an optional sign: one that does not parse is too large
        Some(Json::Int(lit)) => lit.parse::<i64>().map_err(|_| big)?,
        Some(Json::Float(x)) if x.is_finite() && x.trunc().abs() < 9.2e18 => x.trunc() as i64,
        Some(Json::Float(_)) => return Err(big),
        Some(Json::Str(s)) => match py_int(s) {
            Some(v) => v,
            None if is_integer_text(s) => return Err(big),
            None => return Err(Unreadable::NoNumber),
        },
        Some(_) => return Err(Unreadable::NoNumber),
    };
    us.checked_mul(1000).map(Some).ok_or(big)
}

/// What `int()` would read as an integer, whatever its size: blanks, a sign, ASCII digits (underscores
/// between them), blanks.
fn is_integer_text(s: &str) -> bool {
    let t = s.trim();
    let t = t.strip_prefix(['+', '-']).unwrap_or(t);
    !t.is_empty()
        && t.bytes().all(|b| b.is_ascii_digit() || b == b'_')
        && !t.starts_with('_')
        && !t.ends_with('_')
}

/// `str(v)`.
pub fn py_str(v: &Json) -> String {
    match v {
        Json::Str(s) => s.clone(),
        other => {
            let mut out = String::new();
            repr(other, &mut out);
            out
        }
    }
}

/// `repr(v)`, lists and dicts as Python prints them.
fn repr(v: &Json, out: &mut String) {
    match v {
        Json::Null => out.push_str("None"),
        Json::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
        Json::Int(lit) => out.push_str(if lit == "-0" { "0" } else { lit }),
        Json::Float(x) => out.push_str(&float_repr(*x)),
        Json::Str(s) => str_repr(s, out),
        Json::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                repr(item, out);
            }
            out.push(']');
        }
        Json::Obj(items) => {
            out.push('{');
            for (i, (k, item)) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                str_repr(k, out);
                out.push_str(": ");
                repr(item, out);
            }
            out.push('}');
        }
    }
}

/// `repr(s)` as CPython's `unicode_repr` writes it.
fn str_repr(s: &str, out: &mut String) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_ascii() || is_printable(c) => out.push(c),
            c if (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push(quote);
}

/// `repr(x)` of a float: the shortest digits that read back, in exponent form below 1e-4 and from 1e16.
pub fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let decpt = exp.parse::<i32>().unwrap_or(0) + 1;
    let n = digits.len() as i32;
    let sign = if x.is_sign_negative() { "-" } else { "" };
    let body = if decpt <= -4 || decpt > 16 {
        let rest = &digits[1..];
        let e = decpt - 1;
        let dot = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        format!(
            "{}{dot}e{}{:02}",
            &digits[..1],
            if e < 0 { '-' } else { '+' },
            e.abs()
        )
    } else if decpt <= 0 {
        format!("0.{}{digits}", "0".repeat(-decpt as usize))
    } else if decpt >= n {
        format!("{digits}{}.0", "0".repeat((decpt - n) as usize))
    } else {
        format!(
            "{}.{}",
            &digits[..decpt as usize],
            &digits[decpt as usize..]
        )
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_as_python_prints_them() {
        for (x, s) in [
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1.5e-5, "1.5e-05"),
            (0.0001, "0.0001"),
            (123.0, "123.0"),
            (-0.0, "-0.0"),
            (1e300, "1e+300"),
            (2.5e-300, "2.5e-300"),
            (0.5, "0.5"),
            (1234.5678, "1234.5678"),
        ] {
            assert_eq!(float_repr(x), s);
        }
    }

    #[test]
    fn str_of_other_messages() {
        let v =
            loads(r#"{"a": [1, "x'y", null, true, 1.0, {"b": "\u001b\u00e9\u0085"}]}"#).unwrap();
        assert_eq!(
            py_str(&v),
            r#"{'a': [1, "x'y", None, True, 1.0, {'b': '\x1bé\x85'}]}"#
        );
    }

    #[test]
    fn records() {
        let p = record(
            r#"{"MESSAGE": "x", "_TRANSPORT": "kernel", "__MONOTONIC_TIMESTAMP": "493791708"}"#,
        )
        .unwrap();
        assert_eq!(
            (p.text.as_ref(), p.mono_ns, p.kernel),
            ("x", Some(493_791_708_000), true)
        );
        let p = record(
            r#"{"MESSAGE": [104, 105, true, 300, 1.0], "__MONOTONIC_TIMESTAMP": [], "x": 1}"#,
        )
        .unwrap();
        assert_eq!((p.text.as_ref(), p.mono_ns), ("hi\u{1}", None));
        let p =
            record(r#"{"MESSAGE": 5, "SYSLOG_IDENTIFIER": "dockerd", "__REALTIME_TIMESTAMP": 0}"#)
                .unwrap();
        assert_eq!(
            (p.text.as_ref(), p.wall_ns, p.kernel),
            ("5", Some(0), false)
        );
        assert!(record(r#"["MESSAGE"]"#).is_none() && record(r#"{"MSG": 1}"#).is_none());
    }

    #[test]
    fn times_past_the_trace_flag_the_line() {
        for mono in [
            "12345678901234567890123456",
            "\"12345678901234567890123456\"",
            "Infinity",
            "-Infinity",
            "NaN",
            "1e300",
            "9223372036854776",
        ] {
            let p = record(&format!(
                r#"{{"MESSAGE": "x", "__MONOTONIC_TIMESTAMP": {mono}}}"#
            ))
            .unwrap();
            assert_eq!((p.mono_ns, p.overflow), (None, true), "{mono}");
        }
        // not a number at all: unknown, as `int()` fails, but no overflow
        let p = record(r#"{"MESSAGE": "x", "__MONOTONIC_TIMESTAMP": "soon"}"#).unwrap();
        assert_eq!((p.mono_ns, p.overflow), (None, false));
        let p = record(r#"{"MESSAGE": "x", "__MONOTONIC_TIMESTAMP": 9223372036854775}"#).unwrap();
        assert_eq!(
            (p.mono_ns, p.overflow),
            (Some(9_223_372_036_854_775_000), false)
        );
    }
}
