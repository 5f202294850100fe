//! `Event`: one thing that happened, `(ts_ns, kind, pid, fields, src)` plus its `seq` once stored.
//!
//! The values live in the core's `Event`; `fields` is a dict made when first read and kept, and from then on it is
//! what the event says (code that completes an event in place, `ev.fields["comm"] = …`, is seen by the writer).

use oomreplay_core::model::schema::{fields_of, kind_id, kind_name};
use oomreplay_core::model::value::{Str, Value};
use oomreplay_core::model::Event;
use pyo3::basic::CompareOp;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFrozenSet, PyString, PyTuple};

use crate::convert::{from_py, src_to_py, to_py};

#[pyclass(name = "Event", module = "oomreplay.model", subclass)]
pub struct PyEvent {
    pub ev: Event,
    fields: Option<Py<PyDict>>,
}

fn kind_of(kind: &Bound<'_, PyAny>) -> PyResult<u8> {
    let Ok(name) = kind.extract::<String>() else {
        return Err(PyValueError::new_err(format!(
            "unknown event kind {}",
            kind.repr()?
        )));
    };
    kind_id(&name).ok_or_else(|| PyValueError::new_err(format!("unknown event kind '{name}'")))
}

/// Fields into the event's columns and extras; unsaid (None) fields are dropped.
fn set_fields(ev: &mut Event, fields: &Bound<'_, PyAny>) -> PyResult<()> {
    ev.values = vec![Value::Nil; fields_of(ev.kind).len()];
    ev.extra.clear();
    if fields.is_none() {
        return Ok(());
    }
    let items = match fields.cast::<PyDict>() {
        Ok(d) => d.items(),
        Err(_) => fields
            .call_method0("items")?
            .try_iter()?
            .collect::<PyResult<Vec<_>>>()
            .map(|v| pyo3::types::PyList::new(fields.py(), v))??,
    };
    for item in items.iter() {
        let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
        let name = k
            .cast::<PyString>()
            .map_err(|_| PyValueError::new_err("field names must be strings"))?
            .to_str()?
            .to_owned();
        let value = from_py(&v).map_err(|e| PyValueError::new_err(format!("field {name}: {e}")))?;
        if !value.is_nil() {
            ev.set(&name, value);
        }
    }
    Ok(())
}

fn set_src(ev: &mut Event, src: &Bound<'_, PyAny>) -> PyResult<()> {
    ev.src = if src.is_none() {
        None
    } else {
        Some(src.extract::<(i64, i64)>()?)
    };
    Ok(())
}

fn set_inferred(ev: &mut Event, inferred: &Bound<'_, PyAny>) -> PyResult<()> {
    let mut names = Vec::new();
    if !inferred.is_none() {
        for x in inferred.try_iter()? {
            names.push(Str::from(x?.extract::<String>()?));
        }
    }
    ev.set_inferred(names);
    Ok(())
}

impl PyEvent {
    /// A core event from its parts as `apply_fields` takes them.
    pub fn new_from_parts(
        ts: &Bound<'_, PyAny>,
        kind: &Bound<'_, PyAny>,
        pid: Option<i64>,
        fields: &Bound<'_, PyAny>,
        inferred: &Bound<'_, PyAny>,
        seq: Option<i64>,
    ) -> PyResult<Event> {
        Ok(PyEvent::build(ts, kind, pid, Some(fields), None, Some(inferred), seq)?.ev)
    }

    pub fn wrap(ev: Event) -> PyEvent {
        PyEvent { ev, fields: None }
    }

    /// The event as the core holds it, its fields taken from the dict when that was read (and maybe changed).
    pub fn synced(&self, py: Python<'_>) -> PyResult<Event> {
        let mut ev = self.ev.clone();
        if let Some(d) = &self.fields {
            set_fields(&mut ev, d.bind(py).as_any())?;
        }
        Ok(ev)
    }

