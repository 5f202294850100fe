//! The OOM killer's victims and the reaper's work on them: `oom_kill`, `oom_victim`, `reaper_wake`,
//! `reaper_attempt`, `reaper_done` (kernel-formats.md §1.9; kernel-audit F1, F2, F15, F16).
//!
//! The reaper works in *rounds*: one `oom_reap_task()` call makes at most MAX_OOM_REAP_RETRIES (10) tries,
//! HZ/10 apart (unchanged 4.6 → 6.x). A victim gets a second round only where the kernel queues it again: on
//! 4.6–4.8 the OOM killer may pick a victim the reaper gave up on and wake the reaper for it once more (4.8 then
//! prints "giving up"); from 4.9 MMF_OOM_SKIP (and from 5.0 MMF_OOM_REAP_QUEUED) stops that. So the ten-try
//! bound is per round: a victim's record keeps the current round's attempts and counts its rounds.
//!
//! A kernel log prints one line per round, not one per try: "unable to reap" comes after exactly ten failures,
//! "reaped process" after one success that may follow up to nine silent failures. A converter says so with the
//! attempt's number, marked inferred: `n` = 10 on "unable" implies the nine failures before it (`implied`);
//! `n` unknown on "reaped" leaves up to MAX − made attempts `unseen` before it. A recording with the oom
//! tracepoints (≥ 4.14) has one event per try and needs neither.
//!
//! A victim first named by a reaper event was killed before the trace starts: its kill is unknown (no seq, no
//! time), not the reaper event's instant. A victim first named by `oom_victim` (mark_oom_victim with no kill
//! seen: a dying task given the reserves by `task_will_free_mem`, 4.9 → 6.x) is `marked`, not killed.

use super::apply::{anomaly, list, names, one_of, update_task, Ev};
use super::ooms::set_oom;
use super::schema::{MAX_OOM_REAP_RETRIES, REAPER_ATTEMPT_OUTCOMES, REAPER_DONE_OUTCOMES};
use super::state::{f, record, State, T_TASKS, T_VICTIMS, VICTIM};
use super::table::{Key, Rec};
use super::value::Value;
use crate::error::Result;

/// A victim keeps the outcomes of at most this many reaper attempts of a round (the kernel makes ten).
const ATTEMPTS_KEPT: usize = 2 * MAX_OOM_REAP_RETRIES;

/// How a victim the trace has not seen killed came to be one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// `mark_oom_victim` with no kill: a victim from now on, never killed by the OOM killer
    Marked,
    /// the reaper works on it: killed before the trace starts, when unknown
    Before,
}

/// The victim record of `pid`, a new one if it is not one yet (its mm its process's).
fn victim(s: &State, e: &Ev, pid: i64, comm: &Value, seen: Seen) -> Result<Vec<Value>> {
    if let Some(v) = s.get(T_VICTIMS, &Key::Int(pid))? {
        return Ok(v.to_vec());
    }
    let t = s.get(T_TASKS, &Key::Int(pid))?;
    let mm = t
        .as_ref()
        .and_then(|t| t[f::task::TGID].as_int())
        .unwrap_or(pid);
    let task_comm = t
        .as_ref()
        .map(|t| t[f::task::COMM].clone())
        .unwrap_or_default();
    let comm = comm.or(&task_comm).clone();
    let (seq, ts) = match seen {
        Seen::Marked => (e.seq.into(), Value::Int(e.ts)),
        Seen::Before => (Value::Nil, Value::Nil),
    };
    let mut v = record(&VICTIM, &[Value::Int(pid), comm, seq, ts, Value::Int(mm)]);
    v[f::victim::MARKED] = Value::Bool(seen == Seen::Marked);
    Ok(v)
}

pub(super) fn on_oom_kill(s: &mut State, e: &Ev) -> Result<()> {
    let Some(pid) = e.pid else {
        return anomaly(s, e.seq, "oom_kill", "kill names no victim".into());
    };
    if let Some(old) = s.get(T_VICTIMS, &Key::Int(pid))? {
        if old[f::victim::OUTCOME].is_nil() && !old[f::victim::EXITED].truthy() {
            anomaly(
                s,
                e.seq,
                "oom_kill",
                format!("{pid} killed again while still a pending victim"),
            )?;
        }
    }
    update_task(
        s,
        e.seq,
        Some(pid),
        &[
            (f::task::COMM, e.v(0)),
            (f::task::OOM_SCORE_ADJ, e.v(8)),
            (f::task::ANON_KB, e.v(3)),
            (f::task::FILE_KB, e.v(4)),
            (f::task::SHMEM_KB, e.v(5)),
        ],
    )?;
    let t: Rec = s.get(T_TASKS, &Key::Int(pid))?.expect("just set");
    let mm = t[f::task::TGID].as_int().unwrap_or(pid);
    let v = record(
        &VICTIM,
        &[
            Value::Int(pid),
            t[f::task::COMM].clone(),
            e.seq.into(),
            Value::Int(e.ts),
            Value::Int(mm),
            e.v(1).clone(),
        ],
    );
    s.set(T_VICTIMS, Key::Int(pid), v)?;
    if let Some(last) = s.last_oom()? {
        // the kill completes the invocation it answers
        let mut last = last.to_vec();
        let mut victims = names(&last[f::oom::VICTIMS]);
        if !victims.contains(&Value::Int(pid)) {
            victims.push(Value::Int(pid));
        }
        last[f::oom::VICTIMS] = list(victims);
        last[f::oom::CONSTRAINT] = last[f::oom::CONSTRAINT].or(e.v(11)).clone();
        last[f::oom::MEMCG] = last[f::oom::MEMCG].or(e.v(9)).clone();
        set_oom(s, last)?;
    }
    Ok(())
}

