//! The decisions the kernel makes and a scenario in the actor form leaves to the state: whether a lock can be
//! taken now, whether an allocation passes the watermark check, whom the OOM killer chooses, whether a guard
//! holds. Each reads the model's state only; the facts are kernel-formats.md's (§1.9, §1.10, §3).

use super::node::Node;
use super::program::{Cond, Ending, Holder, Level, Program, Reserve};
use crate::error::Result;
use crate::model::state::f;
use crate::model::table::Key;
use crate::model::value::Str;

/// Whether `pid` may take `lock` now. A rwsem-like queue: a writer needs no holder and nobody queued before it;
/// a reader needs no writer holding and no writer queued before it (a queued writer blocks new readers, as the
/// reaper's trylock assumes). `queued`: the task already waits in the queue (only those before it count).
pub fn can_take(node: &Node, lock: &Str, pid: i64, write: bool, queued: bool) -> Result<bool> {
    let (holders, waiters) = node.lock(lock)?;
    if holders.iter().any(|&(_, w)| w || write) {
        return Ok(false);
    }
    let ahead: &[(i64, bool)] = if queued {
        let at = waiters
            .iter()
            .position(|&(p, _)| p == pid)
            .unwrap_or(waiters.len());
        &waiters[..at]
    } else {
        &waiters
    };
    let ahead = ahead.iter().filter(|&&(p, _)| p != pid);
    Ok(if write {
        ahead.count() == 0
    } else {
        !ahead.into_iter().any(|&(_, w)| w)
    })
}

/// The stricter of two reserves (the one that lets the allocation go lower).
fn deeper(a: Reserve, b: Reserve) -> Reserve {
    match (a, b) {
        (Reserve::None, _) | (_, Reserve::None) => Reserve::None,
        (Reserve::Frac(n1, d1), Reserve::Frac(n2, d2)) => {
            if n1 * d2 <= n2 * d1 {
                a
            } else {
                b
            }
        }
    }
}

