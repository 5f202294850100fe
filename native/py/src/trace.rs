//! `Trace`: a `.oomtrace` opened for reading. Every call reads with the GIL released; the caches are the core's,
//! locked, so a trace may be read from several threads.

use oomreplay_core::model::schema::{kind_id, KINDS};
use oomreplay_core::model::value::Str;
use oomreplay_core::store::changelists::ListKey;
use oomreplay_core::store::reader::Trace;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};

use crate::convert::{index_error, to_py, OrPy};
use crate::event::{events_to_py, PyEvent};
use crate::state::PyState;

#[pyclass(name = "NativeTrace", module = "oomreplay.store")]
pub struct PyTrace {
    t: Option<Trace>,
}

impl PyTrace {
    fn t(&self) -> PyResult<&Trace> {
        self.t
            .as_ref()
            .ok_or_else(|| PyValueError::new_err("the trace is closed"))
    }
}

/// The filters of `next`/`prev`: each inner list a union of keys, the outer their intersection.
fn filters(
    kind: Option<&Bound<'_, PyAny>>,
    pid: Option<i64>,
    entity: Option<&str>,
) -> PyResult<Vec<Vec<ListKey>>> {
    let mut groups = Vec::new();
    if let Some(k) = kind.filter(|k| !k.is_none()) {
        let kinds: Vec<String> = if k.is_instance_of::<PyString>() {
            vec![k.extract()?]
        } else {
            k.extract()?
        };
        for name in &kinds {
            if kind_id(name).is_none() {
                return Err(PyValueError::new_err(format!(
                    "unknown event kind '{name}'"
                )));
            }
        }
        groups.push(
            kinds
                .iter()
                .map(|n| ListKey::Kind(Str::from(n.as_str())))
                .collect(),
        );
    }
    if let Some(p) = pid {
        groups.push(vec![ListKey::Pid(p)]);
    }
    if let Some(e) = entity {
        groups.push(vec![ListKey::Entity(Str::from(e))]);
    }
    Ok(groups)
}

#[pymethods]
impl PyTrace {
    #[new]
    fn open(py: Python<'_>, path: std::path::PathBuf) -> PyResult<PyTrace> {
        let t = py.detach(|| Trace::open(&path)).py()?;
        Ok(PyTrace { t: Some(t) })
    }

    fn close(&mut self) {
        self.t = None;
    }

    fn __len__(&self) -> PyResult<usize> {
        Ok(self.t()?.len() as usize)
    }

    #[getter]
    fn version(&self) -> PyResult<u16> {
        Ok(self.t()?.index().version)
    }

    #[getter]
    fn size(&self) -> PyResult<u64> {
        Ok(self.t()?.size())
    }

