//! `apply(state, event)`: the one definition of what an event does, shared by every layer (the writer's
//! keyframes, the reader's replay, the scenario compiler, `oomreplay.apply`).
//!
//! Nothing here fails on odd input: a trace of a real incident is often incomplete (a log that starts
//! mid-incident, a lock released that we never saw taken), so the oddity is recorded as an `Anomaly` in the
//! state, where the views and the invariant checks can show it. The only errors are the store's (a page of a
//! damaged file that cannot be read).

use std::sync::Arc;

use super::event::Event;
use super::schema::{flag_is_mm, kind, kind_name};
use super::state::{f, record, State, ANOMALY, MM, TASK};
use super::state::{T_ANOMALIES, T_MMS, T_TASKS, T_VICTIMS};
use super::table::Key;
use super::value::{Str, Value};
use super::victims;
use super::{locks::*, memory::*, ooms::*};
use crate::error::Result;

/// One event as the handlers read it: its fields by position in the current schema.
pub struct Ev<'a> {
    pub seq: Option<i64>,
    pub ts: i64,
    pub kind: u8,
    pub pid: Option<i64>,
    pub vals: &'a [Value],
    pub inferred: &'a [Str],
}

impl<'a> Ev<'a> {
    pub fn of(e: &'a Event) -> Ev<'a> {
        Ev {
            seq: e.seq,
            ts: e.ts_ns,
            kind: e.kind,
            pid: e.pid,
            vals: &e.values,
            inferred: &e.inferred,
        }
    }

    #[inline]
    pub(super) fn v(&self, i: usize) -> &'a Value {
        static NIL: Value = Value::Nil;
        self.vals.get(i).unwrap_or(&NIL)
    }

    pub(super) fn inferred(&self, name: &str) -> bool {
        self.inferred.iter().any(|f| &**f == name)
    }
}

/// Apply one event to `s` in place.
pub fn apply(s: &mut State, e: &Ev) -> Result<()> {
    s.seq = e.seq;
    s.ts_ns = Some(e.ts);
    apply_only(s, e)
}

/// What `apply` does besides moving the state's position: for a caller applying many events, which sets the
/// position once after them (no handler reads it).
pub fn apply_only(s: &mut State, e: &Ev) -> Result<()> {
    match e.kind {
        kind::TASK => task_fields(
            s,
            e,
            &[
                (0, f::task::TGID),
                (1, f::task::COMM),
                (2, f::task::OOM_SCORE_ADJ),
            ],
        ),
        kind::TASK_STATE => task_fields(
            s,
            e,
            &[(0, f::task::STATE), (1, f::task::SITE), (2, f::task::COMM)],
        ),
        kind::TASK_EXIT => on_task_exit(s, e),
        kind::FORK => on_fork(s, e),
        kind::LOCK_ACQUIRE => on_lock_acquire(s, e),
        kind::LOCK_CONTENDED => on_lock_contended(s, e),
        kind::LOCK_RELEASE => on_lock_release(s, e),
        kind::LOCK_HELD => on_lock_held(s, e),
        kind::FLAG_SET => on_flag(s, e, true),
        kind::FLAG_CLEAR => on_flag(s, e, false),
        kind::ALLOC => on_alloc(s, e),
        kind::ZONE => on_zone(s, e),
        kind::MEMCG => on_memcg(s, e),
        kind::MEMINFO => on_meminfo(s, e),
        kind::RSS => task_fields(
            s,
            e,
            &[
                (0, f::task::ANON_KB),
                (1, f::task::FILE_KB),
                (2, f::task::SHMEM_KB),
            ],
        ),
        kind::OOM_INVOKE => on_oom_invoke(s, e),
        kind::OOM_CANDIDATE => on_oom_candidate(s, e),
        kind::OOM_KILL => victims::on_oom_kill(s, e),
        kind::OOM_VICTIM => victims::on_oom_victim(s, e),
        kind::OOM_END => on_oom_end(s, e),
        kind::REAPER_WAKE => victims::on_reaper_wake(s, e),
        kind::REAPER_ATTEMPT => victims::on_reaper_attempt(s, e),
        kind::REAPER_DONE => victims::on_reaper_done(s, e),
        _ => Ok(()),
    }
}

