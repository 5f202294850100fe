//! `oomreplay._native`: the Python face of oomreplay-core (the event model and `apply`, the trace store, the
//! tokenizers). The `oomreplay` package wraps it; nothing else imports it.

mod convert;
mod converters;
mod event;
mod explore;
mod state;
mod trace;
mod writer;

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(
    oomreplay._native,
    TraceError,
    PyException,
    "A trace file that cannot be read as asked; the message names the file and the place."
);
create_exception!(
    oomreplay._native,
    TraceVersionError,
    TraceError,
    "The file was written by a newer oomreplay."
);
create_exception!(
    oomreplay._native,
    TraceTruncated,
    TraceError,
    "No valid trailer: the writer never finished."
);
create_exception!(
    oomreplay._native,
    InputError,
    PyException,
    "Input that cannot be converted: one line naming the file and the place."
);

/// `"mm"` or `"task"`: explicit when the event says, otherwise by the kernel's naming (MMF_ = mm_struct).
#[pyfunction]
#[pyo3(signature = (flag, target=None))]
fn flag_target(flag: &str, target: Option<&str>) -> &'static str {
    if oomreplay_core::model::schema::flag_is_mm(flag, target) {
        "mm"
    } else {
        "task"
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("TraceError", py.get_type::<TraceError>())?;
    m.add("TraceVersionError", py.get_type::<TraceVersionError>())?;
    m.add("TraceTruncated", py.get_type::<TraceTruncated>())?;
    m.add("InputError", py.get_type::<InputError>())?;
    m.add_class::<event::PyEvent>()?;
    m.add_class::<state::PyState>()?;
    m.add_class::<state::PyTable>()?;
    m.add_class::<trace::PyTrace>()?;
    m.add_class::<writer::PyWriter>()?;
    m.add_function(wrap_pyfunction!(state::py_apply, m)?)?;
    m.add_function(wrap_pyfunction!(state::apply_fields, m)?)?;
    m.add_function(wrap_pyfunction!(convert::register_records, m)?)?;
    m.add_function(wrap_pyfunction!(trace::verify, m)?)?;
    m.add_function(wrap_pyfunction!(trace::repair, m)?)?;
    m.add_function(wrap_pyfunction!(trace::is_trace, m)?)?;
    m.add("KINDS", trace::kinds())?;
    let records: Vec<(&str, Vec<&str>, usize)> = oomreplay_core::model::state::RECORDS
        .iter()
        .map(|r| (r.name, r.fields.to_vec(), r.required))
        .collect();
    m.add("RECORDS", records)?;
    m.add("TABLES", state::table_names())?;
    m.add(
        "FORMAT_VERSION",
        oomreplay_core::store::format::FORMAT_VERSION,
    )?;
    use oomreplay_core::model::schema as sch;
    m.add("MAX_OOM_REAP_RETRIES", sch::MAX_OOM_REAP_RETRIES)?;
    m.add("LOCK_MODES", sch::LOCK_MODES.to_vec())?;
    m.add("ALLOC_OUTCOMES", sch::ALLOC_OUTCOMES.to_vec())?;
    m.add(
        "REAPER_ATTEMPT_OUTCOMES",
        sch::REAPER_ATTEMPT_OUTCOMES.to_vec(),
    )?;
    m.add("REAPER_DONE_OUTCOMES", sch::REAPER_DONE_OUTCOMES.to_vec())?;
    m.add("OOM_END_OUTCOMES", sch::OOM_END_OUTCOMES.to_vec())?;
    m.add("OOM_END_REASONS", sch::OOM_END_REASONS.to_vec())?;
    m.add_function(wrap_pyfunction!(flag_target, m)?)?;
    m.add_function(wrap_pyfunction!(explore::explore, m)?)?;
    converters::register(m)?;
    Ok(())
}