    fn build(
        ts_ns: &Bound<'_, PyAny>,
        kind: &Bound<'_, PyAny>,
        pid: Option<i64>,
        fields: Option<&Bound<'_, PyAny>>,
        src: Option<&Bound<'_, PyAny>>,
        inferred: Option<&Bound<'_, PyAny>>,
        seq: Option<i64>,
    ) -> PyResult<PyEvent> {
        let ts: i64 = match ts_ns.extract::<i64>() {
            Ok(t) => t,
            Err(_) => ts_ns.call_method0("__int__")?.extract()?,
        };
        let mut ev = Event::new(ts, kind_of(kind)?, pid);
        if let Some(f) = fields {
            set_fields(&mut ev, f)?;
        }
        if let Some(s) = src {
            set_src(&mut ev, s)?;
        }
        if let Some(i) = inferred {
            set_inferred(&mut ev, i)?;
        }
        ev.seq = seq;
        Ok(PyEvent::wrap(ev))
    }
}

#[pymethods]
impl PyEvent {
    #[new]
    #[pyo3(signature = (ts_ns, kind, pid=None, fields=None, src=None, inferred=None, seq=None))]
    fn new(
        ts_ns: &Bound<'_, PyAny>,
        kind: &Bound<'_, PyAny>,
        pid: Option<i64>,
        fields: Option<&Bound<'_, PyAny>>,
        src: Option<&Bound<'_, PyAny>>,
        inferred: Option<&Bound<'_, PyAny>>,
        seq: Option<i64>,
    ) -> PyResult<PyEvent> {
        PyEvent::build(ts_ns, kind, pid, fields, src, inferred, seq)
    }

    /// The constructor for converters that make an event per line they read: the same event, named so that the
    /// places that build many of them say so.
    #[staticmethod]
    #[pyo3(signature = (ts_ns, kind, pid=None, fields=None, src=None, inferred=None, seq=None))]
    fn unchecked(
        ts_ns: &Bound<'_, PyAny>,
        kind: &Bound<'_, PyAny>,
        pid: Option<i64>,
        fields: Option<&Bound<'_, PyAny>>,
        src: Option<&Bound<'_, PyAny>>,
        inferred: Option<&Bound<'_, PyAny>>,
        seq: Option<i64>,
    ) -> PyResult<PyEvent> {
        PyEvent::build(ts_ns, kind, pid, fields, src, inferred, seq)
    }

    #[getter]
    fn ts_ns(&self) -> i64 {
        self.ev.ts_ns
    }

    #[setter]
    fn set_ts_ns(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.ev.ts_ns = match v.extract::<i64>() {
            Ok(t) => t,
            Err(_) => v.call_method0("__int__")?.extract()?,
        };
        Ok(())
    }

