//! `State` and its tables as Python sees them: records are made (as the Python face's NamedTuples) when a view
//! reads them, so a state with 10^5 tasks costs nothing until someone asks for a row.

use oomreplay_core::model::apply::{apply, Ev};
use oomreplay_core::model::state::{State, N_TABLES, TABLES};
use oomreplay_core::model::table::Key;
use pyo3::basic::CompareOp;
use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PySet};

use crate::convert::{key_from_py, key_to_py, record_to_py, OrPy};
use crate::event::PyEvent;

#[pyclass(name = "State", module = "oomreplay.model")]
pub struct PyState {
    pub s: State,
}

/// One table of a state, read through the state (so a state applied in place is seen as it is now).
#[pyclass(name = "Table", module = "oomreplay.model")]
pub struct PyTable {
    state: Py<PyState>,
    t: usize,
}

fn table_index(name: &str) -> PyResult<usize> {
    State::table_index(name).ok_or_else(|| PyValueError::new_err(format!("no table {name:?}")))
}

#[pymethods]
impl PyState {
    #[new]
    fn new() -> PyState {
        PyState { s: State::new() }
    }

    #[getter]
    fn seq(&self) -> Option<i64> {
        self.s.seq
    }

    #[setter]
    fn set_seq(&mut self, v: Option<i64>) {
        self.s.seq = v;
    }

    #[getter]
    fn ts_ns(&self) -> Option<i64> {
        self.s.ts_ns
    }

    #[setter]
    fn set_ts_ns(&mut self, v: Option<i64>) {
        self.s.ts_ns = v;
    }

    fn copy(&self) -> PyState {
        PyState { s: self.s.clone() }
    }

    fn table(slf: &Bound<'_, Self>, name: &str) -> PyResult<PyTable> {
        Ok(PyTable {
            state: slf.clone().unbind(),
            t: table_index(name)?,
        })
    }

    #[getter]
    fn tasks(slf: &Bound<'_, Self>) -> PyTable {
        PyTable {
            state: slf.clone().unbind(),
            t: 0,
        }
    }
    #[getter]
    fn mms(slf: &Bound<'_, Self>) -> PyTable {
        PyTable {
            state: slf.clone().unbind(),
            t: 1,
        }
    }
    #[getter]
    fn locks(slf: &Bound<'_, Self>) -> PyTable {
        PyTable {
            state: slf.clone().unbind(),
            t: 2,
        }
    }
    #[getter]
    fn zones(slf: &Bound<'_, Self>) -> PyTable {
        PyTable {
            state: slf.clone().unbind(),
            t: 3,
        }
    }
    #[getter]
    fn memcgs(slf: &Bound<'_, Self>) -> PyTable {
        PyTable {
            state: slf.clone().unbind(),
            t: 4,
        }
    }
    #[getter]
    fn meminfo(slf: &Bound<'_, Self>) -> PyTable {
        PyTable {
            state: slf.clone().unbind(),
            t: 5,
        }
    }
    #[getter]
    fn ooms(slf: &Bound<'_, Self>) -> PyTable {
        PyTable {
            state: slf.clone().unbind(),
            t: 6,
        }
    }
    #[getter]
    fn victims(slf: &Bound<'_, Self>) -> PyTable {
        PyTable {
            state: slf.clone().unbind(),
            t: 7,
        }
    }
    #[getter]
    fn anomalies(slf: &Bound<'_, Self>) -> PyTable {
        PyTable {
            state: slf.clone().unbind(),
            t: 8,
        }
    }

    /// `{name: table}` in the stored order.
    fn tables<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(slf.py());
        for (t, (name, _, _)) in TABLES.iter().enumerate() {
            d.set_item(
                *name,
                PyTable {
                    state: slf.clone().unbind(),
                    t,
                },
            )?;
        }
        Ok(d)
    }

    /// The last OOM invocation, if any.
    fn last_oom<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let last = py.detach(|| self.s.last_oom()).py()?;
        last.map(|r| record_to_py(py, 6, &r)).transpose()
    }

    /// The keys of table `name` whose records differ between this state and `new`, two states of one trace, found
    /// by page identity; None when a page that differs is not loaded on both sides (rebuild then).
    fn changed_keys<'py>(
        &self,
        py: Python<'py>,
        new: &Bound<'py, PyState>,
        name: &str,
    ) -> PyResult<Option<Bound<'py, PySet>>> {
        let t = table_index(name)?;
        let new = new.borrow();
        let (a, b) = (&self.s.tables[t], &new.s.tables[t]);
        let keys = py.detach(|| a.changed_keys(b)).py()?;
        keys.map(|ks| {
            PySet::new(
                py,
                ks.iter()
                    .map(|k| key_to_py(py, k))
                    .collect::<PyResult<Vec<_>>>()?,
            )
        })
        .transpose()
    }

    fn __richcmp__(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        op: CompareOp,
    ) -> PyResult<Py<PyAny>> {
        let Ok(other) = other.cast::<PyState>() else {
            return Ok(py.NotImplemented());
        };
        let other = other.borrow();
        let (a, b) = (&self.s, &other.s);
        let same = py.detach(|| a.same(b)).py()?;
        Ok(match op {
            CompareOp::Eq => same.into_pyobject(py)?.to_owned().into_any().unbind(),
            CompareOp::Ne => (!same).into_pyobject(py)?.to_owned().into_any().unbind(),
            _ => py.NotImplemented(),
        })
    }

    fn __repr__(&self) -> String {
        let t = &self.s.tables;
        format!(
            "State(seq={}, tasks={}, locks={}, victims={}, anomalies={})",
            self.s.seq.map_or("None".to_string(), |s| s.to_string()),
            t[0].len(),
            t[2].len(),
            t[7].len(),
            t[8].len()
        )
    }
}

