//! The built-in reaper's move. It follows the declared kernel's `oom_reaper` (kernel-formats.md §1.9): wake
//! for the newest queued victim, up to ten trylocks of its mmap lock (each a move, so anything can happen
//! between two, as HZ/10 lets it), the memory back on success, then `reaper_done` and the flags of that version.

use super::moves::{comm, event, flags, Moved};
use super::node::{Node, Phase, Round};
use super::program::Program;
use crate::error::Result;
use crate::model::schema::{kind, MAX_OOM_REAP_RETRIES};
use crate::model::value::{Str, Value};
use crate::model::Event;

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
