//! The bounded reorder buffer: lines held until `REORDER_LINES` later ones have been read, released in time order.
//!
//! The per-CPU buffers are merged by timestamp when a trace is read, but a local clock is not coherent across
//! CPUs, and pasted or concatenated traces are not merged at all. Python keeps a heap of `(ts, lineno, text,
//! line)` and pushes-and-pops it once per line; this keeps the same lines in a deque sorted by `(ts, lineno)`,
//! which releases the same line at each step (the smallest) and costs O(1) for a line in order (every line of
//! the corpus) and a short move for a line a little out of order (per-CPU disorder lands near the back). The
//! lines are handled when they leave (their handlers read the converter's state in time order), so the buffer
//! keeps each line's text and its columns; texts are recycled, so the steady state allocates nothing.

use super::line::FtraceLine;
use std::collections::VecDeque;

/// Lines held to sort per-CPU disorder; a line more out of order than this is clamped and reported.
pub const REORDER_LINES: usize = 4096;

/// An event line's columns as offsets into its text, to be read back when the line leaves the buffer.
#[derive(Clone, Copy, Debug)]
pub struct Spans {
    comm: (u32, u32),
    pid: i64,
    tgid: Option<i64>,
    cpu: i64,
    ts_ns: i64,
    event: (u32, u32),
    payload: (u32, u32),
    buffer: Option<(u32, u32)>,
}

fn span(text: &str, sub: &str) -> (u32, u32) {
    let at = sub.as_ptr() as usize - text.as_ptr() as usize;
    (at as u32, (at + sub.len()) as u32)
}

impl Spans {
    /// `line`'s columns, which are slices of `text`.
    pub fn of(text: &str, line: &FtraceLine<'_>) -> Spans {
        Spans {
            comm: span(text, line.comm),
            pid: line.pid,
            tgid: line.tgid,
            cpu: line.cpu,
            ts_ns: line.ts_ns,
            event: span(text, line.event),
            payload: span(text, line.payload),
            buffer: line.buffer.map(|b| span(text, b)),
        }
    }

    /// The columns again, over a copy of the text they were taken from.
    pub fn line<'a>(&self, text: &'a str) -> FtraceLine<'a> {
        let at = |(a, b): (u32, u32)| &text[a as usize..b as usize];
        FtraceLine {
            comm: at(self.comm),
            pid: self.pid,
            tgid: self.tgid,
            cpu: self.cpu,
            ts_ns: self.ts_ns,
            event: at(self.event),
            payload: at(self.payload),
            buffer: self.buffer.map(at),
        }
    }
}

/// What a held line is.
#[derive(Clone, Copy, Debug)]
pub enum Rec {
    Event(Spans),
    /// Not an event line: a marker, the header, text.
    Text,
    /// An event line whose columns hold a number too large to keep (see `line::Parsed::Overflow`).
    Overflow,
}

/// A line waiting in the buffer, placed at `ts`.
#[derive(Debug)]
pub struct Pending {
    pub ts: i64,
    pub lineno: i64,
    /// The line as read (cut to `MATCH_CHARS`, unquoted).
    pub text: String,
    pub rec: Rec,
}

impl Pending {
    fn key(&self) -> (i64, i64) {
        (self.ts, self.lineno)
    }
}

pub struct Reorder {
    held: VecDeque<Pending>,
    capacity: usize,
    texts: Vec<String>,
}

impl Reorder {
    pub fn new(capacity: usize) -> Reorder {
        Reorder {
            held: VecDeque::with_capacity(capacity + 1),
            capacity,
            texts: Vec::new(),
        }
    }

    /// An empty text to copy a line into (one given back earlier when there is one).
    pub fn text(&mut self) -> String {
        self.texts
            .pop()
            .unwrap_or_else(|| String::with_capacity(256))
    }

    /// Give a released line's text back for reuse.
    pub fn recycle(&mut self, mut text: String) {
        if self.texts.len() < 64 {
            text.clear();
            self.texts.push(text);
        }
    }

    /// Take `line`; once the buffer is full, the earliest of the held lines and `line` leaves (Python's
    /// `heappushpop`). Ties of `(ts, lineno)`, which only a caller repeating line numbers makes, leave in the
    /// order they came.
    pub fn push(&mut self, line: Pending) -> Option<Pending> {
        if self.held.len() >= self.capacity
            && self.held.front().is_none_or(|f| line.key() < f.key())
        {
            return Some(line);
        }
        let at = match self.held.back() {
            Some(last) if last.key() > line.key() => {
                self.held.partition_point(|p| p.key() <= line.key())
            }
            _ => self.held.len(),
        };
        self.held.insert(at, line);
        if self.held.len() > self.capacity {
            return self.held.pop_front();
        }
        None
    }

    /// The earliest held line, to empty the buffer at the end.
    pub fn pop(&mut self) -> Option<Pending> {
        self.held.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(ts: i64, lineno: i64) -> Pending {
        Pending {
            ts,
            lineno,
            text: String::new(),
            rec: Rec::Text,
        }
    }

    /// What Python's heap gives: the smallest of the held lines and the new one, at each push once full.
    fn heap_order(input: &[(i64, i64)], capacity: usize) -> Vec<(i64, i64)> {
        let mut heap = std::collections::BinaryHeap::new();
        let mut out = Vec::new();
        for &k in input {
            heap.push(std::cmp::Reverse(k));
            if heap.len() > capacity {
                out.push(heap.pop().unwrap().0);
            }
        }
        while let Some(std::cmp::Reverse(k)) = heap.pop() {
            out.push(k);
        }
        out
    }

    #[test]
    fn releases_what_the_heap_releases() {
        let mut rng = 0x2545f4914f6cdd1du64;
        for capacity in [1, 3, 16] {
            let input: Vec<(i64, i64)> = (0..500)
                .map(|i| {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    (i as i64 * 10 - (rng % 200) as i64, i as i64 + 1)
                })
                .collect();
            let mut r = Reorder::new(capacity);
            let mut out = Vec::new();
            for &(ts, n) in &input {
                out.extend(r.push(line(ts, n)).map(|p| p.key()));
            }
            while let Some(p) = r.pop() {
                out.push(p.key());
            }
            assert_eq!(out, heap_order(&input, capacity));
        }
    }

    #[test]
    fn a_line_earlier_than_all_held_leaves_at_once() {
        let mut r = Reorder::new(2);
        assert!(r.push(line(5, 1)).is_none());
        assert!(r.push(line(6, 2)).is_none());
        assert_eq!(r.push(line(1, 3)).map(|p| p.lineno), Some(3));
        assert_eq!(r.push(line(7, 4)).map(|p| p.lineno), Some(1));
    }
}