impl PyTable {
    fn key(&self, key: &Bound<'_, PyAny>) -> PyResult<Option<Key>> {
        key_from_py(self.t, key)
    }
}

#[pymethods]
impl PyTable {
    #[pyo3(signature = (key, default=None))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let none = || default.clone().unwrap_or_else(|| py.None().into_bound(py));
        let Some(k) = self.key(key)? else {
            return Ok(none());
        };
        let state = self.state.borrow(py);
        let rec = {
            let tbl = &state.s.tables[self.t];
            py.detach(|| tbl.get(&k))
        }
        .py()?;
        match rec {
            Some(r) => record_to_py(py, self.t, &r),
            None => Ok(none()),
        }
    }

    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let missing = || PyKeyError::new_err(key.clone().unbind());
        let k = self.key(key)?.ok_or_else(missing)?;
        let state = self.state.borrow(py);
        let rec = {
            let tbl = &state.s.tables[self.t];
            py.detach(|| tbl.get(&k))
        }
        .py()?;
        record_to_py(py, self.t, &rec.ok_or_else(missing)?)
    }

    fn __contains__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        let Some(k) = self.key(key)? else {
            return Ok(false);
        };
        let state = self.state.borrow(py);
        {
            let tbl = &state.s.tables[self.t];
            py.detach(|| tbl.contains(&k))
        }
        .py()
    }

    fn __len__(&self, py: Python<'_>) -> usize {
        self.state.borrow(py).s.tables[self.t].len()
    }

    fn __bool__(&self, py: Python<'_>) -> bool {
        self.__len__(py) > 0
    }

    /// Keys in order.
    fn keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let state = self.state.borrow(py);
        let keys = {
            let tbl = &state.s.tables[self.t];
            py.detach(|| tbl.keys())
        }
        .py()?;
        PyList::new(
            py,
            keys.iter()
                .map(|k| key_to_py(py, k))
                .collect::<PyResult<Vec<_>>>()?,
        )
    }

    /// Records in key order, so every view of a state lists things the same way.
    fn values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let state = self.state.borrow(py);
        let recs = {
            let tbl = &state.s.tables[self.t];
            py.detach(|| tbl.values())
        }
        .py()?;
        PyList::new(
            py,
            recs.iter()
                .map(|r| record_to_py(py, self.t, r))
                .collect::<PyResult<Vec<_>>>()?,
        )
    }

    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let state = self.state.borrow(py);
        let items = {
            let tbl = &state.s.tables[self.t];
            py.detach(|| tbl.items())
        }
        .py()?;
        let pairs = items
            .iter()
            .map(|(k, r)| Ok((key_to_py(py, k)?, record_to_py(py, self.t, r)?)))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, pairs)
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.keys(py)?.as_any().try_iter()?.into_any())
    }

    fn __richcmp__(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        op: CompareOp,
    ) -> PyResult<Py<PyAny>> {
        let Ok(other) = other.cast::<PyTable>() else {
            return Ok(py.NotImplemented());
        };
        let other = other.borrow();
        let (a, b) = (self.state.borrow(py), other.state.borrow(py));
        let (x, y) = (&a.s.tables[self.t], &b.s.tables[other.t]);
        let same = self.t == other.t && py.detach(|| x.same(y)).py()?;
        Ok(match op {
            CompareOp::Eq => same.into_pyobject(py)?.to_owned().into_any().unbind(),
            CompareOp::Ne => (!same).into_pyobject(py)?.to_owned().into_any().unbind(),
            _ => py.NotImplemented(),
        })
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Table({} entries of {})",
            self.__len__(py),
            TABLES[self.t].0
        )
    }
}

/// The state after `event`; `state` itself is left unchanged.
#[pyfunction(name = "apply")]
pub fn py_apply(
    py: Python<'_>,
    state: &Bound<'_, PyState>,
    event: &Bound<'_, PyEvent>,
) -> PyResult<PyState> {
    let ev = event.borrow().synced(py)?;
    let mut s = state.borrow().s.clone();
    py.detach(|| apply(&mut s, &Ev::of(&ev))).py()?;
    Ok(PyState { s })
}

/// Apply one event, given as its parts, to `state` in place.
#[pyfunction]
#[pyo3(signature = (state, seq, ts, kind, pid, fields, inferred))]
pub fn apply_fields(
    py: Python<'_>,
    state: &Bound<'_, PyState>,
    seq: Option<i64>,
    ts: &Bound<'_, PyAny>,
    kind: &Bound<'_, PyAny>,
    pid: Option<i64>,
    fields: &Bound<'_, PyAny>,
    inferred: &Bound<'_, PyAny>,
) -> PyResult<()> {
    let ev = PyEvent::new_from_parts(ts, kind, pid, fields, inferred, seq)?;
    let mut st = state.borrow_mut();
    let s = &mut st.s;
    py.detach(|| apply(s, &Ev::of(&ev))).py()
}

/// The table names, in the stored order.
pub fn table_names() -> Vec<&'static str> {
    TABLES.iter().map(|(n, _, _)| *n).collect::<Vec<_>>()[..N_TABLES].to_vec()
}
