//! Partial-order reduction: persistent sets of a single move, from a static independence relation.
//!
//! Every step has a footprint (`footprint`): the parts of the machine it reads and writes (a task's record, a lock, an mm's
//! flags, a zone, the OOM invocations, a victim's record, the reaper's queue). Two moves of different actors
//! whose footprints do not conflict (neither writes what the other reads or writes) commute: applied in
//! either order they reach the same state, and neither enables or disables the other, since what enables a
//! step (its guard, its lock) is in its footprint too.
//!
//! At a node, a move of actor i is taken alone when it conflicts with nothing any *other* actor can still do
//! (the union of the footprints of its remaining steps, the reaper's of every victim it may ever work on while
//! a kill can still come). Then {move} is a persistent set (Godefroid 1996, def. 4.1): no sequence of other
//! moves can reach a state where it is dependent on them. The state graph is acyclic (every move advances an
//! actor or the reaper, which are finite), so no cycle proviso is needed, and a selective search on persistent
//! sets reaches every terminal state of the full search (Godefroid, thm. 4.3): every outcome class, with the
//! same final states. The choice depends on the node only, so it combines with state hashing soundly (unlike
//! sleep sets). Witnesses stay shortest: every move is one step, and all orders of commuting steps have the
//! same length.
//!
//! Two effects are known only when a move is made, and are added then: an anomaly the move records (the
//! anomalies table is an ordered list, so two moves that both record one do not commute), and a panic (the OOM
//! killer found nothing to kill), which stops every actor. A panic that may still come makes every move
//! dependent on the auto kills ahead, unless the candidates outnumber what could remove them (`panic_possible`).

use std::collections::HashMap;

use super::footprint::{Bits, Builder, Footprint, Ids, Res, WIDTH};
use super::moves::Who;
use super::node::Node;
use super::program::{Op, Program};
use crate::error::Result;
use crate::model::schema::kind;
use crate::model::state::f;
use crate::model::value::Str;

/// The independence relation of one program, worked out once.
pub struct Independence {
    /// per actor, per step: its footprint, and whether it may record an anomaly
    step: Vec<Vec<(Footprint, bool)>>,
    /// per actor, per position: the union of the footprints of the steps from there on (one more at the end)
    future: Vec<Vec<Footprint>>,
    /// per actor, per position: whether a kill is still ahead (the reaper may get more work)
    kills_ahead: Vec<Vec<bool>>,
    reaper_of: HashMap<i64, Footprint>,
    reaper_all: Footprint,
    anomalies: Footprint,
    has_reaper: bool,
}

/// Whether some auto kill may find nothing to kill: fewer processes among the candidates than the kills,
/// exits and skip flags that could remove them.
fn panic_possible(prog: &Program, start: &Node) -> bool {
    let mut mms: Vec<i64> = Vec::new();
    for c in &prog.candidates {
        let alive = start.task(c.pid).ok().flatten().is_some_and(|t| {
            !t[f::task::EXITED].truthy() && t[f::task::OOM_SCORE_ADJ].as_int() != Some(-1000)
        });
        if alive {
            mms.push(start.mm_of(c.pid).unwrap_or(c.pid));
        }
    }
    mms.sort_unstable();
    mms.dedup();
    let mut removals = 0;
    let mut auto = false;
    for s in prog.actors.iter().flat_map(|a| &a.steps) {
        match &s.op {
            Op::Kill { victim, .. } => {
                removals += 1;
                auto |= victim.is_none();
            }
            Op::Emit(evs) => {
                removals += evs
                    .iter()
                    .filter(|e| e.kind == kind::TASK_EXIT || e.kind == kind::FLAG_SET)
                    .count()
            }
            _ => {}
        }
    }
    auto && mms.len() < removals
}

