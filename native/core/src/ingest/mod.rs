//! One input into a trace without leaving the core: its bytes, as read, cut into lines (`lines`), every line stored
//! as the trace's source text, converted by the input's `LineConverter`, and its events appended to the writer
//! (`Pump`). `convert` hands a single input's chunks straight through; inputs merged by time come back as items.

pub mod lines;

use crate::error::Result;
use crate::ftrace::FtraceConverter;
use crate::klog::{Item, LogConverter};
use crate::model::value::Str;
use crate::model::Event;
use crate::store::writer::TraceWriter;

pub use lines::{Lines, Piece, MAX_LINE};

/// What turns an input's lines into events: the kernel-log converter, or the ftrace one.
pub trait LineConverter {
    /// The items of the lines numbered from `first`, in order.
    fn feed_lines(&mut self, first: i64, lines: &[&str], out: &mut Vec<Item>);
    /// What is still held once the input ends.
    fn finish_lines(&mut self, out: &mut Vec<Event>);
}

impl LineConverter for LogConverter {
    fn feed_lines(&mut self, first: i64, lines: &[&str], out: &mut Vec<Item>) {
        LogConverter::feed_lines(self, first, lines, out);
    }

    fn finish_lines(&mut self, out: &mut Vec<Event>) {
        self.finish(out);
    }
}

impl<C: crate::ftrace::ConsoleParser> LineConverter for FtraceConverter<C> {
    fn feed_lines(&mut self, first: i64, lines: &[&str], out: &mut Vec<Item>) {
        let mut events = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            self.feed(first + i as i64, line, &mut events);
        }
        out.extend(events.into_iter().map(Item::Event));
    }

    fn finish_lines(&mut self, out: &mut Vec<Event>) {
        self.finish(out);
    }
}

/// Which lines the caller keeps a copy of (a log merged with a recording is aligned on them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    None,
    All,
    /// a recording's `printk:console` lines
    Console,
}

/// The lines of one input (source `file_id` of the trace) through its converter.
pub struct Pump {
    lines: Lines,
    file_id: i64,
    /// lines read so far
    count: i64,
    keep: Keep,
    /// `(line, text)` of the lines kept since the caller last took them
    pub kept: Vec<(i64, String)>,
}

impl Pump {
    pub fn new(file_id: i64, keep: Keep) -> Pump {
        Pump {
            lines: Lines::new(),
            file_id,
            count: 0,
            keep,
            kept: Vec::new(),
        }
    }

    pub fn file_id(&self) -> i64 {
        self.file_id
    }

    /// Which lines to keep a copy of from now on.
    pub fn keep(&mut self, keep: Keep) {
        self.keep = keep;
    }

    /// Lines read so far.
    pub fn count(&self) -> i64 {
        self.count
    }

    /// The lines `chunk` completes: stored in `w` (when given) as source text, converted into `out`.
    pub fn push(
        &mut self,
        chunk: &[u8],
        conv: &mut impl LineConverter,
        mut w: Option<&mut TraceWriter>,
        out: &mut Vec<Item>,
    ) -> Result<()> {
        let mut failed = Ok(());
        let mut lines = std::mem::take(&mut self.lines);
        lines.push(chunk, |piece| {
            if failed.is_ok() {
                failed = self.piece(piece, conv, w.as_deref_mut(), out);
            }
        });
        self.lines = lines;
        failed
    }

    /// The last line (when the input does not end with a newline), then what the converter still holds.
    pub fn end(
        &mut self,
        conv: &mut impl LineConverter,
        w: Option<&mut TraceWriter>,
        out: &mut Vec<Item>,
    ) -> Result<()> {
        let mut failed = Ok(());
        let mut lines = std::mem::take(&mut self.lines);
        lines.end(|piece| failed = self.piece(piece, conv, w, out));
        failed?;
        let mut held = Vec::new();
        conv.finish_lines(&mut held);
        out.extend(held.into_iter().map(Item::Event));
        Ok(())
    }

    fn piece(
        &mut self,
        piece: Piece<'_>,
        conv: &mut impl LineConverter,
        w: Option<&mut TraceWriter>,
        out: &mut Vec<Item>,
    ) -> Result<()> {
        let decoded = piece.decode();
        let lines = decoded.lines();
        if let Some(w) = w {
            w.add_source_lines(self.file_id, lines.iter().map(|l| Str::from(*l)))?;
        }
        let first = self.count + 1;
        match self.keep {
            Keep::None => {}
            Keep::All => self
                .kept
                .extend(lines.iter().zip(first..).map(|(l, n)| (n, (*l).to_owned()))),
            Keep::Console => self.kept.extend(
                lines
                    .iter()
                    .zip(first..)
                    .filter(|(l, _)| l.contains("console"))
                    .map(|(l, n)| (n, (*l).to_owned())),
            ),
        }
        conv.feed_lines(first, &lines, out);
        self.count += lines.len() as i64;
        Ok(())
    }
}

/// Append converted items to the writer: events one by one, runs of chatter in bulk.
pub fn append(w: &mut TraceWriter, items: impl IntoIterator<Item = Item>) -> Result<()> {
    for item in items {
        match item {
            Item::Event(e) => {
                w.append(e)?;
            }
            Item::Run(run) => {
                let texts = (0..run.len()).map(|i| Str::from(run.text(i))).collect();
                w.append_logs(&run.ts, texts, run.file_id, run.first_line)?;
            }
        }
    }
    Ok(())
}
