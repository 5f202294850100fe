//! The core's converters as Python `LineReader`s (`oomreplay.ingest.converter.LineReader`): `LogReader` (a kernel
//! log, `klog::LogConverter`) and `FtraceReader` (an ftrace recording, `ftrace::FtraceConverter`, its console lines
//! read by the kernel-log converter). Each takes the input's bytes as read, a chunk at a time, and with the GIL
//! released cuts them into lines (`ingest::Lines`), stores each line as the trace's source text and converts it:
//! `read(chunk, writer, append=True)` appends the events to the writer too, so that no Python object is made per
//! line or event; without `append` the items come back (native `Event`s, and for a log the runs of chatter as
//! `run_type(ts, texts, file_id, first_line)`, Python's `LogRun`, when a `run_type` was given), for a merge by time.
//!
//! `split_prefix` and `console_line` give the alignment of a log with a recording (`ingest/align.py`) the same
//! reading of a line the converters have.

use oomreplay_core::ftrace::{self, FtraceConverter, Parsed};
use oomreplay_core::ingest::{self, Keep, LineConverter, Pump};
use oomreplay_core::klog::{self, Format, Item, LogConverter, MATCH_CHARS, SNIFF_LINES};
use oomreplay_core::text::pystr::cut_chars;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::event::PyEvent;
use crate::writer::{written, PyWriter};

fn format_of(fmt: &str) -> PyResult<Format> {
    Format::parse(fmt).ok_or_else(|| PyValueError::new_err(format!("unknown log format '{fmt}'")))
}

/// `collections.Counter(counts)`.
fn counter<'py>(
    py: Python<'py>,
    counts: impl IntoIterator<Item = (&'static str, u64)>,
) -> PyResult<Bound<'py, PyAny>> {
    let d = PyDict::new(py);
    for (k, n) in counts {
        d.set_item(k, n)?;
    }
    py.import("collections")?.getattr("Counter")?.call1((d,))
}

fn strings(head: &Bound<'_, PyAny>, limit: usize) -> PyResult<Vec<String>> {
    let mut out = Vec::new();
    for line in head.try_iter()? {
        if out.len() == limit {
            break;
        }
        out.push(line?.extract::<String>()?);
    }
    Ok(out)
}

/// What both readers share: the lines cut and stored, the converter, and how the items go on.
struct Reading<C> {
    conv: C,
    pump: Pump,
    run_type: Option<Py<PyAny>>,
    /// Runs of chatter come back as their number of lines (`count_runs`).
    count_runs: bool,
}

impl<C: LineConverter + Send> Reading<C> {
    fn new(conv: C, file_id: i64, run_type: Option<Py<PyAny>>) -> Reading<C> {
        Reading {
            conv,
            pump: Pump::new(file_id, Keep::None),
            run_type,
            count_runs: false,
        }
    }

    /// `chunk` (or, with `end`, the input's last line and what the converter still holds) through the pump.
    fn run(
        &mut self,
        py: Python<'_>,
        chunk: Option<&[u8]>,
        writer: Option<&Bound<'_, PyWriter>>,
        append: bool,
    ) -> PyResult<Py<PyList>> {
        let mut guard;
        let (w, path) = match writer {
            Some(w) => {
                guard = w.borrow_mut();
                let (w, path) = guard.native()?;
                (Some(w), path.to_owned())
            }
            None if append => return Err(PyValueError::new_err("append needs a writer")),
            None => (None, Default::default()),
        };
        let (conv, pump) = (&mut self.conv, &mut self.pump);
        let items = py.detach(|| -> oomreplay_core::Result<Vec<Item>> {
            let mut items = Vec::new();
            let mut w = w;
            match chunk {
                Some(chunk) => pump.push(chunk, conv, w.as_deref_mut(), &mut items)?,
                None => pump.end(conv, w.as_deref_mut(), &mut items)?,
            }
            if let (true, Some(w)) = (append, w) {
                ingest::append(w, items.drain(..))?;
            }
            Ok(items)
        });
        let items = written(&path, items)?;
        self.items(py, items)
    }