pub(super) fn on_oom_victim(s: &mut State, e: &Ev) -> Result<()> {
    let Some(pid) = e.pid else { return Ok(()) };
    if s.get(T_VICTIMS, &Key::Int(pid))?.is_none() {
        let v = victim(s, e, pid, e.v(0), Seen::Marked)?;
        s.set(T_VICTIMS, Key::Int(pid), v)?;
    }
    Ok(())
}

pub(super) fn on_reaper_wake(s: &mut State, e: &Ev) -> Result<()> {
    let Some(pid) = e.pid else { return Ok(()) };
    let mut v = victim(s, e, pid, e.v(0), Seen::Before)?;
    v[f::victim::WOKEN_SEQ] = e.seq.into();
    s.set(T_VICTIMS, Key::Int(pid), v)
}

fn int(v: &Value) -> usize {
    v.as_int().map_or(0, |n| n.max(0) as usize)
}

/// Whether an attempt's outcome is a failure (the reaper tries again, or gives up after the tenth).
fn failed(outcome: &Value) -> bool {
    matches!(
        outcome.as_str(),
        Some("lock_busy" | "notifier_busy" | "failed")
    )
}

pub(super) fn on_reaper_attempt(s: &mut State, e: &Ev) -> Result<()> {
    let Some(pid) = e.pid else { return Ok(()) };
    let mut v = victim(s, e, pid, e.v(2), Seen::Before)?;
    let outcome = e.v(1);
    if !one_of(outcome, REAPER_ATTEMPT_OUTCOMES) {
        let msg = format!(
            "reaper attempt on {pid}: unknown outcome {}",
            outcome.repr()
        );
        anomaly(s, e.seq, "reaper_attempt", msg)?;
    }
    if !v[f::victim::OUTCOME].is_nil() {
        // the reaper was done with it: it was queued again (4.6–4.8), a new round
        v[f::victim::ATTEMPTS] = list(Vec::new());
        for i in [f::victim::UNSEEN, f::victim::IMPLIED] {
            v[i] = Value::Int(0);
        }
        v[f::victim::OUTCOME] = Value::Nil;
        v[f::victim::DONE_SEQ] = Value::Nil;
    }
    let mut attempts = names(&v[f::victim::ATTEMPTS]);
    if attempts.is_empty() {
        v[f::victim::ROUNDS] = Value::Int(int(&v[f::victim::ROUNDS]) as i64 + 1);
    }
    let made = attempts.len() + 1;
    let n = e.v(0);
    let guessed = e.inferred("n");
    match n.as_int() {
        Some(k) if guessed && k > made as i64 => {
            // a log prints the round's last try only: the failures before it are implied by its number
            let gap = (k as usize - made).min(ATTEMPTS_KEPT);
            let fill = if failed(outcome) {
                outcome.clone()
            } else {
                Value::str("failed")
            };
            attempts.extend(std::iter::repeat_n(fill, gap));
            v[f::victim::IMPLIED] = Value::Int((int(&v[f::victim::IMPLIED]) + gap) as i64);
        }
        Some(k) if k != made as i64 => {
            anomaly(
                s,
                e.seq,
                "reaper_attempt",
                format!("reaper attempt {n} on {pid} follows {} attempts", made - 1),
            )?;
        }
        None if guessed => {
            // its number is unknown: earlier tries of this round may have failed without a trace
            v[f::victim::UNSEEN] = Value::Int(MAX_OOM_REAP_RETRIES.saturating_sub(made) as i64);
        }
        _ => {}
    }
    let made = attempts.len() + 1;
    if made > MAX_OOM_REAP_RETRIES {
        let msg =
            format!("reaper attempt {made} on {pid}: the kernel stops at {MAX_OOM_REAP_RETRIES}");
        anomaly(s, e.seq, "reaper_attempt", msg)?;
    }
    attempts.push(outcome.clone());
    let keep = attempts.len().saturating_sub(ATTEMPTS_KEPT);
    v[f::victim::ATTEMPTS] = list(attempts.split_off(keep));
    s.set(T_VICTIMS, Key::Int(pid), v)
}

pub(super) fn on_reaper_done(s: &mut State, e: &Ev) -> Result<()> {
    let Some(pid) = e.pid else { return Ok(()) };
    let outcome = e.v(0);
    if !one_of(outcome, REAPER_DONE_OUTCOMES) {
        anomaly(
            s,
            e.seq,
            "reaper_done",
            format!("reaper done with {pid}: unknown outcome {}", outcome.repr()),
        )?;
    }
    let mut v = victim(s, e, pid, e.v(4), Seen::Before)?;
    v[f::victim::OUTCOME] = outcome.clone();
    v[f::victim::DONE_SEQ] = e.seq.into();
    s.set(T_VICTIMS, Key::Int(pid), v)?;
    if outcome.as_str() == Some("reaped") {
        update_task(
            s,
            e.seq,
            Some(pid),
            &[
                (f::task::ANON_KB, e.v(1)),
                (f::task::FILE_KB, e.v(2)),
                (f::task::SHMEM_KB, e.v(3)),
            ],
        )?;
    }
    Ok(())
}
