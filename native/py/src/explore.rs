//! `_native.explore(program, max_states, reduce)`: the core's search over a scenario's interleavings. The
//! program arrives as the plain dicts and tuples `oomreplay.explore.program` builds (names already resolved and
//! checked there); the report goes back as dicts, each witness move with its events as `Event`s.

use std::panic::{catch_unwind, AssertUnwindSafe};

use oomreplay_core::explore::program::{
    Actor, Candidate, Cond, Ending, FlagOp, Holder, Level, LockRef, Op, Program, ReaperRules,
    Reserve, Retry, Rules, Step,
};
use oomreplay_core::explore::{explore as search, Report, Who};
use oomreplay_core::model::table::Key;
use oomreplay_core::model::value::Str;
use oomreplay_core::model::Event;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::convert::{from_py, OrPy};
use crate::event::{events_to_py, PyEvent};

fn bad(what: &str) -> PyErr {
    PyValueError::new_err(format!("explore program: {what}"))
}

fn item<'py>(d: &Bound<'py, PyAny>, key: &str) -> PyResult<Bound<'py, PyAny>> {
    d.get_item(key).map_err(|_| bad(&format!("no {key:?}")))
}

fn opt<'py, T: FromPyObjectOwned<'py>>(d: &Bound<'py, PyAny>, key: &str) -> PyResult<Option<T>> {
    let v = item(d, key)?;
    if v.is_none() {
        return Ok(None);
    }
    v.extract()
        .map(Some)
        .map_err(|e| bad(&format!("{key}: {}", Into::<PyErr>::into(e))))
}

fn req<'py, T: FromPyObjectOwned<'py>>(d: &Bound<'py, PyAny>, key: &str) -> PyResult<T> {
    opt(d, key)?.ok_or_else(|| bad(&format!("{key} is None")))
}

fn events(py: Python<'_>, v: &Bound<'_, PyAny>) -> PyResult<Vec<Event>> {
    let mut out = Vec::new();
    for e in v.try_iter()? {
        let mut ev = e?.cast::<PyEvent>()?.borrow().synced(py)?;
        ev.seq = None;
        ev.ts_ns = 0;
        out.push(ev);
    }
    Ok(out)
}

fn zone(v: Option<(i64, String)>) -> Option<Key> {
    v.map(|(n, z)| Key::Zone(n, Str::from(z)))
}

fn level(s: &str) -> PyResult<Level> {
    match s {
        "min" => Ok(Level::Min),
        "low" => Ok(Level::Low),
        "high" => Ok(Level::High),
        _ => Err(bad(&format!("unknown watermark {s:?}"))),
    }
}

fn reserve(v: &Bound<'_, PyAny>) -> PyResult<Reserve> {
    if v.is_none() {
        return Ok(Reserve::None);
    }
    let (n, d): (i64, i64) = v.extract()?;
    if d <= 0 || n < 0 {
        return Err(bad("a reserve is a fraction n/d"));
    }
    Ok(Reserve::Frac(n, d))
}

fn lock(d: &Bound<'_, PyAny>) -> PyResult<LockRef> {
    Ok(LockRef {
        name: Str::from(req::<String>(d, "lock")?),
        mm: opt(d, "mm")?,
    })
}

