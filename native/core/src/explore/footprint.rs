//! Footprints: what a step reads and writes of the machine (a task's record, a lock, an mm's flags, a zone, the
//! OOM invocations, a victim's record, the reaper's queue), as bit sets over the resources a program names,
//! worked out once per step for the reduction (`reduce`).

use std::collections::HashMap;

use super::node::Node;
use super::program::{Cond, Op, Program};
use crate::model::schema::{flag_is_mm, kind};
use crate::model::table::Key;
use crate::model::value::Str;
use crate::model::{zone_key, Event};

pub(super) const WIDTH: usize = 256;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bits(pub(super) [u64; WIDTH / 64]);

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
pub(super) enum Res {
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
pub(super) struct Ids(HashMap<Res, usize>);

impl Ids {
    fn id(&mut self, r: Res) -> usize {
        let n = self.0.len();
        *self.0.entry(r).or_insert(n.min(WIDTH - 1))
    }
}

/// Builds footprints: what the program's tasks, mms and locks are called.
pub(super) struct Builder<'a> {
    pub(super) ids: Ids,
    pub(super) start: &'a Node,
    pub(super) prog: &'a Program,
    /// mm id -> the names its mmap lock goes by in the program
    pub(super) mm_locks: HashMap<i64, Vec<Str>>,
}

impl Builder<'_> {
    fn r(&mut self, fp: &mut Footprint, r: Res) {
        let i = self.ids.id(r);
        fp.reads.set(i);
    }
    pub(super) fn w(&mut self, fp: &mut Footprint, r: Res) {
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
    pub(super) fn step(&mut self, op: &Op, guard: &[Cond], panic: bool) -> (Footprint, bool) {
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
    pub(super) fn reaper(&mut self, v: i64, panic: bool) -> Footprint {
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
