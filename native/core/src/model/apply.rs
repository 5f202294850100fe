//! `apply(state, event)`: the one definition of what an event does, shared by every layer (the writer's
//! keyframes, the reader's replay, the scenario compiler, `oomreplay.apply`).
//!
//! Nothing here fails on odd input: a trace of a real incident is often incomplete (a log that starts
//! mid-incident, a lock released that we never saw taken), so the oddity is recorded as an `Anomaly` in the
//! state, where the views and the invariant checks can show it. The only errors are the store's (a page of a
//! damaged file that cannot be read).

use std::sync::Arc;

use super::event::Event;
use super::schema::{
    flag_is_mm, kind, kind_name, ALLOC_OUTCOMES, LOCK_MODES, OOM_END_OUTCOMES, OOM_END_REASONS,
};
use super::state::{f, record, State, ANOMALY, HOLDER, LOCK, MEMCG, MM, OOM, TASK, ZONE};
use super::state::{
    T_ANOMALIES, T_LOCKS, T_MEMCGS, T_MEMINFO, T_MMS, T_OOMS, T_TASKS, T_VICTIMS, T_ZONES,
};
use super::table::Key;
use super::value::{Str, Value};
use super::victims;
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

fn task_values(s: &State, pid: i64) -> Result<Vec<Value>> {
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
fn task_fields(s: &mut State, e: &Ev, pairs: &[(usize, usize)]) -> Result<()> {
    let changes: Vec<(usize, &Value)> = pairs.iter().map(|&(from, to)| (to, e.v(from))).collect();
    update_task(s, e.seq, e.pid, &changes)
}

fn on_task_exit(s: &mut State, e: &Ev) -> Result<()> {
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

fn on_fork(s: &mut State, e: &Ev) -> Result<()> {
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

fn lock_key(name: &Value) -> Key {
    match name {
        Value::Str(s) => Key::Str(s.clone()),
        other => Key::Str(Str::from(other.to_string())),
    }
}

/// The lock an event names, after checking its name and mode (recording anomalies); None when it names none.
fn lock_name(s: &mut State, e: &Ev, kind: &str) -> Result<Option<Value>> {
    let name = e.v(0);
    if !name.truthy() {
        anomaly(
            s,
            e.seq,
            kind,
            format!("{kind} by {} names no lock", show(e.pid)),
        )?;
        return Ok(None);
    }
    let mode = e.v(1);
    if !mode.is_nil() && !one_of(mode, LOCK_MODES) {
        anomaly(
            s,
            e.seq,
            kind,
            format!("lock {name}: unknown mode {}", mode.repr()),
        )?;
    }
    Ok(Some(name.clone()))
}

/// A lock's record as values, a new one if unseen.
fn lock_values(s: &State, name: &Value) -> Result<Vec<Value>> {
    Ok(match s.get(T_LOCKS, &lock_key(name))? {
        Some(l) => l.to_vec(),
        None => record(&LOCK, &[name.clone()]),
    })
}

fn holders(v: &Value) -> Vec<Value> {
    v.as_list().map(|l| l.to_vec()).unwrap_or_default()
}

fn holder_pid(h: &Value) -> Option<i64> {
    h.as_list()
        .and_then(|h| h.get(f::holder::PID))
        .and_then(Value::as_int)
}

fn holder_field(h: &Value, i: usize) -> &Value {
    static NIL: Value = Value::Nil;
    h.as_list().and_then(|h| h.get(i)).unwrap_or(&NIL)
}

fn holder(pid: Option<i64>, mode: Value, seq: Option<i64>, site: Value, inferred: bool) -> Value {
    list(record(
        &HOLDER,
        &[pid.into(), mode, seq.into(), site, Value::Bool(inferred)],
    ))
}

/// Keep the lock with its new holders and waiters, or drop it once nobody holds or waits for it.
fn store_lock(
    s: &mut State,
    lk: &[Value],
    holders: Vec<Value>,
    waiters: Vec<Value>,
    mm: &Value,
) -> Result<()> {
    let key = lock_key(&lk[f::lock::NAME]);
    if holders.is_empty() && waiters.is_empty() {
        return s.tables[T_LOCKS].delete(&key);
    }
    let mm = if mm.is_nil() {
        lk[f::lock::MM].clone()
    } else {
        mm.clone()
    };
    s.set(
        T_LOCKS,
        key,
        vec![lk[f::lock::NAME].clone(), list(holders), list(waiters), mm],
    )
}

/// The lock an acquire or release names; the common case (a name and a known mode) skips `lock_name`'s checks.
fn named_lock(s: &mut State, e: &Ev, kind: &str) -> Result<Option<Vec<Value>>> {
    let (name, mode) = (e.v(0), e.v(1));
    if !name.truthy() || (!mode.is_nil() && !one_of(mode, LOCK_MODES)) {
        match lock_name(s, e, kind)? {
            Some(name) => return lock_values(s, &name).map(Some),
            None => return Ok(None),
        }
    }
    lock_values(s, name).map(Some)
}

fn on_lock_acquire(s: &mut State, e: &Ev) -> Result<()> {
    let Some(lk) = named_lock(s, e, "lock_acquire")? else {
        return Ok(());
    };
    let w = Value::str("w");
    let mode = e.v(1).or(&w).clone();
    let mut hs = holders(&lk[f::lock::HOLDERS]);
    if !hs.is_empty() {
        let seen: Vec<&Value> = hs
            .iter()
            .filter(|h| !holder_field(h, f::holder::INFERRED).truthy() && holder_pid(h) != e.pid)
            .collect();
        if !seen.is_empty()
            && (mode == w || seen.iter().any(|h| *holder_field(h, f::holder::MODE) == w))
        {
            let others: Vec<String> = seen
                .iter()
                .map(|h| holder_field(h, f::holder::PID).to_string())
                .collect();
            let msg = format!(
                "{} took {} ({mode}) while {} held it",
                show(e.pid),
                lk[0],
                others.join(", ")
            );
            anomaly(s, e.seq, "lock_acquire", msg)?;
        }
        // an acquisition supersedes a holding only inferred from an older dump
        hs.retain(|h| !(holder_pid(h) == e.pid && holder_field(h, f::holder::INFERRED).truthy()));
    }
    hs.push(holder(
        e.pid,
        mode,
        e.seq,
        e.v(2).clone(),
        e.inferred("lock"),
    ));
    let mut waiters = holders(&lk[f::lock::WAITERS]);
    waiters.retain(|w| holder_pid(w) != e.pid); // its wait is over
    store_lock(s, &lk, hs, waiters, e.v(3))
}

fn on_lock_contended(s: &mut State, e: &Ev) -> Result<()> {
    let Some(name) = lock_name(s, e, "lock_contended")? else {
        return Ok(());
    };
    let lk = lock_values(s, &name)?;
    let mut waiters = holders(&lk[f::lock::WAITERS]);
    if waiters.iter().any(|w| holder_pid(w) == e.pid) {
        return Ok(());
    }
    let mode = e.v(1).or(&Value::str("w")).clone();
    waiters.push(holder(
        e.pid,
        mode,
        e.seq,
        e.v(2).clone(),
        e.inferred("lock"),
    ));
    store_lock(s, &lk, holders(&lk[f::lock::HOLDERS]), waiters, e.v(3))
}

/// Releases the latest holding by the pid; from a task that only waited, it ends the wait (a failed try).
fn on_lock_release(s: &mut State, e: &Ev) -> Result<()> {
    let Some(lk) = named_lock(s, e, "lock_release")? else {
        return Ok(());
    };
    let mut hs = holders(&lk[f::lock::HOLDERS]);
    let waiters = holders(&lk[f::lock::WAITERS]);
    if let Some(i) = hs.iter().rposition(|h| holder_pid(h) == e.pid) {
        hs.remove(i);
        return store_lock(s, &lk, hs, waiters, &Value::Nil);
    }
    if waiters.iter().any(|w| holder_pid(w) == e.pid) {
        let waiters = waiters
            .into_iter()
            .filter(|w| holder_pid(w) != e.pid)
            .collect();
        return store_lock(s, &lk, hs, waiters, &Value::Nil);
    }
    anomaly(
        s,
        e.seq,
        "lock_release",
        format!("{} released {}, which it did not hold", show(e.pid), lk[0]),
    )
}

fn on_lock_held(s: &mut State, e: &Ev) -> Result<()> {
    let Some(name) = lock_name(s, e, "lock_held")? else {
        return Ok(());
    };
    if e.pid.is_none() {
        return Ok(());
    }
    update_task(s, e.seq, e.pid, &[(f::task::COMM, e.v(4))])?;
    let lk = lock_values(s, &name)?;
    let mut hs = holders(&lk[f::lock::HOLDERS]);
    if hs.iter().any(|h| holder_pid(h) == e.pid) {
        return Ok(()); // a later dump showing the same holding again
    }
    hs.push(holder(e.pid, e.v(1).clone(), e.seq, e.v(2).clone(), true));
    store_lock(s, &lk, hs, holders(&lk[f::lock::WAITERS]), &Value::Nil)
}

// -- flags ------------------------------------------------------------------------------------------------------

pub(super) fn names(v: &Value) -> Vec<Value> {
    v.as_list().map(|l| l.to_vec()).unwrap_or_default()
}

fn with_flag(
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

fn mm_id(s: &State, e: &Ev) -> Result<Option<i64>> {
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

fn on_flag(s: &mut State, e: &Ev, on: bool) -> Result<()> {
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

fn on_alloc(s: &mut State, e: &Ev) -> Result<()> {
    let outcome = e.v(2);
    if !outcome.is_nil() && !one_of(outcome, ALLOC_OUTCOMES) {
        let msg = format!(
            "allocation by {}: unknown outcome {}",
            show(e.pid),
            outcome.repr()
        );
        anomaly(s, e.seq, "alloc", msg)?;
    }
    let Some(pid) = e.pid else { return Ok(()) };
    let mut t = task_values(s, pid)?;
    t[f::task::ALLOC] = list(vec![
        e.v(0).clone(),
        e.v(1).clone(),
        outcome.clone(),
        e.v(3).clone(),
    ]);
    t[f::task::SINCE] = e.seq.into();
    s.set(T_TASKS, Key::Int(pid), t)
}

/// How zone events name a zone: (node, zone name); a non-NUMA log says no node, which is node 0.
pub fn zone_key(node: &Value, zone: &Value) -> Key {
    let node = if node.truthy() {
        node.as_int().unwrap_or(0)
    } else {
        0
    };
    let zone = match zone {
        Value::Str(z) if !z.is_empty() => z.clone(),
        z if z.truthy() => Str::from(z.to_string()),
        _ => Str::from("?"),
    };
    Key::Zone(node, zone)
}

/// `rec` with each said change, and `since` (at `since`) set to this event.
fn updated(rec: &mut [Value], since: usize, seq: Option<i64>, changes: &[(usize, Value)]) {
    for (i, v) in changes {
        if !v.is_nil() {
            rec[*i] = v.clone();
        }
    }
    rec[since] = seq.into();
}

fn on_zone(s: &mut State, e: &Ev) -> Result<()> {
    let key = zone_key(e.v(0), e.v(1));
    let Key::Zone(node, name) = &key else {
        unreachable!()
    };
    let mut z = match s.get(T_ZONES, &key)? {
        Some(z) => z.to_vec(),
        None => record(&ZONE, &[Value::Int(*node), Value::Str(name.clone())]),
    };
    let reserve = match e.v(7) {
        Value::Nil => Value::Nil,
        Value::List(l) => Value::List(l.clone()),
        other => list(vec![other.clone()]),
    };
    let changes: Vec<(usize, Value)> = (2..7)
        .map(|i| (i, e.v(i).clone()))
        .chain(std::iter::once((7, reserve)))
        .collect();
    updated(&mut z, f::zone::SINCE, e.seq, &changes);
    if let Some(free) = z[f::zone::FREE_KB].as_int().filter(|f| *f < 0) {
        anomaly(
            s,
            e.seq,
            "zone",
            format!("zone {node}:{name} free memory below zero ({free} kB)"),
        )?;
    }
    s.set(T_ZONES, key, z)
}

fn on_memcg(s: &mut State, e: &Ev) -> Result<()> {
    let path = e.v(0).or(&Value::str("/")).clone();
    let key = lock_key(&path);
    let mut m = match s.get(T_MEMCGS, &key)? {
        Some(m) => m.to_vec(),
        None => record(&MEMCG, &[path]),
    };
    let changes: Vec<(usize, Value)> = (1..4).map(|i| (i, e.v(i).clone())).collect();
    updated(&mut m, f::memcg::SINCE, e.seq, &changes);
    s.set(T_MEMCGS, key, m)
}

/// A new summary replaces the last one whole: a counter this one lacks is unknown now, not unchanged.
fn on_meminfo(s: &mut State, e: &Ev) -> Result<()> {
    let names = super::schema::fields_of(kind::MEMINFO);
    let counters: Vec<Value> = names
        .iter()
        .enumerate()
        .filter(|(i, _)| !e.v(*i).is_nil())
        .map(|(i, n)| list(vec![Value::str(n), e.v(i).clone()]))
        .collect();
    let rec = vec![Value::str("global"), list(counters), e.seq.into()];
    s.set(T_MEMINFO, Key::Str(Str::from("global")), rec)
}

// -- the OOM killer ---------------------------------------------------------------------------------------------

pub(super) fn set_oom(s: &mut State, rec: Vec<Value>) -> Result<()> {
    let index = rec[f::oom::INDEX].as_int().unwrap_or(0);
    s.set(T_OOMS, Key::Int(index), rec)
}

fn on_oom_invoke(s: &mut State, e: &Ev) -> Result<()> {
    let index = s.tables[T_OOMS].len() as i64;
    let rec = record(
        &OOM,
        &[
            Value::Int(index),
            e.seq.into(),
            Value::Int(e.ts),
            e.pid.into(),
            e.v(0).clone(),
            e.v(1).clone(),
            e.v(3).clone(),
            e.v(4).clone(),
        ],
    );
    set_oom(s, rec)?;
    update_task(
        s,
        e.seq,
        e.pid,
        &[(f::task::COMM, e.v(5)), (f::task::OOM_SCORE_ADJ, e.v(2))],
    )
}

fn on_oom_candidate(s: &mut State, e: &Ev) -> Result<()> {
    update_task(
        s,
        e.seq,
        e.pid,
        &[
            (f::task::TGID, e.v(0)),
            (f::task::COMM, e.v(7)),
            (f::task::OOM_SCORE_ADJ, e.v(6)),
        ],
    )?;
    if let Some(last) = s.last_oom()? {
        let mut last = last.to_vec();
        last[f::oom::CANDIDATES] = Value::Int(last[f::oom::CANDIDATES].as_int().unwrap_or(0) + 1);
        set_oom(s, last)?;
    }
    Ok(())
}

/// Ends the current invocation without a kill. A log that starts after the report's header gets the invocation
/// it implies, so the ending is not lost, and an anomaly saying so.
fn on_oom_end(s: &mut State, e: &Ev) -> Result<()> {
    let (outcome, reason) = (e.v(0), e.v(1));
    if !one_of(outcome, OOM_END_OUTCOMES) {
        anomaly(
            s,
            e.seq,
            "oom_end",
            format!(
                "OOM ended by {}: unknown outcome {}",
                show(e.pid),
                outcome.repr()
            ),
        )?;
    }
    if !reason.is_nil() && !one_of(reason, OOM_END_REASONS) {
        anomaly(
            s,
            e.seq,
            "oom_end",
            format!(
                "OOM ended by {}: unknown reason {}",
                show(e.pid),
                reason.repr()
            ),
        )?;
    }
    let mut last = match s.last_oom()? {
        Some(l) if !l[f::oom::VICTIMS].truthy() => l.to_vec(),
        _ => {
            anomaly(
                s,
                e.seq,
                "oom_end",
                format!("OOM ended ({outcome}) with no invocation seen before it"),
            )?;
            let index = s.tables[T_OOMS].len() as i64;
            record(
                &OOM,
                &[
                    Value::Int(index),
                    e.seq.into(),
                    Value::Int(e.ts),
                    e.pid.into(),
                ],
            )
        }
    };
    if last[f::oom::INVOKER].is_nil() {
        last[f::oom::INVOKER] = e.pid.into();
    }
    last[f::oom::OUTCOME] = outcome.clone();
    last[f::oom::REASON] = reason.clone();
    set_oom(s, last)?;
    update_task(s, e.seq, e.pid, &[(f::task::COMM, e.v(2))])
}

/// The kind name of an anomaly's event, for callers that format their own.
pub fn kind_label(id: u8) -> &'static str {
    kind_name(id)
}
