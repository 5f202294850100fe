//! One move of one actor, or of the built-in reaper, from a node: what is enabled, and the events it applies.
//!
//! Each actor has at most one move at a time (its next step; a step taking a held lock first queues, then takes
//! it once the lock is free), so a node's moves are one per actor plus the reaper's (`reaper`).

use super::kernel::{above_high, alloc_ok, can_take, choose, holds, Choice};
use super::node::Node;
use super::program::{FlagOp, Op, Program};
use super::reaper::reaper_move;
use crate::error::Result;
use crate::model::schema::kind;
use crate::model::state::f;
use crate::model::value::{Str, Value};
use crate::model::Event;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Who {
    Actor(usize),
    Reaper,
}

/// A move made: the node after it, and what the witness and the reduction need to know of it.
pub struct Moved {
    pub node: Node,
    pub what: &'static str,
    /// the actor's step (its index in the actor's list), or the victim the reaper worked on
    pub step: Option<usize>,
    pub victim: Option<i64>,
    /// the events applied, when asked for
    pub events: Option<Vec<Event>>,
}

pub(super) fn event(k: u8, pid: Option<i64>, fields: &[(&str, Value)]) -> Event {
    let mut ev = Event::new(0, k, pid);
    for (name, v) in fields {
        ev.set(name, v.clone());
    }
    ev
}

pub(super) fn comm(node: &Node, pid: i64) -> Result<Value> {
    Ok(node
        .task(pid)?
        .map(|t| t[f::task::COMM].clone())
        .unwrap_or_default())
}

pub(super) fn flags(
    node: &mut Node,
    ops: &[FlagOp],
    pid: i64,
    keep: &mut Option<Vec<Event>>,
) -> Result<()> {
    let mm = node.mm_of(pid)?;
    for op in ops {
        if !op.on
            && !(if op.mm {
                node.mm_has(mm, &op.flag)?
            } else {
                node.task_has(pid, &op.flag)?
            })
        {
            continue; // clearing a flag that is not set changes nothing
        }
        let k = if op.on {
            kind::FLAG_SET
        } else {
            kind::FLAG_CLEAR
        };
        let mut fields = vec![("flag", Value::Str(op.flag.clone()))];
        if op.mm {
            fields.push(("mm", Value::Int(mm)));
        }
        node.emit(event(k, Some(pid), &fields), keep)?;
    }
    Ok(())
}

/// The OOM killer kills `pid`: `oom_kill`, `mark_oom_victim`'s flags, the victim queued for the reaper.
fn kill(
    node: &mut Node,
    prog: &Program,
    pid: i64,
    points: Value,
    keep: &mut Option<Vec<Event>>,
) -> Result<()> {
    if above_high(node)? {
        node.needless += 1;
    }
    let c = comm(node, pid)?;
    node.emit(
        event(
            kind::OOM_KILL,
            Some(pid),
            &[("comm", c), ("points", points)],
        ),
        keep,
    )?;
    flags(node, &prog.rules.on_kill, pid, keep)?;
    node.kills += 1;
    let Some(reaper) = &prog.rules.reaper else {
        return Ok(());
    };
    if let Some(queued) = &reaper.queued_flag {
        let mm = node.mm_of(pid)?;
        if node.mm_has(mm, queued)? {
            return Ok(()); // queued once per mm (≥ 5.0)
        }
        let set = [FlagOp {
            flag: queued.clone(),
            on: true,
            mm: true,
        }];
        flags(node, &set, pid, keep)?;
    } else if node.reaper.queue.contains(&pid) || node.reaper.round.is_some_and(|r| r.pid == pid) {
        return Ok(());
    }
    node.reaper.queue.push(pid);
    Ok(())
}

fn lock_fields(lock: &super::program::LockRef) -> Vec<(&'static str, Value)> {
    vec![
        ("lock", Value::Str(lock.name.clone())),
        ("mm", lock.mm.map_or(Value::Nil, Value::Int)),
    ]
}

fn mode(write: bool) -> Value {
    Value::str(if write { "w" } else { "r" })
}

