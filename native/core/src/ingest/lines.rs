//! An input's bytes, as read (decompressed) in chunks of any size, cut into its lines: each line ends at a newline,
//! a CR before the newline goes, invalid UTF-8 becomes U+FFFD, and a line longer than `MAX_LINE` bytes is cut into
//! pieces of that size, each a line of its own (so a file with no newline cannot exhaust memory). A piece, and the
//! last line when the input does not end with a newline, keep whatever they end with.

use std::borrow::Cow;

/// A longer line is cut into pieces of this size.
pub const MAX_LINE: usize = 16 << 20;

/// The lines of one input, a chunk at a time; what follows the last newline of a chunk waits for the next.
#[derive(Debug, Default)]
pub struct Lines {
    rest: Vec<u8>,
}

/// What `Lines` hands on: whole lines (each ending with a newline), or one line as it is (a piece of a long
/// line, or the input's last line without its newline).
pub enum Piece<'a> {
    Whole(&'a [u8]),
    One(&'a [u8]),
}

impl Piece<'_> {
    /// The lines of the piece, decoded.
    pub fn decode(&self) -> Decoded<'_> {
        match self {
            Piece::Whole(b) => Decoded {
                text: String::from_utf8_lossy(&b[..b.len() - 1]),
                whole: true,
            },
            Piece::One(b) => Decoded {
                text: String::from_utf8_lossy(b),
                whole: false,
            },
        }
    }
}

/// A piece's text, whose lines `lines` gives.
pub struct Decoded<'a> {
    text: Cow<'a, str>,
    whole: bool,
}

impl Decoded<'_> {
    pub fn lines(&self) -> Vec<&str> {
        if !self.whole {
            return vec![&self.text];
        }
        let mut out = Vec::with_capacity(self.text.len() / 48 + 1);
        let mut a = 0;
        for n in memchr::memchr_iter(b'\n', self.text.as_bytes()).chain([self.text.len()]) {
            let line = &self.text[a..n];
            out.push(line.strip_suffix('\r').unwrap_or(line));
            a = n + 1;
        }
        out
    }
}

impl Lines {
    pub fn new() -> Lines {
        Lines::default()
    }

    /// The pieces `chunk` completes, in order, to `f`.
    pub fn push(&mut self, chunk: &[u8], mut f: impl FnMut(Piece<'_>)) {
        // read at most MAX_LINE at a time, so that only the first line of a read can need cutting
        for part in chunk.chunks(MAX_LINE) {
            let data: Cow<[u8]> = if self.rest.is_empty() {
                Cow::Borrowed(part)
            } else {
                let mut joined = std::mem::take(&mut self.rest);
                joined.extend_from_slice(part);
                Cow::Owned(joined)
            };
            let mut pos = 0;
            loop {
                let long = match memchr::memchr(b'\n', &data[pos..]) {
                    Some(n) => n >= MAX_LINE,
                    None => data.len() - pos >= MAX_LINE,
                };
                if !long {
                    break;
                }
                f(Piece::One(&data[pos..pos + MAX_LINE]));
                pos += MAX_LINE;
            }
            if let Some(n) = memchr::memrchr(b'\n', &data[pos..]) {
                f(Piece::Whole(&data[pos..pos + n + 1]));
                pos += n + 1;
            }
            self.rest = data[pos..].to_vec();
        }
    }

    /// The last line, when the input did not end with a newline.
    pub fn end(&mut self, f: impl FnOnce(Piece<'_>)) {
        let rest = std::mem::take(&mut self.rest);
        if !rest.is_empty() {
            f(Piece::One(&rest));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(chunks: &[&[u8]]) -> Vec<String> {
        let mut lines = Lines::new();
        let mut out = Vec::new();
        let mut take = |p: Piece<'_>| {
            out.extend(p.decode().lines().into_iter().map(str::to_owned));
        };
        for c in chunks {
            lines.push(c, &mut take);
        }
        lines.end(&mut take);
        out
    }

    #[test]
    fn lines_do_not_depend_on_where_the_chunks_cut() {
        let text = b"a\r\nbb\n\nccc\xff\nlast\r";
        let whole = all(&[text]);
        assert_eq!(whole, ["a", "bb", "", "ccc\u{fffd}", "last\r"]);
        for cut in 0..text.len() {
            assert_eq!(all(&[&text[..cut], &text[cut..]]), whole, "cut at {cut}");
        }
    }

    #[test]
    fn a_long_line_is_cut_into_pieces() {
        let mut text = vec![b'x'; 2 * MAX_LINE + 5];
        text.extend_from_slice(b"\nnext\n");
        let got = all(&[&text[..100], &text[100..]]);
        assert_eq!(got.len(), 4);
        assert_eq!(got[0].len(), MAX_LINE);
        assert_eq!(got[1].len(), MAX_LINE);
        assert_eq!(got[2], "xxxxx");
        assert_eq!(got[3], "next");
    }
}
