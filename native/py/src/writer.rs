//! `TraceWriter`'s core: events go from Python objects (or the native converters) into blocks, with the GIL
//! released while blocks are encoded and compressed.

use oomreplay_core::error::Error;
use oomreplay_core::model::value::Str;
use oomreplay_core::store::tuning::Tuning;
use oomreplay_core::store::writer::TraceWriter;
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;

use crate::convert::{err, from_py};
use crate::event::PyEvent;

fn tuning_of(sizes: std::collections::HashMap<String, usize>) -> PyResult<Tuning> {
    let mut t = Tuning::default();
    for (name, size) in sizes {
        let field = match name.as_str() {
            "block_events" => &mut t.block_events,
            "dictionary_at" => &mut t.dictionary_at,
            "scene_cut_min_gap" => &mut t.scene_cut_min_gap,
            "pages_per_block" => &mut t.pages_per_block,
            "full_map_every" => &mut t.full_map_every,
            "state_dictionary_at" => &mut t.state_dictionary_at,
            "chunk" => &mut t.chunk,
            _ => {
                return Err(PyValueError::new_err(format!(
                    "no writer size is called {name:?}"
                )))
            }
        };
        *field = size;
    }
    Ok(t)
}

#[pyclass(name = "NativeWriter", module = "oomreplay.store")]
pub struct PyWriter {
    w: Option<TraceWriter>,
    path: std::path::PathBuf,
}

impl PyWriter {
    /// The core's writer, for a converter that appends to it itself, and what an error of it becomes.
    pub fn native(&mut self) -> PyResult<(&mut TraceWriter, &std::path::Path)> {
        let w = open(&mut self.w)?;
        Ok((w, &self.path))
    }
}

/// The writer only writes: an I/O error (a full disk, a quota, a file-size limit) is one saying which file.
pub fn written<T>(path: &std::path::Path, r: oomreplay_core::Result<T>) -> PyResult<T> {
    r.map_err(|e| match e {
        Error::Io(io) => {
            PyOSError::new_err(format!("{}: cannot write the trace ({io})", path.display()))
        }
        other => err(other),
    })
}

fn open(w: &mut Option<TraceWriter>) -> PyResult<&mut TraceWriter> {
    w.as_mut()
        .ok_or_else(|| PyValueError::new_err("the writer is closed"))
}

#[pymethods]
impl PyWriter {
    /// `tuning`: other sizes than every trace's, by `Tuning`'s field names (tests: small blocks and keyframes).
    #[new]
    #[pyo3(signature = (path, meta, parallel=false, tuning=None))]
    fn create(
        py: Python<'_>,
        path: std::path::PathBuf,
        meta: &Bound<'_, PyAny>,
        parallel: bool,
        tuning: Option<std::collections::HashMap<String, usize>>,
    ) -> PyResult<PyWriter> {
        let meta = from_py(meta)?;
        let tuning = tuning_of(tuning.unwrap_or_default())?;
        let w = written(
            &path,
            py.detach(|| TraceWriter::create_tuned(&path, &meta, parallel, tuning)),
        )?;
        Ok(PyWriter { w: Some(w), path })
    }

    fn __len__(&self) -> usize {
        self.w.as_ref().map_or(0, |w| w.len() as usize)
    }

    /// Store `ev` as the next event and return its seq. Times must not go backwards.
    fn append(&mut self, py: Python<'_>, ev: &Bound<'_, PyEvent>) -> PyResult<i64> {
        let e = ev.borrow().synced(py)?;
        written(&self.path, open(&mut self.w)?.append(e))
    }

    /// Append every event of an iterable; the events are taken a block's worth at a time.
    fn extend(&mut self, py: Python<'_>, events: &Bound<'_, PyAny>) -> PyResult<()> {
        let mut batch = Vec::with_capacity(512);
        for ev in events.try_iter()? {
            let ev = ev?;
            let ev = ev
                .cast::<PyEvent>()
                .map_err(|_| PyValueError::new_err("extend takes Events"))?;
            batch.push(ev.borrow().synced(py)?);
            if batch.len() == 512 {
                let w = open(&mut self.w)?;
                let taken = std::mem::take(&mut batch);
                written(
                    &self.path,
                    py.detach(|| taken.into_iter().try_for_each(|e| w.append(e).map(|_| ()))),
                )?;
            }
        }
        let w = open(&mut self.w)?;
        written(
            &self.path,
            py.detach(|| batch.into_iter().try_for_each(|e| w.append(e).map(|_| ()))),
        )
    }

    /// A `log` event (no pid) for each of the consecutive lines of source `file_id` from `first_line`.
    fn append_logs(
        &mut self,
        py: Python<'_>,
        ts: Vec<Bound<'_, PyAny>>,
        texts: Vec<String>,
        file_id: i64,
        first_line: i64,
    ) -> PyResult<()> {
        let ts: Vec<i64> = ts
            .iter()
            .map(|t| {
                t.extract::<i64>()
                    .or_else(|_| t.call_method0("__int__")?.extract())
            })
            .collect::<PyResult<_>>()?;
        let texts: Vec<Str> = texts.into_iter().map(Str::from).collect();
        let w = open(&mut self.w)?;
        written(
            &self.path,
            py.detach(|| w.append_logs(&ts, texts, file_id, first_line)),
        )
    }

    fn add_source(&mut self, name: &str) -> PyResult<i64> {
        written(&self.path, open(&mut self.w)?.add_source(name))
    }

    fn add_source_lines(
        &mut self,
        py: Python<'_>,
        file_id: i64,
        lines: Vec<String>,
    ) -> PyResult<()> {
        let w = open(&mut self.w)?;
        written(
            &self.path,
            py.detach(|| w.add_source_lines(file_id, lines.into_iter().map(Str::from))),
        )
    }

    /// Finish the file under `meta` and move it to its final name.
    fn close(&mut self, py: Python<'_>, meta: &Bound<'_, PyAny>) -> PyResult<()> {
        let meta = from_py(meta)?;
        if let Some(mut w) = self.w.take() {
            written(&self.path, py.detach(|| w.close(&meta)))?;
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
