//! Values between Python and the core: field values, table keys, and state records as the Python face's
//! NamedTuples (registered by `oomreplay.model` at import).

use std::sync::Arc;

use oomreplay_core::model::state::{RecordType, HOLDER, RECORDS, TABLES, T_LOCKS};
use oomreplay_core::model::table::{Key, Paging, Rec};
use oomreplay_core::model::value::{Str, Value};
use oomreplay_core::Error;
use pyo3::exceptions::{PyIndexError, PyOSError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyBytes, PyDict, PyFloat, PyFrozenSet, PyInt, PyList, PySet, PyString, PyTuple,
};

use crate::{InputError, TraceError, TraceTruncated, TraceVersionError};

/// The core's error as the project's Python exception of the same meaning.
pub fn err(e: Error) -> PyErr {
    match e {
        Error::Trace(m) => TraceError::new_err(m),
        Error::Version(m) => TraceVersionError::new_err(m),
        Error::Truncated(m) => TraceTruncated::new_err(m),
        Error::Value(m) => PyValueError::new_err(m),
        Error::Input(m) => InputError::new_err(m),
        Error::Io(e) => PyOSError::new_err(e.to_string()),
    }
}

pub trait OrPy<T> {
    fn py(self) -> PyResult<T>;
}

impl<T> OrPy<T> for oomreplay_core::Result<T> {
    fn py(self) -> PyResult<T> {
        self.map_err(err)
    }
}

pub fn index_error(msg: String) -> PyErr {
    PyIndexError::new_err(msg)
}

pub fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Nil => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Int(i) => i.into_pyobject(py)?.into_any(),
        Value::UInt(u) => u.into_pyobject(py)?.into_any(),
        Value::Float(f) => PyFloat::new(py, *f).into_any(),
        Value::Str(s) => PyString::new(py, s).into_any(),
        Value::Bin(b) => PyBytes::new(py, b).into_any(),
        Value::List(l) => PyTuple::new(
            py,
            l.iter()
                .map(|x| to_py(py, x))
                .collect::<PyResult<Vec<_>>>()?,
        )?
        .into_any(),
        Value::Map(m) => {
            let d = PyDict::new(py);
            for (k, x) in m.iter() {
                d.set_item(to_py(py, k)?, to_py(py, x)?)?;
            }
            d.into_any()
        }
    })
}

/// A Python value as a field value; None is Nil, lists and tuples are lists, sets are sorted lists.
pub fn from_py(o: &Bound<'_, PyAny>) -> PyResult<Value> {
    from_py_at(o, 0)
}

fn from_py_at(o: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if depth > 32 {
        return Err(PyValueError::new_err("a value nested too deeply"));
    }
    if o.is_none() {
        return Ok(Value::Nil);
    }
    if let Ok(s) = o.cast::<PyString>() {
        return Ok(Value::Str(Str::from(s.to_str()?)));
    }
    if let Ok(b) = o.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if o.is_instance_of::<PyInt>() {
        if let Ok(i) = o.extract::<i64>() {
            return Ok(Value::Int(i));
        }
        if let Ok(u) = o.extract::<u64>() {
            return Ok(Value::UInt(u));
        }
        return Err(PyValueError::new_err(format!(
            "the integer {} does not fit 64 bits",
            o.repr()?
        )));
    }
    if let Ok(f) = o.cast::<PyFloat>() {
        return Ok(Value::Float(f.value()));
    }
    if let Ok(t) = o.cast::<PyTuple>() {
        return Ok(Value::List(Arc::from(
            t.iter()
                .map(|x| from_py_at(&x, depth + 1))
                .collect::<PyResult<Vec<_>>>()?,
        )));
    }
    if let Ok(l) = o.cast::<PyList>() {
        return Ok(Value::List(Arc::from(
            l.iter()
                .map(|x| from_py_at(&x, depth + 1))
                .collect::<PyResult<Vec<_>>>()?,
        )));
    }
    if let Ok(b) = o.cast::<PyBytes>() {
        return Ok(Value::Bin(Arc::from(b.as_bytes())));
    }
    if let Ok(d) = o.cast::<PyDict>() {
        let mut items = Vec::with_capacity(d.len());
        for (k, v) in d.iter() {
            items.push((from_py_at(&k, depth + 1)?, from_py_at(&v, depth + 1)?));
        }
        return Ok(Value::Map(Arc::from(items)));
    }
    if o.is_instance_of::<PyFrozenSet>() || o.is_instance_of::<PySet>() {
        let mut items = o
            .try_iter()?
            .map(|x| from_py_at(&x?, depth + 1))
            .collect::<PyResult<Vec<_>>>()?;
        items.sort();
        return Ok(Value::List(Arc::from(items)));
    }
    Err(PyTypeError::new_err(format!(
        "a field value of type {} cannot be stored",
        o.get_type().name()?
    )))
}