/// `{pid}` as the Python model wrote it.
pub(super) fn show(pid: Option<i64>) -> String {
    pid.map_or_else(|| "None".to_string(), |p| p.to_string())
}

pub(super) fn anomaly(s: &mut State, seq: Option<i64>, kind: &str, message: String) -> Result<()> {
    let n = s.tables[T_ANOMALIES].len() as i64;
    let rec = record(
        &ANOMALY,
        &[seq.into(), Value::str(kind), Value::Str(Str::from(message))],
    );
    s.set(T_ANOMALIES, Key::Int(n), rec)
}

pub(super) fn one_of(v: &Value, allowed: &[&str]) -> bool {
    v.as_str().is_some_and(|s| allowed.contains(&s))
}

pub(super) fn list(items: Vec<Value>) -> Value {
    Value::List(Arc::from(items))
}

pub(super) fn task_values(s: &State, pid: i64) -> Result<Vec<Value>> {
    Ok(match s.get(T_TASKS, &Key::Int(pid))? {
        Some(t) => t.to_vec(),
        None => record(&TASK, &[Value::Int(pid)]),
    })
}

/// Create or update a task: each said (not Nil) change, and `since` = this event.
pub(super) fn update_task(
    s: &mut State,
    seq: Option<i64>,
    pid: Option<i64>,
    changes: &[(usize, &Value)],
) -> Result<()> {
    let Some(pid) = pid else { return Ok(()) };
    let mut values = task_values(s, pid)?;
    for (i, v) in changes {
        if !v.is_nil() {
            values[*i] = (*v).clone();
        }
    }
    values[f::task::SINCE] = seq.into();
    s.set(T_TASKS, Key::Int(pid), values)
}

/// `update_task` with the event's field at each `(field, task field)` pair: the replay's hot path.
pub(super) fn task_fields(s: &mut State, e: &Ev, pairs: &[(usize, usize)]) -> Result<()> {
    let changes: Vec<(usize, &Value)> = pairs.iter().map(|&(from, to)| (to, e.v(from))).collect();
    update_task(s, e.seq, e.pid, &changes)
}

pub(super) fn on_task_exit(s: &mut State, e: &Ev) -> Result<()> {
    let (x, yes) = (Value::str("X"), Value::Bool(true));
    update_task(
        s,
        e.seq,
        e.pid,
        &[
            (f::task::STATE, &x),
            (f::task::EXITED, &yes),
            (f::task::COMM, e.v(1)),
        ],
    )?;
    if let Some(pid) = e.pid {
        if let Some(v) = s.get(T_VICTIMS, &Key::Int(pid))? {
            let mut v = v.to_vec();
            v[f::victim::EXITED] = Value::Bool(true);
            s.set(T_VICTIMS, Key::Int(pid), v)?;
        }
    }
    Ok(())
}

pub(super) fn on_fork(s: &mut State, e: &Ev) -> Result<()> {
    let Some(child) = e.v(0).as_int() else {
        return anomaly(
            s,
            e.seq,
            "fork",
            format!("fork by {} names no child", show(e.pid)),
        );
    };
    let parent_comm = match e.pid {
        Some(pid) => s
            .get(T_TASKS, &Key::Int(pid))?
            .map(|t| t[f::task::COMM].clone())
            .unwrap_or_default(),
        None => Value::Nil,
    };
    let comm = e.v(2).or(&parent_comm).clone();
    update_task(s, e.seq, e.pid, &[])?;
    let tgid = e.v(1).or(&Value::Int(child)).clone();
    let (r, no) = (Value::str("R"), Value::Bool(false));
    update_task(
        s,
        e.seq,
        Some(child),
        &[
            (f::task::TGID, &tgid),
            (f::task::COMM, &comm),
            (f::task::STATE, &r),
            (f::task::EXITED, &no),
        ],
    )
}