/// Actor `i`'s move, or None when it has none (finished, queued on a lock still taken, the kernel panicked).
pub fn actor_move(prog: &Program, node: &Node, i: usize, keep: bool) -> Result<Option<Moved>> {
    let pc = node.pcs[i] as usize;
    let steps = &prog.actors[i].steps;
    if pc >= steps.len() || node.panicked {
        return Ok(None);
    }
    let step = &steps[pc];
    let mut events = keep.then(Vec::new);
    if node.waiting[i] {
        let Op::Take {
            pid,
            lock,
            write,
            site,
        } = &step.op
        else {
            unreachable!("only a take waits")
        };
        if !can_take(node, &lock.name, *pid, *write, true)? {
            return Ok(None);
        }
        let mut next = node.clone();
        let mut fields = lock_fields(lock);
        fields.extend([("mode", mode(*write)), ("site", site.clone())]);
        next.emit(event(kind::LOCK_ACQUIRE, Some(*pid), &fields), &mut events)?;
        next.waiting[i] = false;
        next.pcs[i] += 1;
        return Ok(Some(Moved {
            node: next,
            what: "take",
            step: Some(pc),
            victim: None,
            events,
        }));
    }
    let mut next = node.clone();
    next.pcs[i] += 1;
    if !holds(node, prog, &step.guard)? {
        return Ok(Some(Moved {
            node: next,
            what: "skip",
            step: Some(pc),
            victim: None,
            events,
        }));
    }
    let what = match &step.op {
        Op::Emit(evs) => {
            for ev in evs {
                next.emit(ev.clone(), &mut events)?;
            }
            "run"
        }
        Op::Take {
            pid,
            lock,
            write,
            site,
        } => {
            let mut fields = lock_fields(lock);
            fields.extend([("mode", mode(*write)), ("site", site.clone())]);
            if can_take(node, &lock.name, *pid, *write, false)? {
                next.emit(event(kind::LOCK_ACQUIRE, Some(*pid), &fields), &mut events)?;
                "take"
            } else {
                next.emit(
                    event(kind::LOCK_CONTENDED, Some(*pid), &fields),
                    &mut events,
                )?;
                next.pcs[i] -= 1;
                next.waiting[i] = true;
                "wait"
            }
        }
        Op::Release { pid, lock } => {
            next.emit(
                event(kind::LOCK_RELEASE, Some(*pid), &lock_fields(lock)),
                &mut events,
            )?;
            "release"
        }
        Op::Alloc {
            pid,
            order,
            gfp,
            outcome,
            level,
            reserve,
            zone,
            then,
        } => {
            let outcome = match outcome {
                Some(o) => o.clone(),
                None => {
                    let ok = alloc_ok(node, prog, *pid, *order, *level, *reserve, zone.as_ref())?;
                    Str::from(if ok { "ok" } else { "fail" })
                }
            };
            let fields = [
                ("order", Value::Int(*order)),
                ("gfp", gfp.clone()),
                ("outcome", Value::Str(outcome)),
            ];
            next.emit(event(kind::ALLOC, Some(*pid), &fields), &mut events)?;
            for ev in then {
                next.emit(ev.clone(), &mut events)?;
            }
            "alloc"
        }
        Op::Kill {
            victim: Some(v),
            points,
            ..
        } => {
            kill(&mut next, prog, *v, points.clone(), &mut events)?;
            "kill"
        }
        Op::Kill {
            victim: None,
            retry,
            ..
        } => match choose(node, prog)? {
            Choice::Kill(v, points) => {
                if let Some(r) = retry {
                    let ok = alloc_ok(node, prog, r.pid, r.order, r.level, r.reserve, None)?;
                    let outcome = Value::str(if ok { "ok" } else { "fail" });
                    let fields = [
                        ("order", Value::Int(r.order)),
                        ("gfp", r.gfp.clone()),
                        ("outcome", outcome),
                    ];
                    next.emit(event(kind::ALLOC, Some(r.pid), &fields), &mut events)?;
                    if ok {
                        return Ok(Some(Moved {
                            node: next,
                            what: "spared",
                            step: Some(pc),
                            victim: Some(v),
                            events,
                        }));
                    }
                }
                kill(&mut next, prog, v, Value::Int(points), &mut events)?;
                "kill"
            }
            Choice::Wait(_) => "wait_victim",
            Choice::Nothing => {
                let (outcome, reason) = &prog.rules.no_killable;
                let fields = [
                    ("outcome", Value::Str(outcome.clone())),
                    ("reason", Value::Str(reason.clone())),
                ];
                next.emit(
                    event(kind::OOM_END, prog.actors[i].pid, &fields),
                    &mut events,
                )?;
                next.panicked = &**outcome == "panic";
                "no_killable"
            }
        },
        Op::Done => {
            next.pcs[i] = steps.len() as u32;
            "done"
        }
    };
    Ok(Some(Moved {
        node: next,
        what,
        step: Some(pc),
        victim: None,
        events,
    }))
}

pub fn perform(prog: &Program, node: &Node, who: Who, keep: bool) -> Result<Option<Moved>> {
    match who {
        Who::Actor(i) => actor_move(prog, node, i, keep),
        Who::Reaper => reaper_move(prog, node, keep),
    }
}