fn cond(d: &Bound<'_, PyAny>) -> PyResult<Cond> {
    let kind: String = req(d, "if")?;
    Ok(match kind.as_str() {
        "alloc" => Cond::Alloc {
            pid: req(d, "pid")?,
            outcome: Str::from(req::<String>(d, "outcome")?),
        },
        "flag" => Cond::Flag {
            mm: opt(d, "mm")?,
            pid: opt(d, "pid")?,
            flag: Str::from(req::<String>(d, "flag")?),
            set: req(d, "set")?,
        },
        "lock" => {
            let h = item(d, "holder")?;
            let holder = match h.extract::<String>() {
                Ok(s) if s == "nobody" => Holder::Nobody,
                Ok(s) if s == "anyone" => Holder::Anyone,
                Ok(s) => return Err(bad(&format!("unknown holder {s:?}"))),
                Err(_) => Holder::Pid(h.extract()?),
            };
            Cond::Lock {
                lock: Str::from(req::<String>(d, "lock")?),
                holder,
            }
        }
        "zone" => Cond::Zone {
            zone: zone(opt(d, "zone")?).ok_or_else(|| bad("a zone guard needs a zone"))?,
            level: level(&req::<String>(d, "level")?)?,
            above: req(d, "above")?,
        },
        "victim" => Cond::Victim {
            pid: req(d, "pid")?,
            status: Str::from(req::<String>(d, "status")?),
        },
        other => return Err(bad(&format!("unknown guard {other:?}"))),
    })
}

fn op(py: Python<'_>, d: &Bound<'_, PyAny>) -> PyResult<Op> {
    let name: String = req(d, "op")?;
    Ok(match name.as_str() {
        "emit" => Op::Emit(events(py, &item(d, "events")?)?),
        "take" => Op::Take {
            pid: req(d, "pid")?,
            lock: lock(d)?,
            write: req(d, "write")?,
            site: from_py(&item(d, "site")?)?,
        },
        "release" => Op::Release {
            pid: req(d, "pid")?,
            lock: lock(d)?,
        },
        "alloc" => Op::Alloc {
            pid: req(d, "pid")?,
            order: req(d, "order")?,
            gfp: from_py(&item(d, "gfp")?)?,
            outcome: opt::<String>(d, "outcome")?.map(Str::from),
            level: level(&req::<String>(d, "level")?)?,
            reserve: reserve(&item(d, "reserve")?)?,
            zone: zone(opt(d, "zone")?),
            then: events(py, &item(d, "then")?)?,
        },
        "kill" => {
            let r = item(d, "retry")?;
            let retry = if r.is_none() {
                None
            } else {
                Some(Retry {
                    pid: req(&r, "pid")?,
                    order: req(&r, "order")?,
                    gfp: from_py(&item(&r, "gfp")?)?,
                    level: level(&req::<String>(&r, "level")?)?,
                    reserve: reserve(&item(&r, "reserve")?)?,
                })
            };
            Op::Kill {
                victim: opt(d, "victim")?,
                points: from_py(&item(d, "points")?)?,
                retry,
            }
        }
        "done" => Op::Done,
        other => return Err(bad(&format!("unknown step {other:?}"))),
    })
}

fn flag_ops(v: &Bound<'_, PyAny>) -> PyResult<Vec<FlagOp>> {
    let ops: Vec<(String, bool, bool)> = v.extract()?;
    Ok(ops
        .into_iter()
        .map(|(flag, on, mm)| FlagOp {
            flag: Str::from(flag),
            on,
            mm,
        })
        .collect())
}

fn rules(d: &Bound<'_, PyAny>) -> PyResult<Rules> {
    let r = item(d, "reaper")?;
    let reaper = if r.is_none() {
        None
    } else {
        Some(ReaperRules {
            oom_lock: opt::<String>(&r, "oom_lock")?.map(Str::from),
            queued_flag: opt::<String>(&r, "queued_flag")?.map(Str::from),
            timer: req(&r, "timer")?,
            on_reaped: flag_ops(&item(&r, "on_reaped")?)?,
            on_unable: flag_ops(&item(&r, "on_unable")?)?,
            zone: zone(opt(&r, "zone")?),
        })
    };
    let ending = match req::<String>(d, "ending")?.as_str() {
        "exit" => Ending::Exit,
        "reaped" => Ending::Reaped,
        "reaper_done" => Ending::ReaperDone,
        "oom_skip" => Ending::OomSkip,
        other => return Err(bad(&format!("unknown ending {other:?}"))),
    };
    let (outcome, reason): (String, String) = req(d, "no_killable")?;
    let mm_locks: Vec<String> = req(d, "mm_locks")?;
    Ok(Rules {
        reaper,
        ending,
        skip_flag: opt::<String>(d, "skip_flag")?.map(Str::from),
        on_kill: flag_ops(&item(d, "on_kill")?)?,
        no_killable: (Str::from(outcome), Str::from(reason)),
        victim_reserve: reserve(&item(d, "victim_reserve")?)?,
        mm_locks: mm_locks.into_iter().map(Str::from).collect(),
    })
}

