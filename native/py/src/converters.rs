//! The core's converters as Python `LineReader`s (`oomreplay.ingest.converter.LineReader`): `LogReader` (a kernel
//! log, `klog::LogConverter`) and `FtraceReader` (an ftrace recording, `ftrace::FtraceConverter`, its console lines
//! read by the kernel-log converter). Each takes a block of lines as `list[str]` or, without a Python object per
//! line, as the bytes of whole lines (`feed_bytes`); the conversion runs with the GIL released and hands back
//! native `Event`s, and for a log the runs of chatter as `run_type(ts, texts, file_id, first_line)` (Python's
//! `LogRun`) when a `run_type` was given, else as their events one by one.
//!
//! `convert_lines(kind, data, ...)` converts a whole buffer at once: `(events, report)`.

use oomreplay_core::ftrace::FtraceConverter;
use oomreplay_core::klog::{Format, Item, LogConverter, SNIFF_LINES};
use oomreplay_core::model::Event;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::event::PyEvent;

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

fn push_events(py: Python<'_>, list: &Bound<'_, PyList>, events: Vec<Event>) -> PyResult<()> {
    for e in events {
        list.append(Py::new(py, PyEvent::wrap(e))?)?;
    }
    Ok(())
}

/// A kernel log's lines into events: Python's `LogConverter(file_id, fmt)`.
#[pyclass(name = "LogReader", module = "oomreplay._native")]
pub struct PyLogReader {
    conv: LogConverter,
    run_type: Option<Py<PyAny>>,
}

impl PyLogReader {
    fn items(&self, py: Python<'_>, items: Vec<Item>) -> PyResult<Py<PyList>> {
        let list = PyList::empty(py);
        for item in items {
            match item {
                Item::Event(e) => list.append(Py::new(py, PyEvent::wrap(e))?)?,
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
                    None => push_events(py, &list, run.events())?,
                },
            }
        }
        Ok(list.unbind())
    }
}

#[pymethods]
impl PyLogReader {
    #[new]
    #[pyo3(signature = (file_id=0, fmt="auto", run_type=None))]
    fn new(file_id: i64, fmt: &str, run_type: Option<Py<PyAny>>) -> PyResult<Self> {
        Ok(PyLogReader {
            conv: LogConverter::new(file_id, format_of(fmt)?),
            run_type,
        })
    }

    #[getter]
    fn file_id(&self) -> i64 {
        self.conv.file_id
    }

    /// A kernel log is no recording on the trace clock.
    #[getter]
    fn recording(&self) -> bool {
        false
    }

    #[getter]
    fn clock(&self) -> Option<&'static str> {
        self.conv.clock.map(|c| c.name())
    }

    #[getter]
    fn kernel(&self) -> Option<String> {
        self.conv.kernel.clone()
    }

    #[getter]
    fn counts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        counter(py, self.conv.counts())
    }

    /// Lines inside a report that no parser understood: `(line, text)`, the first `UNPARSED_KEPT`.
    #[getter]
    fn unparsed(&self) -> Vec<(i64, String)> {
        self.conv.unparsed.clone()
    }

    #[getter]
    fn unparsed_count(&self) -> u64 {
        self.conv.unparsed_count
    }

    /// Lines kept as text for a number too large for an i64 (Python's converter would have read it).
    #[getter]
    fn overflow(&self) -> Vec<i64> {
        self.conv.overflow.clone()
    }

    /// Lines whose events were lost as Python's converter loses them (a hold started over another).
    #[getter]
    fn dropped(&self) -> Vec<i64> {
        self.conv.dropped.clone()
    }

    /// Pick the clock from the first lines (at most `SNIFF_LINES` are read).
    fn sniff(&mut self, head: &Bound<'_, PyAny>) -> PyResult<()> {
        let head = strings(head, SNIFF_LINES)?;
        self.conv.sniff(&head);
        Ok(())
    }

    /// The events of one line.
    fn feed(&mut self, py: Python<'_>, lineno: i64, line: &str) -> PyResult<Vec<Py<PyEvent>>> {
        let mut out = Vec::new();
        self.conv.feed(lineno, line, &mut out);
        out.into_iter()
            .map(|e| Py::new(py, PyEvent::wrap(e)))
            .collect()
    }

    /// The events of the lines numbered from `first`, runs of chatter in bulk.
    fn feed_block(
        &mut self,
        py: Python<'_>,
        first: i64,
        lines: Vec<String>,
    ) -> PyResult<Py<PyList>> {
        let conv = &mut self.conv;
        let items = py.detach(|| {
            let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
            let mut items = Vec::new();
            conv.feed_lines(first, &refs, &mut items);
            items
        });
        self.items(py, items)
    }

    /// `feed_block` over the bytes of whole lines (each ending with a newline; a CR before it goes, invalid
    /// UTF-8 becomes U+FFFD, as `sources.py` reads them): `(lines read, items)`.
    fn feed_bytes(
        &mut self,
        py: Python<'_>,
        first: i64,
        data: &[u8],
    ) -> PyResult<(usize, Py<PyList>)> {
        let conv = &mut self.conv;
        let (n, items) = py.detach(|| {
            let mut items = Vec::new();
            let n = conv.feed_block(first, data, &mut items);
            (n, items)
        });
        Ok((n, self.items(py, items)?))
    }

    /// What is still held once the input ends.
    fn finish(&mut self, py: Python<'_>) -> PyResult<Vec<Py<PyEvent>>> {
        let mut out = Vec::new();
        self.conv.finish(&mut out);
        out.into_iter()
            .map(|e| Py::new(py, PyEvent::wrap(e)))
            .collect()
    }
}

