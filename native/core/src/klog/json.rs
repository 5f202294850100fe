//! `json.loads` as CPython 3.11's C scanner reads a line of `journalctl -o json`: NaN and Infinity accepted,
//! control characters in strings refused, a repeated key keeping its first place and its last value, integers
//! kept as their digits (Python's have no bound).
//!
//! Two things Python does that cannot be done here, both where the Python converter then fails with a traceback
//! (see `mod.rs`): a lone surrogate (`"\ud800"`) becomes U+FFFD, and nesting deeper than `MAX_DEPTH` is no JSON
//! (Python raises RecursionError near 1000 levels).

/// A JSON value.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// an integer, as its literal (normalised by `int()` only when read)
    Int(String),
    Float(f64),
    Str(String),
    List(Vec<Json>),
    /// keys in the order first seen, each with its last value (a Python dict)
    Obj(Vec<(String, Json)>),
}

/// Deeper nesting than this is refused (Python's recursion limit, 1000, less the converter's own frames).
pub const MAX_DEPTH: usize = 990;

impl Json {
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(items) => items.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Python's truthiness.
    pub fn truthy(&self) -> bool {
        match self {
            Json::Null => false,
            Json::Bool(b) => *b,
            Json::Int(lit) => lit.bytes().any(|c| c.is_ascii_digit() && c != b'0'),
            Json::Float(x) => *x != 0.0,
            Json::Str(s) => !s.is_empty(),
            Json::List(l) => !l.is_empty(),
            Json::Obj(o) => !o.is_empty(),
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

/// `json.loads(s)`; None where Python raises ValueError.
pub fn loads(s: &str) -> Option<Json> {
    let mut p = Parser {
        s: s.as_bytes(),
        i: 0,
    };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    (p.i == p.s.len()).then_some(v)
}

impl Parser<'_> {
    fn ws(&mut self) {
        while matches!(self.s.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, lit: &[u8]) -> bool {
        let ok = self.s[self.i..].starts_with(lit);
        if ok {
            self.i += lit.len();
        }
        ok
    }

    fn value(&mut self, depth: usize) -> Option<Json> {
        if depth >= MAX_DEPTH {
            return None;
        }
        match *self.s.get(self.i)? {
            b'"' => self.string().map(Json::Str),
            b'{' => self.object(depth),
            b'[' => self.array(depth),
            b'n' if self.eat(b"null") => Some(Json::Null),
            b't' if self.eat(b"true") => Some(Json::Bool(true)),
            b'f' if self.eat(b"false") => Some(Json::Bool(false)),
            b'N' if self.eat(b"NaN") => Some(Json::Float(f64::NAN)),
            b'I' if self.eat(b"Infinity") => Some(Json::Float(f64::INFINITY)),
            b'-' if self.eat(b"-Infinity") => Some(Json::Float(f64::NEG_INFINITY)),
            _ => self.number(),
        }
    }

    fn object(&mut self, depth: usize) -> Option<Json> {
        self.i += 1;
        self.ws();
        let mut items: Vec<(String, Json)> = Vec::new();
        if self.eat(b"}") {
            return Some(Json::Obj(items));
        }
        loop {
            if self.s.get(self.i) != Some(&b'"') {
                return None;
            }
            let key = self.string()?;
            self.ws();
            if !self.eat(b":") {
                return None;
            }
            self.ws();
            let v = self.value(depth + 1)?;
            match items.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = v,
                None => items.push((key, v)),
            }
            self.ws();
            if self.eat(b"}") {
                return Some(Json::Obj(items));
            }
            if !self.eat(b",") {
                return None;
            }
            self.ws();
        }
    }

    fn array(&mut self, depth: usize) -> Option<Json> {
        self.i += 1;
        self.ws();
        let mut items = Vec::new();
        if self.eat(b"]") {
            return Some(Json::List(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.ws();
            if self.eat(b"]") {
                return Some(Json::List(items));
            }
            if !self.eat(b",") {
                return None;
            }
            self.ws();
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        self.i - start
    }

    /// `-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?`; a fraction or exponent without digits is left unread.
    fn number(&mut self) -> Option<Json> {
        let start = self.i;
        self.eat(b"-");
        match self.s.get(self.i) {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return None,
        }
        let mut float = false;
        if self.s.get(self.i) == Some(&b'.')
            && self.s.get(self.i + 1).is_some_and(u8::is_ascii_digit)
        {
            self.i += 1;
            self.digits();
            float = true;
        }
        if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
            let e = self.i;
            self.i += 1;
            if matches!(self.s.get(self.i), Some(b'-' | b'+')) {
                self.i += 1;
            }
            if self.digits() > 0 {
                float = true;
            } else {
                self.i = e;
            }
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).ok()?;
        Some(if float {
            Json::Float(text.parse().ok()?)
        } else {
            Json::Int(text.to_owned())
        })
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = std::str::from_utf8(self.s.get(self.i..self.i + 4)?).ok()?;
        if !h.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        self.i += 4;
        u32::from_str_radix(h, 16).ok()
    }

    fn string(&mut self) -> Option<String> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let run = self.s[self.i..]
                .iter()
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
            out.push_str(std::str::from_utf8(&self.s[self.i..self.i + run]).ok()?);
            self.i += run;
            match self.s[self.i] {
                b'"' => {
                    self.i += 1;
                    return Some(out);
                }
                b'\\' => {
                    let esc = *self.s.get(self.i + 1)?;
                    self.i += 2;
                    out.push(match esc {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\x08',
                        b'f' => '\x0c',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return None,
                    });
                }
                _ => return None, // a control character: strict mode
            }
        }
    }

    /// The character of `\uXXXX` (just read up to the `u`), joining a surrogate pair; a lone one is U+FFFD.
    fn unicode_escape(&mut self) -> Option<char> {
        let hi = self.hex4()?;
        if (0xd800..0xdc00).contains(&hi) && self.s[self.i..].starts_with(b"\\u") {
            let back = self.i;
            self.i += 2;
            match self.hex4() {
                Some(lo) if (0xdc00..0xe000).contains(&lo) => {
                    return char::from_u32(0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00));
                }
                _ => self.i = back,
            }
        }
        Some(char::from_u32(hi).unwrap_or('\u{fffd}'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_as_python_does() {
        let v =
            loads(r#"{"a": 1, "b": [1.5, -0, NaN, "x\u00e9\ud83d\ude00"], "a": null}"#).unwrap();
        assert_eq!(v.get("a"), Some(&Json::Null));
        let Json::Obj(items) = &v else { panic!() };
        assert_eq!(items[0].0, "a", "a repeated key keeps its first place");
        assert_eq!(
            v.get("b").and_then(|b| if let Json::List(l) = b {
                l.get(3).cloned()
            } else {
                None
            }),
            Some(Json::Str("xé😀".into()))
        );
        for bad in [
            "{\"a\":1,}",
            "{\"a\"\t:\"\x01\"}",
            "{'a':1}",
            "{\"a\":1} x",
            "{\"a\":01}",
            "{\"a\":[1,]}",
        ] {
            assert_eq!(loads(bad), None, "{bad}");
        }
        assert_eq!(
            loads("{\"a\": 1e}"),
            None,
            "the exponent is left, then is extra data"
        );
        assert_eq!(
            loads(&format!(
                "{}{}",
                "[".repeat(MAX_DEPTH + 1),
                "]".repeat(MAX_DEPTH + 1)
            )),
            None
        );
    }
}