fn program(py: Python<'_>, d: &Bound<'_, PyAny>) -> PyResult<Program> {
    let mut actors = Vec::new();
    for a in item(d, "actors")?.try_iter()? {
        let a = a?;
        let mut steps = Vec::new();
        for s in item(&a, "steps")?.try_iter()? {
            let s = s?;
            let guard = item(&s, "guard")?
                .try_iter()?
                .map(|c| cond(&c?))
                .collect::<PyResult<_>>()?;
            steps.push(Step {
                op: op(py, &s)?,
                guard,
            });
        }
        actors.push(Actor {
            name: req(&a, "name")?,
            pid: opt(&a, "pid")?,
            steps,
        });
    }
    let candidates: Vec<(i64, i64)> = req(d, "candidates")?;
    let zones: Vec<(i64, String)> = req(d, "zones")?;
    Ok(Program {
        init: events(py, &item(d, "init")?)?,
        actors,
        candidates: candidates
            .into_iter()
            .map(|(pid, points)| Candidate { pid, points })
            .collect(),
        rss_kb: req(d, "rss_kb")?,
        zones: zones
            .into_iter()
            .map(|z| zone(Some(z)).expect("some"))
            .collect(),
        rules: rules(&item(d, "rules")?)?,
    })
}

fn report<'py>(py: Python<'py>, r: Report) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("states", r.states)?;
    out.set_item("transitions", r.transitions)?;
    out.set_item("paths", r.paths)?;
    out.set_item("exhaustive", r.exhaustive)?;
    out.set_item("seconds", r.seconds)?;
    let classes = PyList::empty(py);
    for c in r.classes {
        let d = PyDict::new(py);
        let o = &c.outcome;
        d.set_item("victims", o.victims.clone())?;
        d.set_item("kills", o.kills)?;
        d.set_item("needless", o.needless)?;
        d.set_item("blocked", o.blocked.clone())?;
        d.set_item("reaper_stuck", o.reaper_stuck)?;
        d.set_item("anomaly", c.anomaly.clone())?;
        d.set_item("panic", o.panic)?;
        d.set_item("terminals", c.terminals)?;
        d.set_item("paths", c.paths)?;
        let witness = PyList::empty(py);
        for w in c.witness {
            let m = PyDict::new(py);
            m.set_item(
                "actor",
                match w.who {
                    Who::Actor(i) => Some(i),
                    Who::Reaper => None,
                },
            )?;
            m.set_item("what", w.what)?;
            m.set_item("step", w.step)?;
            m.set_item("victim", w.victim)?;
            m.set_item("events", events_to_py(py, w.events)?)?;
            witness.append(m)?;
        }
        d.set_item("witness", witness)?;
        classes.append(d)?;
    }
    out.set_item("classes", classes)?;
    Ok(out)
}

/// Every outcome class of `program`'s interleavings, each with a shortest witness (see `oomreplay.explore`).
#[pyfunction]
#[pyo3(signature = (program, max_states, reduce=true))]
pub fn explore<'py>(
    py: Python<'py>,
    program: &Bound<'py, PyAny>,
    max_states: usize,
    reduce: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let prog = self::program(py, program)?;
    let result = py.detach(|| catch_unwind(AssertUnwindSafe(|| search(&prog, max_states, reduce))));
    match result {
        Ok(r) => report(py, r.py()?),
        Err(_) => Err(PyRuntimeError::new_err(
            "explore: internal error in the search (a bug: please report it)",
        )),
    }
}