    fn items(&self, py: Python<'_>, items: Vec<Item>) -> PyResult<Py<PyList>> {
        let list = PyList::empty(py);
        for item in items {
            match item {
                Item::Event(e) => list.append(Py::new(py, PyEvent::wrap(e))?)?,
                Item::Run(run) if self.count_runs => list.append(run.len())?,
                Item::Run(run) => match &self.run_type {
                    Some(t) => {
                        let texts: Vec<&str> = (0..run.len()).map(|i| run.text(i)).collect();
                        list.append(t.bind(py).call1((
                            run.ts.clone(),
                            texts,
                            run.file_id,
                            run.first_line,
                        ))?)?;
                    }
                    None => {
                        for e in run.events() {
                            list.append(Py::new(py, PyEvent::wrap(e))?)?;
                        }
                    }
                },
            }
        }
        Ok(list.unbind())
    }
}

/// The methods both readers share, around each one's own: a `#[pymethods]` block is one per class, so the
/// shared ones are written once here and the block is made for each (`keep` says which lines `kept` keeps).
macro_rules! reader_methods {
    ($reader:ty, $keep:expr, $keep_doc:literal, { $($own:tt)* }) => {
        #[pymethods]
        impl $reader {
            $($own)*

            /// Lines read so far.
            #[getter]
            fn lines(&self) -> i64 {
                self.r.pump.count()
            }

            #[doc = $keep_doc]
            fn keep_lines(&mut self) {
                self.r.pump.keep($keep);
            }

            /// From now on a run of chatter comes back as its number of lines (an `int`), for a reader that
            /// needs only the seqs the lines take and not their text (the fleet's extraction): no Python
            /// string is made per line.
            fn count_runs(&mut self) {
                self.r.count_runs = true;
            }

            /// The lines kept since the last call, by line number.
            fn kept(&mut self) -> Vec<(i64, String)> {
                std::mem::take(&mut self.r.pump.kept)
            }

            /// The lines `chunk` completes: stored as source text in `writer`, converted, and their items
            /// returned, or with `append` appended to the writer.
            #[pyo3(signature = (chunk, writer=None, append=false))]
            fn read(
                &mut self,
                py: Python<'_>,
                chunk: &[u8],
                writer: Option<&Bound<'_, PyWriter>>,
                append: bool,
            ) -> PyResult<Py<PyList>> {
                self.r.run(py, Some(chunk), writer, append)
            }

            /// The last line (when the input does not end with a newline), then what is still held, as `read`
            /// does.
            #[pyo3(signature = (writer=None, append=false))]
            fn end(
                &mut self,
                py: Python<'_>,
                writer: Option<&Bound<'_, PyWriter>>,
                append: bool,
            ) -> PyResult<Py<PyList>> {
                self.r.run(py, None, writer, append)
            }
        }
    };
}

/// A kernel log's lines into events.
#[pyclass(name = "LogReader", module = "oomreplay._native")]
pub struct PyLogReader {
    r: Reading<LogConverter>,
}

reader_methods!(
    PyLogReader,
    Keep::All,
    "Keep a copy of every line read, for `kept` (a log aligned with a \
recording is matched on them).",
    {
        /// `prefilter=False` hands every kernel message to every family (slower, the same events: its test).
        #[new]
        #[pyo3(signature = (file_id=0, fmt="auto", run_type=None, prefilter=true))]
        fn new(
            file_id: i64,
            fmt: &str,
            run_type: Option<Py<PyAny>>,
            prefilter: bool,
        ) -> PyResult<Self> {
            let mut conv = LogConverter::new(file_id, format_of(fmt)?);
            conv.prefilter = prefilter;
            Ok(PyLogReader {
                r: Reading::new(conv, file_id, run_type),
            })
        }

        /// The events of one line, as it is (no source text stored, no run of chatter made): the reference the
        /// bulk path of `read` is tested against.
        fn feed(&mut self, py: Python<'_>, lineno: i64, line: &str) -> PyResult<Vec<Py<PyEvent>>> {
            let mut out = Vec::new();
            self.r.conv.feed(lineno, line, &mut out);
            out.into_iter()
                .map(|e| Py::new(py, PyEvent::wrap(e)))
                .collect()
        }

        #[getter]
        fn file_id(&self) -> i64 {
            self.r.conv.file_id
        }

        /// A kernel log is no recording on the trace clock.
        #[getter]
        fn recording(&self) -> bool {
            false
        }

        #[getter]
        fn clock(&self) -> Option<&'static str> {
            self.r.conv.clock.map(|c| c.name())
        }

        #[getter]
        fn kernel(&self) -> Option<String> {
            self.r.conv.kernel.clone()
        }

        #[getter]
        fn counts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            counter(py, self.r.conv.counts())
        }

        /// Lines inside a report that no parser understood: `(line, text)`, the first `UNPARSED_KEPT`.
        #[getter]
        fn unparsed(&self) -> Vec<(i64, String)> {
            self.r.conv.unparsed.clone()
        }

        #[getter]
        fn unparsed_count(&self) -> u64 {
            self.r.conv.unparsed_count
        }

        /// Lines kept as text for a number too large for the kernel's types.
        #[getter]
        fn overflow(&self) -> Vec<i64> {
            self.r.conv.overflow.clone()
        }

        /// What the conversion should tell its user, a sentence each.
        #[getter]
        fn warnings(&self) -> Vec<String> {
            self.r.conv.warnings()
        }

        /// Pick the clock from the first lines (at most `SNIFF_LINES` are read).
        fn sniff(&mut self, head: &Bound<'_, PyAny>) -> PyResult<()> {
            let head = strings(head, SNIFF_LINES)?;
            self.r.conv.sniff(&head);
            Ok(())
        }
    }
);

