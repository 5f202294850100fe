//! `apply` for the lock events: who holds, waits for and releases which lock, keyed by name (and by mm where
//! the event names one), and what a lockdep dump says is held.

use super::apply::*;
use super::schema::LOCK_MODES;
use super::state::T_LOCKS;
use super::state::{f, record, State, HOLDER, LOCK};
use super::table::Key;
use super::value::{Str, Value};
use crate::error::Result;

pub(super) fn lock_key(name: &Value) -> Key {
    match name {
        Value::Str(s) => Key::Str(s.clone()),
        other => Key::Str(Str::from(other.to_string())),
    }
}

/// The lock an event names, after checking its name and mode (recording anomalies); None when it names none.
pub(super) fn lock_name(s: &mut State, e: &Ev, kind: &str) -> Result<Option<Value>> {
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
    let mode = if e.kind == super::schema::kind::LOCK_RELEASE {
        &Value::Nil
    } else {
        e.v(1)
    };
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
pub(super) fn lock_values(s: &State, name: &Value) -> Result<Vec<Value>> {
    Ok(match s.get(T_LOCKS, &lock_key(name))? {
        Some(l) => l.to_vec(),
        None => record(&LOCK, &[name.clone()]),
    })
}

pub(super) fn holders(v: &Value) -> Vec<Value> {
    v.as_list().map(|l| l.to_vec()).unwrap_or_default()
}

pub(super) fn holder_pid(h: &Value) -> Option<i64> {
    h.as_list()
        .and_then(|h| h.get(f::holder::PID))
        .and_then(Value::as_int)
}

pub(super) fn holder_field(h: &Value, i: usize) -> &Value {
    static NIL: Value = Value::Nil;
    h.as_list().and_then(|h| h.get(i)).unwrap_or(&NIL)
}

pub(super) fn holder(
    pid: Option<i64>,
    mode: Value,
    seq: Option<i64>,
    site: Value,
    inferred: bool,
) -> Value {
    list(record(
        &HOLDER,
        &[pid.into(), mode, seq.into(), site, Value::Bool(inferred)],
    ))
}

/// Keep the lock with its new holders and waiters, or drop it once nobody holds or waits for it.
pub(super) fn store_lock(
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
pub(super) fn named_lock(s: &mut State, e: &Ev, kind: &str) -> Result<Option<Vec<Value>>> {
    // a release names no mode: its second field is the mm
    static NIL: Value = Value::Nil;
    let mode = if e.kind == super::schema::kind::LOCK_RELEASE {
        &NIL
    } else {
        e.v(1)
    };
    let name = e.v(0);
    if !name.truthy() || (!mode.is_nil() && !one_of(mode, LOCK_MODES)) {
        match lock_name(s, e, kind)? {
            Some(name) => return lock_values(s, &name).map(Some),
            None => return Ok(None),
        }
    }
    lock_values(s, name).map(Some)
}

pub(super) fn on_lock_acquire(s: &mut State, e: &Ev) -> Result<()> {
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

pub(super) fn on_lock_contended(s: &mut State, e: &Ev) -> Result<()> {
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
pub(super) fn on_lock_release(s: &mut State, e: &Ev) -> Result<()> {
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

pub(super) fn on_lock_held(s: &mut State, e: &Ev) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use crate::model::{apply, Ev, Event, State};

    #[test]
    fn releasing_an_mms_lock_is_no_anomaly() {
        let mut s = State::new();
        let take = Event::named(0, "lock_acquire", Some(1))
            .unwrap()
            .with("lock", "mmap_sem")
            .with("mode", "w")
            .with("mm", 3163);
        let release = Event::named(1, "lock_release", Some(1))
            .unwrap()
            .with("lock", "mmap_sem")
            .with("mm", 3163);
        apply(&mut s, &Ev::of(&take)).unwrap();
        apply(&mut s, &Ev::of(&release)).unwrap();
        assert_eq!(s.tables[crate::model::state::T_ANOMALIES].len(), 0);
        assert_eq!(s.tables[crate::model::state::T_LOCKS].len(), 0);
    }
}
