//! One move of one actor, or of the built-in reaper, from a node: what is enabled, and the events it applies.
//!
//! Each actor has at most one move at a time (its next step; a step taking a held lock first queues, then takes
//! it once the lock is free), so a node's moves are one per actor plus the reaper's. The reaper follows the
//! declared kernel's `oom_reaper` (kernel-formats.md §1.9): wake for the newest queued victim, up to ten
//! trylocks of its mmap lock (each a move, so anything can happen between two, as HZ/10 lets it), the memory
//! back on success, then `reaper_done` and the flags of that version.

use super::kernel::{above_high, alloc_ok, can_take, choose, holds, Choice};
use super::node::{Node, Phase, Round};
use super::program::{FlagOp, Op, Program};
use crate::error::Result;
use crate::model::schema::{kind, MAX_OOM_REAP_RETRIES};
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

fn event(k: u8, pid: Option<i64>, fields: &[(&str, Value)]) -> Event {
    let mut ev = Event::new(0, k, pid);
    for (name, v) in fields {
        ev.set(name, v.clone());
    }
    ev
}

fn comm(node: &Node, pid: i64) -> Result<Value> {
    Ok(node
        .task(pid)?
        .map(|t| t[f::task::COMM].clone())
        .unwrap_or_default())
}

fn flags(node: &mut Node, ops: &[FlagOp], pid: i64, keep: &mut Option<Vec<Event>>) -> Result<()> {
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

/// The reaper's move, or None when it has nothing to do or waits for `oom_lock`.
pub fn reaper_move(prog: &Program, node: &Node, keep: bool) -> Result<Option<Moved>> {
    let Some(rules) = &prog.rules.reaper else {
        return Ok(None);
    };
    if node.panicked {
        return Ok(None);
    }
    let mut events = keep.then(Vec::new);
    let Some(round) = node.reaper.round else {
        let Some(&v) = node.reaper.queue.last() else {
            return Ok(None);
        };
        let mut next = node.clone();
        next.reaper.queue.pop();
        let skip = Str::from("MMF_OOM_SKIP");
        if rules.timer && node.mm_has(node.mm_of(v)?, &skip)? {
            // the timer's wake_oom_reaper: "the victim managed to terminate on its own"
            return Ok(Some(Moved {
                node: next,
                what: "drop",
                step: None,
                victim: Some(v),
                events,
            }));
        }
        let c = comm(node, v)?;
        next.emit(
            event(kind::REAPER_WAKE, Some(v), &[("comm", c)]),
            &mut events,
        )?;
        next.reaper.round = Some(Round {
            pid: v,
            tries: 0,
            phase: Phase::Trying,
        });
        return Ok(Some(Moved {
            node: next,
            what: "wake",
            step: None,
            victim: Some(v),
            events,
        }));
    };
    let v = round.pid;
    let c = comm(node, v)?;
    let mut next = node.clone();
    let what = match round.phase {
        Phase::Trying => {
            if let Some(oom_lock) = &rules.oom_lock {
                if !node.lock(oom_lock)?.0.is_empty() {
                    return Ok(None); // mutex_lock(&oom_lock) sleeps
                }
            }
            let mm = node.mm_of(v)?;
            let busy = match node.mm_lock(mm, &prog.rules.mm_locks)? {
                Some(name) => {
                    let (hs, ws) = node.lock(&name)?;
                    hs.iter().chain(&ws).any(|&(_, w)| w)
                }
                None => false,
            };
            let outcome = if busy {
                "lock_busy"
            } else if node.mm_has(mm, "MMF_OOM_SKIP")? {
                "skipped"
            } else {
                "reaped"
            };
            let n = Value::Int(round.tries as i64 + 1);
            let fields = [("n", n), ("outcome", Value::str(outcome)), ("comm", c)];
            next.emit(event(kind::REAPER_ATTEMPT, Some(v), &fields), &mut events)?;
            next.reaper.round = match outcome {
                "reaped" => {
                    give_back(&mut next, prog, v, &mut events)?;
                    Some(Round {
                        phase: Phase::Reaped,
                        ..round
                    })
                }
                "skipped" => None,
                _ if round.tries as usize + 1 >= MAX_OOM_REAP_RETRIES => Some(Round {
                    tries: round.tries + 1,
                    phase: Phase::GaveUp,
                    ..round
                }),
                _ => Some(Round {
                    tries: round.tries + 1,
                    ..round
                }),
            };
            "try"
        }
        Phase::Reaped | Phase::GaveUp => {
            let reaped = round.phase == Phase::Reaped;
            let outcome = Value::str(if reaped { "reaped" } else { "unable" });
            next.emit(
                event(
                    kind::REAPER_DONE,
                    Some(v),
                    &[("outcome", outcome), ("comm", c)],
                ),
                &mut events,
            )?;
            let ops = if reaped {
                &rules.on_reaped
            } else {
                &rules.on_unable
            };
            flags(&mut next, ops, v, &mut events)?;
            next.reaper.round = None;
            "done"
        }
    };
    Ok(Some(Moved {
        node: next,
        what,
        step: None,
        victim: Some(v),
        events,
    }))
}

/// The reaped victim's memory (`rss_kb`) comes back to the reaper's zone.
fn give_back(node: &mut Node, prog: &Program, v: i64, keep: &mut Option<Vec<Event>>) -> Result<()> {
    let rss = prog.rss_of(v);
    let Some(zone) = prog.rules.reaper.as_ref().and_then(|r| r.zone.clone()) else {
        return Ok(());
    };
    let Some([Some(free), ..]) = node.zone(&zone)? else {
        return Ok(());
    };
    if rss <= 0 {
        return Ok(());
    }
    let crate::model::table::Key::Zone(n, name) = &zone else {
        return Ok(());
    };
    let fields = [
        ("node", Value::Int(*n)),
        ("zone", Value::Str(name.clone())),
        ("free_kb", Value::Int(free + rss)),
    ];
    node.emit(event(kind::ZONE, None, &fields), keep)
}

pub fn perform(prog: &Program, node: &Node, who: Who, keep: bool) -> Result<Option<Moved>> {
    match who {
        Who::Actor(i) => actor_move(prog, node, i, keep),
        Who::Reaper => reaper_move(prog, node, keep),
    }
}