/// An ftrace recording's lines into events: Python's `FtraceConverter(file_id)`.
#[pyclass(name = "FtraceReader", module = "oomreplay._native")]
pub struct PyFtraceReader {
    conv: FtraceConverter<LogConverter>,
    file_id: i64,
}

#[pymethods]
impl PyFtraceReader {
    #[new]
    #[pyo3(signature = (file_id=0))]
    fn new(file_id: i64) -> Self {
        PyFtraceReader {
            conv: FtraceConverter::with_log_parser(file_id),
            file_id,
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
        self.file_id
    }

    #[getter]
    fn recording(&self) -> bool {
        true
    }

    #[getter]
    fn clock(&self) -> &'static str {
        self.conv.report().clock
    }

    #[getter]
    fn kernel(&self) -> Option<String> {
        self.conv.report().kernel.clone()
    }

    #[getter]
    fn counts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        counter(py, self.conv.report().counts_by_name())
    }

    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.conv.report().warnings.clone()
    }

    /// A recording decides nothing from its head.
    fn sniff(&mut self, _head: &Bound<'_, PyAny>) {}

    fn feed(&mut self, py: Python<'_>, lineno: i64, line: &str) -> PyResult<Vec<Py<PyEvent>>> {
        let mut out = Vec::new();
        self.conv.feed(lineno, line, &mut out);
        out.into_iter()
            .map(|e| Py::new(py, PyEvent::wrap(e)))
            .collect()
    }

    fn feed_block(
        &mut self,
        py: Python<'_>,
        first: i64,
        lines: Vec<String>,
    ) -> PyResult<Vec<Py<PyEvent>>> {
        let conv = &mut self.conv;
        let out = py.detach(|| {
            let mut out = Vec::new();
            for (i, line) in lines.iter().enumerate() {
                conv.feed(first + i as i64, line, &mut out);
            }
            out
        });
        out.into_iter()
            .map(|e| Py::new(py, PyEvent::wrap(e)))
            .collect()
    }

    fn feed_bytes(
        &mut self,
        py: Python<'_>,
        first: i64,
        data: &[u8],
    ) -> PyResult<(i64, Vec<Py<PyEvent>>)> {
        let conv = &mut self.conv;
        let (n, out) = py.detach(|| {
            let mut out = Vec::new();
            let n = conv.feed_block(first, data, &mut out);
            (n, out)
        });
        Ok((
            n,
            out.into_iter()
                .map(|e| Py::new(py, PyEvent::wrap(e)))
                .collect::<PyResult<_>>()?,
        ))
    }

    fn finish(&mut self, py: Python<'_>) -> PyResult<Vec<Py<PyEvent>>> {
        let mut out = Vec::new();
        self.conv.finish(&mut out);
        out.into_iter()
            .map(|e| Py::new(py, PyEvent::wrap(e)))
            .collect()
    }
}

/// `convert_lines(kind, data, file_id=0, first_line=1, fmt="auto")`: the whole lines in `data` (bytes) converted
/// at once by the `"log"` or `"ftrace"` converter, its head sniffed first: `(events, report)`, the report a dict
/// of `lines`, `counts`, `clock`, `kernel` (and for a log `unparsed_count`).
#[pyfunction]
#[pyo3(signature = (kind, data, file_id=0, first_line=1, fmt="auto"))]
pub fn convert_lines(
    py: Python<'_>,
    kind: &str,
    data: &[u8],
    file_id: i64,
    first_line: i64,
    fmt: &str,
) -> PyResult<(Vec<Py<PyEvent>>, Py<PyDict>)> {
    let head: Vec<String> = String::from_utf8_lossy(&data[..data.len().min(1 << 20)])
        .split('\n')
        .take(SNIFF_LINES)
        .map(|l| l.strip_suffix('\r').unwrap_or(l).to_owned())
        .collect();
    let report = PyDict::new(py);
    let events = match kind {
        "log" => {
            let fmt = format_of(fmt)?;
            let (events, conv, n) = py.detach(|| {
                let mut conv = LogConverter::new(file_id, fmt);
                conv.sniff(&head);
                let mut items = Vec::new();
                let n = conv.feed_block(first_line, data, &mut items);
                let mut events = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Item::Event(e) => events.push(e),
                        Item::Run(r) => events.extend(r.events()),
                    }
                }
                conv.finish(&mut events);
                (events, conv, n)
            });
            report.set_item("lines", n)?;
            report.set_item("counts", counter(py, conv.counts())?)?;
            report.set_item("clock", conv.clock.map(|c| c.name()))?;
            report.set_item("kernel", conv.kernel.clone())?;
            report.set_item("unparsed_count", conv.unparsed_count)?;
            events
        }
        "ftrace" => {
            let (events, conv, n) = py.detach(|| {
                let mut conv = FtraceConverter::with_log_parser(file_id);
                let mut events = Vec::new();
                let n = conv.feed_block(first_line, data, &mut events);
                conv.finish(&mut events);
                (events, conv, n)
            });
            let r = conv.report();
            report.set_item("lines", n)?;
            report.set_item("counts", counter(py, r.counts_by_name())?)?;
            report.set_item("clock", r.clock)?;
            report.set_item("kernel", r.kernel.clone())?;
            report.set_item("warnings", r.warnings.clone())?;
            events
        }
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown converter '{other}' (log or ftrace)"
            )))
        }
    };
    let events = events
        .into_iter()
        .map(|e| Py::new(py, PyEvent::wrap(e)))
        .collect::<PyResult<_>>()?;
    Ok((events, report.unbind()))
}

/// Adds the readers and `convert_lines` to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyLogReader>()?;
    m.add_class::<PyFtraceReader>()?;
    m.add_function(wrap_pyfunction!(convert_lines, m)?)
}