// -- locks ------------------------------------------------------------------------------------------------------

pub(super) fn names(v: &Value) -> Vec<Value> {
    v.as_list().map(|l| l.to_vec()).unwrap_or_default()
}

pub(super) fn with_flag(
    flags: &Value,
    inferred: &Value,
    flag: &Value,
    on: bool,
    guessed: bool,
) -> (Value, Value) {
    let (mut fl, mut inf) = (names(flags), names(inferred));
    fl.retain(|x| x != flag);
    inf.retain(|x| x != flag);
    if on {
        fl.push(flag.clone());
        if guessed {
            inf.push(flag.clone());
        }
    }
    fl.sort();
    inf.sort();
    (list(fl), list(inf))
}

pub(super) fn mm_id(s: &State, e: &Ev) -> Result<Option<i64>> {
    let mm = e.v(2);
    if !mm.is_nil() {
        return Ok(mm.as_int());
    }
    let Some(pid) = e.pid else { return Ok(None) };
    Ok(Some(match s.get(T_TASKS, &Key::Int(pid))? {
        Some(t) => t[f::task::TGID].as_int().unwrap_or(pid),
        None => pid,
    }))
}

pub(super) fn on_flag(s: &mut State, e: &Ev, on: bool) -> Result<()> {
    let kind = if on { "flag_set" } else { "flag_clear" };
    let flag = e.v(0);
    if !flag.truthy() {
        return anomaly(
            s,
            e.seq,
            kind,
            format!("{kind} on {} names no flag", show(e.pid)),
        );
    }
    let guessed = e.inferred("flag");
    let text = flag.to_string();
    if flag_is_mm(&text, e.v(1).as_str()) {
        let Some(id) = mm_id(s, e)? else {
            return anomaly(s, e.seq, kind, format!("{flag} on an unknown mm"));
        };
        let mut rec = match s.get(T_MMS, &Key::Int(id))? {
            Some(m) => m.to_vec(),
            None => record(&MM, &[Value::Int(id)]),
        };
        if !on && !names(&rec[f::mm::FLAGS]).contains(flag) {
            anomaly(
                s,
                e.seq,
                kind,
                format!("{flag} cleared on mm {id}, where it was not set"),
            )?;
        }
        let (fl, inf) = with_flag(
            &rec[f::mm::FLAGS],
            &rec[f::mm::INFERRED_FLAGS],
            flag,
            on,
            guessed,
        );
        rec[f::mm::FLAGS] = fl;
        rec[f::mm::INFERRED_FLAGS] = inf;
        return s.set(T_MMS, Key::Int(id), rec);
    }
    let Some(pid) = e.pid else {
        return anomaly(s, e.seq, kind, format!("{flag} on no task"));
    };
    let mut t = task_values(s, pid)?;
    if !on && !names(&t[f::task::FLAGS]).contains(flag) {
        anomaly(
            s,
            e.seq,
            kind,
            format!("{flag} cleared on {pid}, where it was not set"),
        )?;
    }
    let (fl, inf) = with_flag(
        &t[f::task::FLAGS],
        &t[f::task::INFERRED_FLAGS],
        flag,
        on,
        guessed,
    );
    t[f::task::FLAGS] = fl;
    t[f::task::INFERRED_FLAGS] = inf;
    t[f::task::SINCE] = e.seq.into();
    s.set(T_TASKS, Key::Int(pid), t)
}

// -- memory -----------------------------------------------------------------------------------------------------

/// The kind name of an anomaly's event, for callers that format their own.
pub fn kind_label(id: u8) -> &'static str {
    kind_name(id)
}