/// An ftrace recording's lines into events.
#[pyclass(name = "FtraceReader", module = "oomreplay._native")]
pub struct PyFtraceReader {
    r: Reading<FtraceConverter<LogConverter>>,
}

reader_methods!(
    PyFtraceReader,
    Keep::Console,
    "Keep a copy of the `printk:console` lines read, for `kept`.",
    {
        #[new]
        #[pyo3(signature = (file_id=0))]
        fn new(file_id: i64) -> Self {
            PyFtraceReader {
                r: Reading::new(FtraceConverter::with_log_parser(file_id), file_id, None),
            }
        }

        /// Whether lines that start so are an ftrace recording (what `convert` asks before choosing a reader).
        #[staticmethod]
        fn looks_like(head: &Bound<'_, PyAny>) -> PyResult<bool> {
            let head = strings(head, SNIFF_LINES)?;
            Ok(FtraceConverter::<LogConverter>::sniff(
                &head.iter().map(String::as_str).collect::<Vec<_>>(),
            ))
        }

        #[getter]
        fn file_id(&self) -> i64 {
            self.r.pump.file_id()
        }

        #[getter]
        fn recording(&self) -> bool {
            true
        }

        #[getter]
        fn clock(&self) -> &'static str {
            self.r.conv.report().clock
        }

        #[getter]
        fn kernel(&self) -> Option<String> {
            self.r.conv.report().kernel.clone()
        }

        #[getter]
        fn counts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            counter(py, self.r.conv.report().counts_by_name())
        }

        #[getter]
        fn warnings(&self) -> Vec<String> {
            self.r.conv.report().warnings.clone()
        }

        /// Event lines whose payload did not parse (kept as text).
        #[getter]
        fn rejects(&self) -> Vec<i64> {
            self.r.conv.report().rejects.clone()
        }

        /// Events the lost-event markers say were lost.
        #[getter]
        fn lost_events(&self) -> u128 {
            self.r.conv.report().lost_events
        }

        /// A recording decides nothing from its head.
        fn sniff(&mut self, _head: &Bound<'_, PyAny>) {}
    }
);

/// `split_prefix(line, fmt="auto")`: a log line's prefixes taken off, as the converter reads them:
/// `(text, mono_ns, wall_ns, kernel, yearless)`.
#[pyfunction]
#[pyo3(signature = (line, fmt="auto"))]
fn split_prefix(line: &str, fmt: &str) -> PyResult<(String, Option<i64>, Option<i64>, bool, bool)> {
    let p = klog::split_prefix(cut_chars(line, MATCH_CHARS), format_of(fmt)?);
    Ok((
        p.text.into_owned(),
        p.mono_ns,
        p.wall_ns,
        p.kernel,
        p.yearless,
    ))
}

/// `console_line(line)`: `(trace ts, message)` of an ftrace `printk:console` line, else None.
#[pyfunction]
fn console_line(line: &str) -> Option<(i64, String)> {
    match ftrace::parse_line(ftrace::unquote(cut_chars(line, ftrace::MATCH_CHARS))) {
        Parsed::Event(rec) if rec.event.rsplit(':').next() == Some("console") => {
            Some((rec.ts_ns, rec.payload.to_owned()))
        }
        _ => None,
    }
}

/// Adds the readers and the line functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyLogReader>()?;
    m.add_class::<PyFtraceReader>()?;
    m.add("FORMATS", Format::NAMES)?;
    m.add_function(wrap_pyfunction!(split_prefix, m)?)?;
    m.add_function(wrap_pyfunction!(console_line, m)?)
}
