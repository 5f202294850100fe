//! `apply` for the OOM killer's invocations: the scope scanned, the candidates, how each invocation ended.

use super::apply::*;
use super::schema::{OOM_END_OUTCOMES, OOM_END_REASONS};
use super::state::T_OOMS;
use super::state::{f, record, State, OOM};
use super::table::Key;
use super::value::Value;
use crate::error::Result;

pub(super) fn set_oom(s: &mut State, rec: Vec<Value>) -> Result<()> {
    let index = rec[f::oom::INDEX].as_int().unwrap_or(0);
    s.set(T_OOMS, Key::Int(index), rec)
}

pub(super) fn on_oom_invoke(s: &mut State, e: &Ev) -> Result<()> {
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

pub(super) fn on_oom_candidate(s: &mut State, e: &Ev) -> Result<()> {
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
pub(super) fn on_oom_end(s: &mut State, e: &Ev) -> Result<()> {
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
