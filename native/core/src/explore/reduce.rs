//! Partial-order reduction: persistent sets of a single move, from a static independence relation.
//!
//! Every step has a footprint: the parts of the machine it reads and writes (a task's record, a lock, an mm's
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

use super::moves::Who;
use super::node::Node;
use super::program::{Cond, Op, Program};
use crate::error::Result;
use crate::model::schema::{flag_is_mm, kind};
use crate::model::state::f;
use crate::model::table::Key;
use crate::model::value::Str;
use crate::model::{zone_key, Event};

const WIDTH: usize = 256;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bits([u64; WIDTH / 64]);

impl Bits {
    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    fn meets(&self, o: &Bits) -> bool {
        self.0.iter().zip(&o.0).any(|(a, b)| a & b != 0)
    }
    fn or(&mut self, o: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&o.0) {
            *a |= b;
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Footprint {
    pub reads: Bits,
    pub writes: Bits,
}

impl Footprint {
    pub fn conflicts(&self, o: &Footprint) -> bool {
        self.writes.meets(&o.writes) || self.writes.meets(&o.reads) || o.writes.meets(&self.reads)
    }
    pub fn add(&mut self, o: &Footprint) {
        self.reads.or(&o.reads);
        self.writes.or(&o.writes);
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Res {
    Task(i64),
    Lock(Str),
    Mm(i64),
    Zone(Key),
    Ooms,
    Victim(i64),
    Queue,
    Anomalies,
    Panic,
    Other,
}

/// Resources numbered as first met; past the width they share the last bit (more conflicts, never fewer).
#[derive(Default)]
struct Ids(HashMap<Res, usize>);

impl Ids {
    fn id(&mut self, r: Res) -> usize {
        let n = self.0.len();
        *self.0.entry(r).or_insert(n.min(WIDTH - 1))
    }
}

/// Builds footprints: what the program's tasks, mms and locks are called.
struct Builder<'a> {
    ids: Ids,
    start: &'a Node,
    prog: &'a Program,
    /// mm id -> the names its mmap lock goes by in the program
    mm_locks: HashMap<i64, Vec<Str>>,
}

impl Builder<'_> {
    fn r(&mut self, fp: &mut Footprint, r: Res) {
        let i = self.ids.id(r);
        fp.reads.set(i);
    }
    fn w(&mut self, fp: &mut Footprint, r: Res) {
        let i = self.ids.id(r);
        fp.writes.set(i);
    }
    fn mm(&self, pid: i64) -> i64 {
        self.start.mm_of(pid).unwrap_or(pid)
    }

    /// An event's footprint, and whether it may record an anomaly.
    fn event(&mut self, fp: &mut Footprint, ev: &Event) -> bool {
        let pid = ev.pid.unwrap_or(-1);
        match ev.kind {
            kind::TASK | kind::TASK_STATE | kind::RSS | kind::ALLOC | kind::OOM_CANDIDATE => {
                self.w(fp, Res::Task(pid));
                ev.kind == kind::ALLOC
            }
            kind::FORK => {
                self.w(fp, Res::Task(pid));
                let child = ev.get("child").as_int().unwrap_or(-1);
                self.w(fp, Res::Task(child));
                true
            }
            kind::TASK_EXIT => {
                self.w(fp, Res::Task(pid));
                self.w(fp, Res::Victim(pid));
                false
            }
            kind::LOCK_ACQUIRE | kind::LOCK_CONTENDED | kind::LOCK_RELEASE | kind::LOCK_HELD => {
                self.w(fp, Res::Lock(Str::from(ev.get("lock").to_string())));
                true
            }
            kind::FLAG_SET | kind::FLAG_CLEAR => {
                let flag = ev.get("flag").to_string();
                if flag_is_mm(&flag, ev.get("target").as_str()) {
                    let mm = ev.get("mm").as_int().unwrap_or_else(|| self.mm(pid));
                    self.w(fp, Res::Mm(mm));
                    self.r(fp, Res::Task(pid));
                } else {
                    self.w(fp, Res::Task(pid));
                }
                ev.kind == kind::FLAG_CLEAR
            }
            kind::ZONE => {
                self.w(fp, Res::Zone(zone_key(ev.get("node"), ev.get("zone"))));
                true
            }
            kind::OOM_INVOKE | kind::OOM_END => {
                self.w(fp, Res::Ooms);
                self.w(fp, Res::Task(pid));
                true
            }
            kind::NOTE | kind::MARK | kind::LOG => false,
            kind::MEMCG | kind::MEMINFO => {
                self.w(fp, Res::Other);
                true
            }
            _ => {
                // the OOM killer's and the reaper's events are the explorer's own, never a step's: be safe
                fp.writes = Bits([u64::MAX; WIDTH / 64]);
                true
            }
        }
    }

    fn cond(&mut self, fp: &mut Footprint, c: &Cond) {
        match c {
            Cond::Alloc { pid, .. } => self.r(fp, Res::Task(*pid)),
            Cond::Flag { mm: Some(mm), .. } => self.r(fp, Res::Mm(*mm)),
            Cond::Flag { pid, .. } => self.r(fp, Res::Task(pid.unwrap_or(-1))),
            Cond::Lock { lock, .. } => self.r(fp, Res::Lock(lock.clone())),
            Cond::Zone { zone, .. } => self.r(fp, Res::Zone(zone.clone())),
            Cond::Victim { pid, .. } => {
                self.r(fp, Res::Victim(*pid));
                self.r(fp, Res::Task(*pid));
                let mm = self.mm(*pid);
                self.r(fp, Res::Mm(mm));
            }
        }
    }

    fn zones(&mut self, fp: &mut Footprint, write: bool) {
        for z in self.prog.zones.clone() {
            if write {
                self.w(fp, Res::Zone(z));
            } else {
                self.r(fp, Res::Zone(z));
            }
        }
    }

    /// What deciding a kill reads (every possible victim, the zones) and every kill writes.
    fn kill_common(&mut self, fp: &mut Footprint) {
        for k in self.prog.killable() {
            self.r(fp, Res::Victim(k));
            self.r(fp, Res::Task(k));
            let mm = self.mm(k);
            self.r(fp, Res::Mm(mm));
        }
        self.zones(fp, false);
        self.w(fp, Res::Ooms);
        self.w(fp, Res::Queue);
    }

    fn killed(&mut self, fp: &mut Footprint, pid: i64) {
        self.w(fp, Res::Victim(pid));
        self.w(fp, Res::Task(pid));
        let mm = self.mm(pid);
        self.w(fp, Res::Mm(mm));
    }

    /// A step's footprint (its guard's reads included) and whether it may record an anomaly.
    fn step(&mut self, op: &Op, guard: &[Cond], panic: bool) -> (Footprint, bool) {
        let mut fp = Footprint::default();
        for c in guard {
            self.cond(&mut fp, c);
        }
        if panic {
            self.r(&mut fp, Res::Panic);
        }
        let may = match op {
            Op::Emit(evs) => evs.iter().fold(false, |m, ev| self.event(&mut fp, ev) | m),
            Op::Take { lock, .. } => {
                self.w(&mut fp, Res::Lock(lock.name.clone()));
                false
            }
            Op::Release { lock, .. } => {
                self.w(&mut fp, Res::Lock(lock.name.clone()));
                true
            }
            Op::Alloc {
                pid, zone, then, ..
            } => {
                self.w(&mut fp, Res::Task(*pid));
                match zone {
                    Some(z) => self.r(&mut fp, Res::Zone(z.clone())),
                    None => self.zones(&mut fp, false),
                }
                for k in self.prog.killable() {
                    self.r(&mut fp, Res::Victim(k));
                }
                then.iter().fold(false, |m, ev| self.event(&mut fp, ev) | m)
            }
            Op::Kill {
                victim: Some(v), ..
            } => {
                self.kill_common(&mut fp);
                self.killed(&mut fp, *v);
                true
            }
            Op::Kill {
                victim: None,
                retry,
                ..
            } => {
                self.kill_common(&mut fp);
                if let Some(r) = retry {
                    self.w(&mut fp, Res::Task(r.pid));
                }
                for c in self.prog.candidates.clone() {
                    self.killed(&mut fp, c.pid);
                }
                if panic {
                    self.w(&mut fp, Res::Panic);
                }
                false
            }
            Op::Done => false,
        };
        (fp, may)
    }

    /// Everything the reaper touches working on victim `v`.
    fn reaper(&mut self, v: i64, panic: bool) -> Footprint {
        let mut fp = Footprint::default();
        let mm = self.mm(v);
        self.r(&mut fp, Res::Task(v));
        for name in self.mm_locks.get(&mm).cloned().unwrap_or_default() {
            self.r(&mut fp, Res::Lock(name));
        }
        if let Some(l) = self
            .prog
            .rules
            .reaper
            .as_ref()
            .and_then(|r| r.oom_lock.clone())
        {
            self.r(&mut fp, Res::Lock(l));
        }
        self.killed(&mut fp, v);
        if let Some(z) = self.prog.rules.reaper.as_ref().and_then(|r| r.zone.clone()) {
            self.w(&mut fp, Res::Zone(z));
        }
        self.w(&mut fp, Res::Queue);
        if panic {
            self.r(&mut fp, Res::Panic);
        }
        fp
    }
}

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

    /// The footprint of a move just made from `before` to `after`.
    pub fn of_move(
        &self,
        who: Who,
        step: Option<usize>,
        victim: Option<i64>,
        before: &Node,
        after: &Node,
    ) -> Footprint {
        if after.panicked {
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
        if after.anomalies() > before.anomalies() {
            fp.add(&self.anomalies);
        }
        fp
    }

    /// Whether a move with footprint `fp` by `who` commutes with everything the others can still do from `node`.
    pub fn alone(&self, who: Who, fp: &Footprint, node: &Node) -> bool {
        let mut kill_ahead = false;
        for (j, fut) in self.future.iter().enumerate() {
            let pc = node.pcs[j] as usize;
            if who == Who::Actor(j) {
                continue; // its own later steps come after this move
            }
            kill_ahead |= self.kills_ahead[j][pc];
            if fp.conflicts(&fut[pc]) {
                return false;
            }
        }
        let reaper_live = self.has_reaper && (node.reaper.busy() || kill_ahead);
        who == Who::Reaper || !reaper_live || !fp.conflicts(&self.reaper_all)
    }
}
