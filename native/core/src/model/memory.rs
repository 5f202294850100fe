//! `apply` for memory: allocations and their outcomes, zones against their watermarks, memcgs and Mem-Info.

use super::apply::*;
use super::locks::*;
use super::schema::{kind, ALLOC_OUTCOMES};
use super::state::{f, record, State, MEMCG, ZONE};
use super::state::{T_MEMCGS, T_MEMINFO, T_TASKS, T_ZONES};
use super::table::Key;
use super::value::{Str, Value};
use crate::error::Result;

pub(super) fn on_alloc(s: &mut State, e: &Ev) -> Result<()> {
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
pub(super) fn updated(
    rec: &mut [Value],
    since: usize,
    seq: Option<i64>,
    changes: &[(usize, Value)],
) {
    for (i, v) in changes {
        if !v.is_nil() {
            rec[*i] = v.clone();
        }
    }
    rec[since] = seq.into();
}

pub(super) fn on_zone(s: &mut State, e: &Ev) -> Result<()> {
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

pub(super) fn on_memcg(s: &mut State, e: &Ev) -> Result<()> {
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
pub(super) fn on_meminfo(s: &mut State, e: &Ev) -> Result<()> {
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