impl Independence {
    pub fn new(prog: &Program, start: &Node) -> Result<Independence> {
        let mut mm_locks: HashMap<i64, Vec<Str>> = HashMap::new();
        let mut note = |name: &Str, mm: Option<i64>| {
            if let Some(mm) = mm {
                let names = mm_locks.entry(mm).or_default();
                if !names.contains(name) {
                    names.push(name.clone());
                }
            }
        };
        for a in &prog.actors {
            for s in &a.steps {
                match &s.op {
                    Op::Take { lock, .. } | Op::Release { lock, .. } => note(&lock.name, lock.mm),
                    Op::Emit(evs) => {
                        for e in evs.iter().filter(|e| e.get("lock").as_str().is_some()) {
                            note(&Str::from(e.get("lock").to_string()), e.get("mm").as_int());
                        }
                    }
                    _ => {}
                }
            }
        }
        for lk in start.model.tables[crate::model::state::T_LOCKS].values()? {
            note(
                &Str::from(lk[f::lock::NAME].to_string()),
                lk[f::lock::MM].as_int(),
            );
        }
        let panic = panic_possible(prog, start);
        let mut b = Builder {
            ids: Ids::default(),
            start,
            prog,
            mm_locks,
        };
        let mut step = Vec::new();
        let mut future = Vec::new();
        let mut kills_ahead = Vec::new();
        for a in &prog.actors {
            let fps: Vec<(Footprint, bool)> = a
                .steps
                .iter()
                .map(|s| b.step(&s.op, &s.guard, panic))
                .collect();
            let mut fut = vec![Footprint::default(); fps.len() + 1];
            let mut kills = vec![false; fps.len() + 1];
            for i in (0..fps.len()).rev() {
                fut[i] = fut[i + 1];
                fut[i].add(&fps[i].0);
                if fps[i].1 {
                    b.w(&mut fut[i], Res::Anomalies);
                }
                kills[i] = kills[i + 1] || matches!(a.steps[i].op, Op::Kill { .. });
            }
            step.push(fps);
            future.push(fut);
            kills_ahead.push(kills);
        }
        let mut reaper_of = HashMap::new();
        let mut reaper_all = Footprint::default();
        for v in prog.killable() {
            let fp = b.reaper(v, panic);
            reaper_all.add(&fp);
            reaper_of.insert(v, fp);
        }
        let mut anomalies = Footprint::default();
        b.w(&mut anomalies, Res::Anomalies);
        Ok(Independence {
            step,
            future,
            kills_ahead,
            reaper_of,
            reaper_all,
            anomalies,
            has_reaper: prog.rules.reaper.is_some(),
        })
    }

    /// The footprint of a move just made: `panicked` it made the kernel panic, `anomaly` it recorded one.
    pub fn of_move(
        &self,
        who: Who,
        step: Option<usize>,
        victim: Option<i64>,
        panicked: bool,
        anomaly: bool,
    ) -> Footprint {
        if panicked {
            return Footprint {
                reads: Bits::default(),
                writes: Bits([u64::MAX; WIDTH / 64]),
            };
        }
        let mut fp = match (who, step, victim) {
            (Who::Actor(i), Some(s), _) => self.step[i][s].0,
            (Who::Reaper, _, Some(v)) => self.reaper_of.get(&v).copied().unwrap_or(self.reaper_all),
            _ => self.reaper_all,
        };
        if anomaly {
            fp.add(&self.anomalies);
        }
        fp
    }

    /// Whether a move with footprint `fp` by `who` commutes with everything the others can still do from a
    /// node where actor j is at step `pc(j)` and the reaper is `busy` or not.
    pub fn alone(&self, who: Who, fp: &Footprint, pc: impl Fn(usize) -> usize, busy: bool) -> bool {
        let mut kill_ahead = false;
        for (j, fut) in self.future.iter().enumerate() {
            let pc = pc(j);
            if who == Who::Actor(j) {
                continue; // its own later steps come after this move
            }
            kill_ahead |= self.kills_ahead[j][pc];
            if fp.conflicts(&fut[pc]) {
                return false;
            }
        }
        let reaper_live = self.has_reaper && (busy || kill_ahead);
        who == Who::Reaper || !reaper_live || !fp.conflicts(&self.reaper_all)
    }
}