    #[getter]
    fn kind(&self) -> &'static str {
        kind_name(self.ev.kind)
    }

    #[setter]
    fn set_kind(&mut self, py: Python<'_>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        let fields = self.fields(py)?;
        self.ev.kind = kind_of(v)?;
        set_fields(&mut self.ev, fields.bind(py).as_any())
    }

    #[getter]
    fn pid(&self) -> Option<i64> {
        self.ev.pid
    }

    #[setter]
    fn set_pid(&mut self, v: Option<i64>) {
        self.ev.pid = v;
    }

    #[getter]
    fn seq(&self) -> Option<i64> {
        self.ev.seq
    }

    #[setter]
    fn set_seq(&mut self, v: Option<i64>) {
        self.ev.seq = v;
    }

    #[getter]
    fn src<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        src_to_py(py, self.ev.src)
    }

    #[setter]
    fn set_src(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        set_src(&mut self.ev, v)
    }

    #[getter]
    fn inferred<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyFrozenSet>> {
        PyFrozenSet::new(py, self.ev.inferred.iter().map(|s| &**s))
    }

    #[setter]
    fn set_inferred(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        set_inferred(&mut self.ev, v)
    }

    /// The said fields as a dict (schema order, then the extras); the same dict every time.
    #[getter]
    fn fields(&mut self, py: Python<'_>) -> PyResult<Py<PyDict>> {
        if let Some(d) = &self.fields {
            return Ok(d.clone_ref(py));
        }
        let d = PyDict::new(py);
        for (k, v) in self.ev.fields() {
            d.set_item(k, to_py(py, v)?)?;
        }
        let d = d.unbind();
        self.fields = Some(d.clone_ref(py));
        Ok(d)
    }

    #[setter]
    fn set_fields(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.fields = None;
        set_fields(&mut self.ev, v)
    }

    /// A field's value, or `default` when the event does not carry it.
    #[pyo3(signature = (name, default=None))]
    fn get<'py>(
        &mut self,
        py: Python<'py>,
        name: &str,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if let Some(d) = &self.fields {
            return Ok(match d.bind(py).get_item(name)? {
                Some(v) => v,
                None => default.unwrap_or_else(|| py.None().into_bound(py)),
            });
        }
        let v = self.ev.get(name);
        if v.is_nil() {
            return Ok(default.unwrap_or_else(|| py.None().into_bound(py)));
        }
        to_py(py, v)
    }

    /// The JSON shape shared by `oomreplay events --format jsonl` and exports.
    fn to_dict<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        out.set_item("seq", self.ev.seq)?;
        out.set_item("ts_ns", self.ev.ts_ns)?;
        out.set_item("kind", kind_name(self.ev.kind))?;
        out.set_item("pid", self.ev.pid)?;
        out.set_item("fields", self.fields(py)?)?;
        if !self.ev.inferred.is_empty() {
            out.set_item(
                "inferred",
                self.ev
                    .inferred
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>(),
            )?;
        }
        if let Some((f, l)) = self.ev.src {
            let src = PyDict::new(py);
            src.set_item("file", f)?;
            src.set_item("line", l)?;
            out.set_item("src", src)?;
        }
        Ok(out)
    }

    fn __richcmp__(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        op: CompareOp,
    ) -> PyResult<Py<PyAny>> {
        let Ok(other) = other.cast::<PyEvent>() else {
            return Ok(py.NotImplemented());
        };
        let (a, b) = (self.synced(py)?, other.borrow().synced(py)?);
        let same = a.ts_ns == b.ts_ns
            && a.kind == b.kind
            && a.pid == b.pid
            && a.values == b.values
            && same_extras(&a, &b)
            && a.src == b.src
            && a.inferred == b.inferred;
        match op {
            CompareOp::Eq => Ok(same.into_pyobject(py)?.to_owned().into_any().unbind()),
            CompareOp::Ne => Ok((!same).into_pyobject(py)?.to_owned().into_any().unbind()),
            _ => Ok(py.NotImplemented()),
        }
    }

    fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
        PyTuple::new(
            py,
            [
                self.ev.ts_ns.into_pyobject(py)?.into_any(),
                kind_name(self.ev.kind).into_pyobject(py)?.into_any(),
                self.ev.pid.into_pyobject(py)?.into_any(),
            ],
        )?
        .hash()
    }

    fn __repr__(&mut self, py: Python<'_>) -> PyResult<String> {
        let seq = self.ev.seq.map_or(String::new(), |s| format!("#{s} "));
        let pid = self.ev.pid.map_or("None".to_string(), |p| p.to_string());
        let fields = self.fields(py)?.bind(py).repr()?.to_string();
        Ok(format!(
            "Event({seq}{}ns {} pid={pid} {fields})",
            self.ev.ts_ns,
            kind_name(self.ev.kind)
        ))
    }

    fn __reduce__<'py>(
        &mut self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let cls = py.get_type::<PyEvent>().into_any();
        let args = PyTuple::new(
            py,
            [
                self.ev.ts_ns.into_pyobject(py)?.into_any(),
                kind_name(self.ev.kind).into_pyobject(py)?.into_any(),
                self.ev.pid.into_pyobject(py)?.into_any(),
                self.fields(py)?.into_bound(py).into_any(),
                self.ev.src.into_pyobject(py)?.into_any(),
                PyTuple::new(py, self.ev.inferred.iter().map(|s| &**s))?.into_any(),
                self.ev.seq.into_pyobject(py)?.into_any(),
            ],
        )?;
        Ok((cls, args))
    }
}

fn same_extras(a: &Event, b: &Event) -> bool {
    a.extra.len() == b.extra.len()
        && a.extra
            .iter()
            .all(|(k, v)| b.extra.iter().any(|(k2, v2)| k == k2 && v == v2))
}

/// Events of the core as Python objects.
pub fn events_to_py(py: Python<'_>, events: Vec<Event>) -> PyResult<Vec<Py<PyEvent>>> {
    events
        .into_iter()
        .map(|e| Py::new(py, PyEvent::wrap(e)))
        .collect()
}
