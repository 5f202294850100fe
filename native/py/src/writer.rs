//! `TraceWriter`'s core: events go from Python objects (or the native converters) into blocks, with the GIL
//! released while blocks are encoded and compressed.

use oomreplay_core::model::value::Str;
use oomreplay_core::store::writer::TraceWriter;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::convert::{from_py, OrPy};
use crate::event::PyEvent;

#[pyclass(name = "NativeWriter", module = "oomreplay.store")]
pub struct PyWriter {
    w: Option<TraceWriter>,
}

impl PyWriter {
    fn w(&mut self) -> PyResult<&mut TraceWriter> {
        self.w.as_mut().ok_or_else(|| PyValueError::new_err("the writer is closed"))
    }
}

#[pymethods]
impl PyWriter {
    #[new]
    #[pyo3(signature = (path, meta, parallel=false))]
    fn create(py: Python<'_>, path: std::path::PathBuf, meta: &Bound<'_, PyAny>, parallel: bool) -> PyResult<PyWriter> {
        let meta = from_py(meta)?;
        let w = py.detach(|| TraceWriter::create(&path, &meta, parallel)).py()?;
        Ok(PyWriter { w: Some(w) })
    }

    fn __len__(&self) -> usize {
        self.w.as_ref().map_or(0, |w| w.len() as usize)
    }

    /// Store `ev` as the next event and return its seq. Times must not go backwards.
    fn append(&mut self, py: Python<'_>, ev: &Bound<'_, PyEvent>) -> PyResult<i64> {
        let e = ev.borrow().synced(py)?;
        self.w()?.append(e).py()
    }

    /// Append every event of an iterable; the events are taken a block's worth at a time.
    fn extend(&mut self, py: Python<'_>, events: &Bound<'_, PyAny>) -> PyResult<()> {
        let mut batch = Vec::with_capacity(512);
        for ev in events.try_iter()? {
            let ev = ev?;
            let ev = ev.cast::<PyEvent>().map_err(|_| PyValueError::new_err("extend takes Events"))?;
            batch.push(ev.borrow().synced(py)?);
            if batch.len() == 512 {
                let w = self.w()?;
                let taken = std::mem::take(&mut batch);
                py.detach(|| taken.into_iter().try_for_each(|e| w.append(e).map(|_| ()))).py()?;
            }
        }
        let w = self.w()?;
        py.detach(|| batch.into_iter().try_for_each(|e| w.append(e).map(|_| ()))).py()
    }

    /// A `log` event (no pid) for each of the consecutive lines of source `file_id` from `first_line`.
    fn append_logs(&mut self, py: Python<'_>, ts: Vec<Bound<'_, PyAny>>, texts: Vec<String>, file_id: i64, first_line: i64) -> PyResult<()> {
        let ts: Vec<i64> = ts
            .iter()
            .map(|t| t.extract::<i64>().or_else(|_| t.call_method0("__int__")?.extract()))
            .collect::<PyResult<_>>()?;
        let texts: Vec<Str> = texts.into_iter().map(Str::from).collect();
        let w = self.w()?;
        py.detach(|| w.append_logs(&ts, texts, file_id, first_line)).py()
    }

    fn add_source(&mut self, name: &str) -> PyResult<i64> {
        self.w()?.add_source(name).py()
    }

    fn add_source_lines(&mut self, py: Python<'_>, file_id: i64, lines: Vec<String>) -> PyResult<()> {
        let w = self.w()?;
        py.detach(|| w.add_source_lines(file_id, lines.into_iter().map(Str::from))).py()
    }

    /// Finish the file under `meta` and move it to its final name.
    fn close(&mut self, py: Python<'_>, meta: &Bound<'_, PyAny>) -> PyResult<()> {
        let meta = from_py(meta)?;
        if let Some(mut w) = self.w.take() {
            py.detach(|| w.close(&meta)).py()?;
        }
        Ok(())
    }

    /// Drop the partial files; the final name is never touched.
    fn abort(&mut self) {
        if let Some(mut w) = self.w.take() {
            w.abort();
        }
    }
}