    #[getter]
    fn meta<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.t()?.index().meta)
    }

    #[getter]
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.t()?.index().summary)
    }

    #[getter]
    fn first_ts(&self) -> PyResult<Option<i64>> {
        Ok(self.t()?.index().first_ts)
    }

    #[getter]
    fn last_ts(&self) -> PyResult<Option<i64>> {
        Ok(self.t()?.index().last_ts)
    }

    /// `(name, line count)` of each source file stored in the trace, by file id.
    #[getter]
    fn sources(&self) -> PyResult<Vec<(String, i64)>> {
        Ok(self
            .t()?
            .index()
            .sources
            .iter()
            .map(|(n, c, _, _)| (n.clone(), *c))
            .collect())
    }

    /// Seqs of the events blocks' first events (for tools that walk the trace block by block).
    #[getter]
    fn block_seqs(&self) -> PyResult<Vec<i64>> {
        Ok(self.t()?.index().block_seq.clone())
    }

    fn event(&self, py: Python<'_>, seq: i64) -> PyResult<PyEvent> {
        let t = self.t()?;
        check(t, seq)?;
        if seq < 0 {
            return Err(index_error(
                "seq -1 is the empty state before the first event, not an event".into(),
            ));
        }
        Ok(PyEvent::wrap(py.detach(|| t.event(seq)).py()?))
    }

    /// Events with `start <= seq < stop`, as a list.
    fn events_range(&self, py: Python<'_>, start: i64, stop: i64) -> PyResult<Vec<Py<PyEvent>>> {
        let t = self.t()?;
        let events = py.detach(|| t.events(start, stop)).py()?;
        events_to_py(py, events)
    }

    fn seq_at(&self, py: Python<'_>, ts_ns: i64) -> PyResult<Option<i64>> {
        let t = self.t()?;
        py.detach(|| t.seq_at(ts_ns)).py()
    }

    #[pyo3(signature = (after_seq, kind=None, pid=None, entity=None))]
    fn next(
        &self,
        py: Python<'_>,
        after_seq: i64,
        kind: Option<&Bound<'_, PyAny>>,
        pid: Option<i64>,
        entity: Option<&str>,
    ) -> PyResult<Option<i64>> {
        let t = self.t()?;
        let groups = filters(kind, pid, entity)?;
        py.detach(|| t.find(after_seq, &groups, true)).py()
    }

    #[pyo3(signature = (before_seq, kind=None, pid=None, entity=None))]
    fn prev(
        &self,
        py: Python<'_>,
        before_seq: i64,
        kind: Option<&Bound<'_, PyAny>>,
        pid: Option<i64>,
        entity: Option<&str>,
    ) -> PyResult<Option<i64>> {
        let t = self.t()?;
        let groups = filters(kind, pid, entity)?;
        py.detach(|| t.find(before_seq, &groups, false)).py()
    }

    /// The state after the event `seq` (`-1`: before the first event).
    fn state_at(&self, py: Python<'_>, seq: i64) -> PyResult<PyState> {
        let t = self.t()?;
        check(t, seq)?;
        Ok(PyState {
            s: py.detach(|| t.state_at(seq)).py()?,
        })
    }

    /// Lines `first..last` (1-based, inclusive) of source `file`, clipped to what exists.
    #[pyo3(signature = (first, last, file=0))]
    fn source_lines(
        &self,
        py: Python<'_>,
        first: i64,
        last: i64,
        file: i64,
    ) -> PyResult<Vec<String>> {
        let t = self.t()?;
        py.detach(|| t.source_lines(first, last, file)).py()
    }

    /// `[(t0, t1, {kind: count}, free_min_kb, free_max_kb)]` for `buckets` equal slices of [t0, t1).
    fn overview<'py>(
        &self,
        py: Python<'py>,
        t0: i64,
        t1: i64,
        buckets: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        let t = self.t()?;
        let out = py.detach(|| t.overview(t0, t1, buckets)).py()?;
        let kinds = t.overview_kinds().py()?;
        let rows = out
            .into_iter()
            .map(|b| {
                let counts = PyDict::new(py);
                for (k, n) in &b.counts {
                    counts.set_item(kinds.get(*k).map(String::as_str).unwrap_or("?"), n)?;
                }
                Ok((b.t0_ns, b.t1_ns, counts, b.free_min_kb, b.free_max_kb))
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, rows)
    }
}

fn check(t: &Trace, seq: i64) -> PyResult<()> {
    if !(-1..t.len()).contains(&seq) {
        return Err(index_error(format!(
            "seq {seq} is outside 0..{}",
            t.len() - 1
        )));
    }
    Ok(())
}

/// `((kind, (field, …)), …)`: the event vocabulary, for `oomreplay.model.KINDS`.
pub fn kinds() -> Vec<(&'static str, Vec<&'static str>)> {
    KINDS.iter().map(|(k, f)| (*k, f.to_vec())).collect()
}

fn scan_to_py<'py>(
    py: Python<'py>,
    scan: oomreplay_core::store::repair::Scan,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("size", scan.size)?;
    d.set_item("blocks", scan.blocks)?;
    d.set_item("events", scan.events)?;
    d.set_item("meta", to_py(py, &scan.meta)?)?;
    d.set_item(
        "problems",
        scan.problems
            .into_iter()
            .map(|p| (p.offset, p.message))
            .collect::<Vec<_>>(),
    )?;
    d.set_item("truncated_at", scan.truncated_at)?;
    d.set_item("fixed", scan.fixed)?;
    Ok(d)
}

/// Check every block and the index against them: `{size, blocks, events, meta, problems, truncated_at, fixed}`.
#[pyfunction]
pub fn verify<'py>(py: Python<'py>, path: std::path::PathBuf) -> PyResult<Bound<'py, PyDict>> {
    let scan = py
        .detach(|| oomreplay_core::store::repair::verify(&path))
        .py()?;
    scan_to_py(py, scan)
}

/// Write to `out` a trace of every whole event block and source chunk of `path`.
#[pyfunction]
pub fn repair<'py>(
    py: Python<'py>,
    path: std::path::PathBuf,
    out: std::path::PathBuf,
) -> PyResult<Bound<'py, PyDict>> {
    let scan = py
        .detach(|| oomreplay_core::store::repair::repair(&path, &out))
        .py()?;
    scan_to_py(py, scan)
}

/// Whether `path` starts as an oomtrace file does (its magic bytes); a file that cannot be read is not one.
#[pyfunction]
pub fn is_trace(path: std::path::PathBuf) -> bool {
    use std::io::Read;
    let mut head = [0u8; 8];
    std::fs::File::open(&path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && &head == oomreplay_core::store::format::MAGIC
}