/// `__zone_watermark_ok` over the zones the allocation may use: free pages minus (2^order − 1) above the mark
/// lowered by the reserve. An OOM victim's own allocations get the kernel's victim reserve (per process when
/// that is a fraction, ≥ 4.14's ALLOC_OOM; per thread when it is no watermark, ≤ 4.13's TIF_MEMDIE).
/// lowmem_reserve and fragmentation (free blocks of the order) are not modelled.
pub fn alloc_ok(
    node: &Node,
    prog: &Program,
    pid: i64,
    order: i64,
    level: Level,
    reserve: Reserve,
    zone: Option<&Key>,
) -> Result<bool> {
    let victim = match prog.rules.victim_reserve {
        Reserve::None => node.victim(pid)?.is_some(),
        Reserve::Frac(..) => {
            let mm = node.mm_of(pid)?;
            node.victims()?
                .iter()
                .any(|v| v[f::victim::MM].as_int() == Some(mm))
        }
    };
    let reserve = if victim {
        deeper(reserve, prog.rules.victim_reserve)
    } else {
        reserve
    };
    let keys: Vec<Key> = match zone {
        Some(z) => vec![z.clone()],
        None => prog.zones.clone(),
    };
    let unusable = ((1i64 << order.clamp(0, 20)) - 1) * 4; // kB of a 4 kB page
    for key in &keys {
        let Some([Some(free), min, low, high]) = node.zone(key)? else {
            continue;
        };
        let mark = match level {
            Level::Min => min,
            Level::Low => low,
            Level::High => high,
        };
        let left = free - unusable;
        let ok = match (reserve, mark) {
            (Reserve::None, _) => left > 0,
            (Reserve::Frac(n, d), Some(mark)) => left * d > mark * n,
            (Reserve::Frac(..), None) => false,
        };
        if ok {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether a zone is at or above its high watermark (a kill now is one the memory did not need).
pub fn above_high(node: &Node) -> Result<bool> {
    for key in node.zone_keys()? {
        if let Some([Some(free), _, _, Some(high)]) = node.zone(&key)? {
            if free >= high {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// A victim as outcomes and guards name it.
pub fn status(node: &Node, prog: &Program, pid: i64) -> Result<&'static str> {
    let Some(v) = node.victim(pid)? else {
        return Ok("none");
    };
    match v[f::victim::OUTCOME].as_str() {
        Some("reaped") => return Ok("reaped"),
        Some("unable") => return Ok("unable"),
        _ => {}
    }
    let mm = v[f::victim::MM].as_int().unwrap_or(pid);
    if let Some(flag) = &prog.rules.skip_flag {
        if node.mm_has(mm, flag)? {
            return Ok("skipped");
        }
    }
    Ok(if node.exited(pid)? {
        "exited"
    } else {
        "pending"
    })
}

/// Whether a victim no longer holds back the choice of another one, by the kernel's rule.
fn ended(node: &Node, prog: &Program, pid: i64) -> Result<bool> {
    let st = status(node, prog, pid)?;
    Ok(match prog.rules.ending {
        Ending::Exit => st == "exited",
        Ending::Reaped => matches!(st, "exited" | "reaped"),
        Ending::ReaperDone => st != "pending",
        Ending::OomSkip => st == "exited" || skip_set(node, prog, pid)?,
    })
}

fn skip_set(node: &Node, prog: &Program, pid: i64) -> Result<bool> {
    match &prog.rules.skip_flag {
        Some(flag) => node.mm_has(node.mm_of(pid)?, flag),
        None => Ok(false),
    }
}

/// What `select_bad_process` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    Kill(i64, i64),
    /// a victim still in flight: kill nobody and wait for it (`oc->chosen == -1`)
    Wait(i64),
    Nothing,
}

/// The candidates in declaration order: a pending victim (one not ended by the kernel's rule) makes the scan
/// abort; exited tasks, `oom_score_adj` −1000 and mms with the skip flag are passed over; the highest badness
/// wins, a later candidate winning a tie (`points < chosen_points` goes to the next task).
pub fn choose(node: &Node, prog: &Program) -> Result<Choice> {
    for v in &node.victims()? {
        let pid = v[f::victim::PID].as_int().unwrap_or(-1);
        if !node.exited(pid)? && !ended(node, prog, pid)? {
            return Ok(Choice::Wait(pid));
        }
    }
    let victims = node.victims()?;
    let mut best: Option<(i64, i64)> = None;
    for c in &prog.candidates {
        let Some(t) = node.task(c.pid)? else { continue };
        if t[f::task::EXITED].truthy() || t[f::task::OOM_SCORE_ADJ].as_int() == Some(-1000) {
            continue;
        }
        let mm = node.mm_of(c.pid)?;
        let is_victim = victims
            .iter()
            .any(|v| v[f::victim::MM].as_int() == Some(mm));
        if is_victim || skip_set(node, prog, c.pid)? {
            continue;
        }
        if best.is_none_or(|(_, p)| c.points >= p) {
            best = Some((c.pid, c.points));
        }
    }
    Ok(best.map_or(Choice::Nothing, |(pid, p)| Choice::Kill(pid, p)))
}

/// Whether every condition of a guard holds.
pub fn holds(node: &Node, prog: &Program, guard: &[Cond]) -> Result<bool> {
    for c in guard {
        let ok = match c {
            Cond::Alloc { pid, outcome } => node.task(*pid)?.is_some_and(|t| {
                t[f::task::ALLOC]
                    .as_list()
                    .and_then(|a| a.get(2))
                    .and_then(|o| o.as_str())
                    == Some(&**outcome)
            }),
            Cond::Flag { mm, pid, flag, set } => {
                let on = match (mm, pid) {
                    (Some(mm), _) => node.mm_has(*mm, flag)?,
                    (None, Some(pid)) => node.task_has(*pid, flag)?,
                    (None, None) => false,
                };
                on == *set
            }
            Cond::Lock { lock, holder } => {
                let (hs, _) = node.lock(lock)?;
                match holder {
                    Holder::Nobody => hs.is_empty(),
                    Holder::Anyone => !hs.is_empty(),
                    Holder::Pid(p) => hs.iter().any(|&(h, _)| h == *p),
                }
            }
            Cond::Zone { zone, level, above } => match node.zone(zone)? {
                Some([Some(free), min, low, high]) => {
                    let mark = match level {
                        Level::Min => min,
                        Level::Low => low,
                        Level::High => high,
                    };
                    mark.is_some_and(|m| (free >= m) == *above)
                }
                _ => false,
            },
            Cond::Victim { pid, status: want } => status(node, prog, *pid)? == &**want,
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}