/// A Python key as the key of table `t`.
pub fn key_from_py(t: usize, o: &Bound<'_, PyAny>) -> PyResult<Option<Key>> {
    Ok(match TABLES[t].2 {
        Paging::Int => o.extract::<i64>().ok().map(Key::Int),
        Paging::Str => o
            .cast::<PyString>()
            .ok()
            .map(|s| s.to_str().map(|s| Key::Str(Str::from(s))))
            .transpose()?,
        Paging::Tuple => match o.extract::<(i64, String)>() {
            Ok((n, z)) => Some(Key::Zone(n, Str::from(z))),
            Err(_) => None,
        },
    })
}

pub fn key_to_py<'py>(py: Python<'py>, k: &Key) -> PyResult<Bound<'py, PyAny>> {
    to_py(py, &k.value())
}

/// The NamedTuple classes of the Python face, by record name.
static RECORD_TYPES: PyOnceLock<Vec<Py<PyAny>>> = PyOnceLock::new();
static TUPLE_NEW: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static SRC: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// `register_records({"Task": Task, …}, Src)`: the Python face's record classes, checked field by field.
#[pyfunction]
pub fn register_records(
    py: Python<'_>,
    classes: &Bound<'_, PyDict>,
    src: &Bound<'_, PyAny>,
) -> PyResult<()> {
    let mut out = Vec::with_capacity(RECORDS.len());
    for rt in RECORDS {
        let cls = classes
            .get_item(rt.name)?
            .ok_or_else(|| PyValueError::new_err(format!("no class for {}", rt.name)))?;
        let fields: Vec<String> = cls.getattr("_fields")?.extract()?;
        if fields != rt.fields {
            return Err(PyValueError::new_err(format!(
                "{} has fields {fields:?}, the core {:?}",
                rt.name, rt.fields
            )));
        }
        out.push(cls.unbind());
    }
    let _ = RECORD_TYPES.set(py, out);
    let _ = TUPLE_NEW.set(py, py.get_type::<PyTuple>().getattr("__new__")?.unbind());
    let _ = SRC.set(py, src.clone().unbind());
    Ok(())
}

fn record_class<'py>(py: Python<'py>, rt: &RecordType) -> PyResult<&'py Py<PyAny>> {
    let i = RECORDS.iter().position(|r| r.name == rt.name).unwrap();
    RECORD_TYPES.get(py).map(|v| &v[i]).ok_or_else(|| {
        PyValueError::new_err("oomreplay.model has not registered its record classes")
    })
}

/// `tuple.__new__(cls, values)`: a NamedTuple without its Python-level `__new__`.
pub fn make_record<'py>(
    py: Python<'py>,
    rt: &RecordType,
    values: Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyAny>> {
    let cls = record_class(py, rt)?;
    TUPLE_NEW
        .get(py)
        .unwrap()
        .bind(py)
        .call1((cls.bind(py), values))
}

/// A record of table `t` as its NamedTuple (a lock's holders and waiters as Holders).
pub fn record_to_py<'py>(py: Python<'py>, t: usize, r: &Rec) -> PyResult<Bound<'py, PyAny>> {
    let rt = TABLES[t].1;
    let mut items = Vec::with_capacity(r.len());
    for (i, v) in r.iter().enumerate() {
        if t == T_LOCKS && (i == 1 || i == 2) {
            let hs = v.as_list().unwrap_or(&[]);
            let holders = hs
                .iter()
                .map(|h| {
                    make_record(
                        py,
                        &HOLDER,
                        PyTuple::new(
                            py,
                            h.as_list()
                                .unwrap_or(&[])
                                .iter()
                                .map(|x| to_py(py, x))
                                .collect::<PyResult<Vec<_>>>()?,
                        )?,
                    )
                })
                .collect::<PyResult<Vec<_>>>()?;
            items.push(PyTuple::new(py, holders)?.into_any());
        } else {
            items.push(to_py(py, v)?);
        }
    }
    make_record(py, rt, PyTuple::new(py, items)?)
}

pub fn src_to_py<'py>(py: Python<'py>, src: Option<(i64, i64)>) -> PyResult<Bound<'py, PyAny>> {
    match src {
        None => Ok(py.None().into_bound(py)),
        Some((f, l)) => {
            let cls = SRC
                .get(py)
                .ok_or_else(|| PyValueError::new_err("oomreplay.model has not registered Src"))?;
            TUPLE_NEW
                .get(py)
                .unwrap()
                .bind(py)
                .call1((cls.bind(py), (f, l)))
        }
    }
}
