//! One point of the search: the model's `State` (the same tables `apply` keeps for a trace) plus what the model
//! does not hold: where each actor is in its list, whether it is queued on the lock its next step takes, the
//! reaper's queue and round, and what the path has seen (kills, kills while memory was above high, a panic).
//!
//! The events applied here carry no seq and no time, so the model's `since` fields stay empty and two orders of
//! independent steps reach the very same state, which is what lets the fingerprint merge them.

use crate::error::Result;
use crate::model::digest::Fp;
use crate::model::state::{f, T_LOCKS, T_MMS, T_TASKS, T_VICTIMS, T_ZONES};
use crate::model::table::Key;
use crate::model::value::{Str, Value};
use crate::model::{apply, Ev, Event, State};

/// Where the reaper is with the victim it works on (kernel-formats.md §1.9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// trying the victim's mmap lock; `tries` made so far in this round
    Trying,
    /// a try succeeded and the memory is back; `reaper_done` and the flags come next
    Reaped,
    /// ten tries failed; "unable to reap" and the flags come next
    GaveUp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Round {
    pub pid: i64,
    pub tries: u8,
    pub phase: Phase,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Reaper {
    /// victims queued, the newest last (the kernel's list is LIFO)
    pub queue: Vec<i64>,
    pub round: Option<Round>,
}

impl Reaper {
    pub fn busy(&self) -> bool {
        self.round.is_some() || !self.queue.is_empty()
    }
}

#[derive(Clone, Debug)]
pub struct Node {
    pub model: State,
    /// each actor's next step
    pub pcs: Vec<u32>,
    /// each actor queued (a `lock_contended` applied) on the lock of its next step
    pub waiting: Vec<bool>,
    pub reaper: Reaper,
    pub kills: u32,
    /// kills made while some zone's free memory was at or above its high watermark
    pub needless: u32,
    /// the OOM killer found nothing to kill and the kernel panicked: nothing moves any more
    pub panicked: bool,
}

impl Node {
    pub fn start(init: &[Event], actors: usize) -> Result<Node> {
        let mut model = State::hashed();
        for ev in init {
            apply(
                &mut model,
                &Ev {
                    seq: None,
                    ts: 0,
                    ..Ev::of(ev)
                },
            )?;
        }
        model.seq = None;
        model.ts_ns = None;
        Ok(Node {
            model,
            pcs: vec![0; actors],
            waiting: vec![false; actors],
            reaper: Reaper::default(),
            kills: 0,
            needless: 0,
            panicked: false,
        })
    }

    /// The fingerprint of everything that decides what happens next (and how the path ends).
    pub fn fingerprint(&self) -> Result<u64> {
        let pcw = self
            .pcs
            .iter()
            .zip(&self.waiting)
            .map(|(pc, w)| pcw(*pc, *w));
        Ok(fingerprint_of(
            self.model.digest()?,
            pcw,
            &self.reaper,
            [self.kills, self.needless],
            self.panicked,
        ))
    }

    /// Apply one event the explorer made (no seq, no time), keeping it when `keep` collects a witness.
    pub fn emit(&mut self, ev: Event, keep: &mut Option<Vec<Event>>) -> Result<()> {
        apply(&mut self.model, &Ev::of(&ev))?;
        if let Some(k) = keep {
            k.push(ev);
        }
        Ok(())
    }

    pub fn anomalies(&self) -> usize {
        self.model.tables[crate::model::state::T_ANOMALIES].len()
    }

    // -- reading the model ------------------------------------------------------------------------------------

    pub fn task(&self, pid: i64) -> Result<Option<crate::model::Rec>> {
        self.model.get(T_TASKS, &Key::Int(pid))
    }

    /// A task's process (its mm's id): its tgid, or itself.
    pub fn mm_of(&self, pid: i64) -> Result<i64> {
        Ok(self
            .task(pid)?
            .and_then(|t| t[f::task::TGID].as_int())
            .unwrap_or(pid))
    }

    pub fn exited(&self, pid: i64) -> Result<bool> {
        Ok(self.task(pid)?.is_some_and(|t| t[f::task::EXITED].truthy()))
    }

    pub fn task_has(&self, pid: i64, flag: &str) -> Result<bool> {
        Ok(self
            .task(pid)?
            .is_some_and(|t| has(&t[f::task::FLAGS], flag)))
    }

    pub fn mm_has(&self, mm: i64, flag: &str) -> Result<bool> {
        Ok(self
            .model
            .get(T_MMS, &Key::Int(mm))?
            .is_some_and(|m| has(&m[f::mm::FLAGS], flag)))
    }

    pub fn victim(&self, pid: i64) -> Result<Option<crate::model::Rec>> {
        self.model.get(T_VICTIMS, &Key::Int(pid))
    }

    pub fn victims(&self) -> Result<Vec<crate::model::Rec>> {
        values(&self.model.tables[T_VICTIMS])
    }

    /// A lock's holders and waiters as (pid, write) pairs; both empty when nobody has it.
    pub fn lock(&self, name: &Str) -> Result<(Vec<(i64, bool)>, Vec<(i64, bool)>)> {
        let Some(lk) = self.model.get(T_LOCKS, &Key::Str(name.clone()))? else {
            return Ok((Vec::new(), Vec::new()));
        };
        Ok((
            holders(&lk[f::lock::HOLDERS]),
            holders(&lk[f::lock::WAITERS]),
        ))
    }

    /// The lock of mm `mm` whose name is one of `names` (the model keys locks by name), if anyone has it.
    pub fn mm_lock(&self, mm: i64, names: &[Str]) -> Result<Option<Str>> {
        for lk in values(&self.model.tables[T_LOCKS])? {
            let name = lk[f::lock::NAME].as_str().unwrap_or("");
            if lk[f::lock::MM].as_int() == Some(mm) && names.iter().any(|n| &**n == name) {
                return Ok(Some(Str::from(name)));
            }
        }
        Ok(None)
    }

    /// A zone's free memory and its min, low and high watermarks, where said.
    pub fn zone(&self, key: &Key) -> Result<Option<[Option<i64>; 4]>> {
        Ok(self.model.get(T_ZONES, key)?.map(|z| {
            [
                f::zone::FREE_KB,
                f::zone::MIN_KB,
                f::zone::LOW_KB,
                f::zone::HIGH_KB,
            ]
            .map(|i| z[i].as_int())
        }))
    }

    pub fn zone_keys(&self) -> Result<Vec<Key>> {
        Ok(match self.model.tables[T_ZONES].resident() {
            Some(it) => it.map(|(k, _)| k.clone()).collect(),
            None => self.model.tables[T_ZONES].keys()?,
        })
    }
}

/// An actor's position as one word: its next step, and whether it is queued on that step's lock.
pub fn pcw(pc: u32, waiting: bool) -> u32 {
    (pc << 1) | waiting as u32
}

/// A node's fingerprint from its model's digest (`State::digest`) and the rest, one word per actor's position;
/// the packed states (`packed`) take theirs the same way, so both count the same distinct states.
pub fn fingerprint_of(
    model: u64,
    pcws: impl Iterator<Item = u32>,
    reaper: &Reaper,
    [kills, needless]: [u32; 2],
    panicked: bool,
) -> u64 {
    let mut h = Fp::new(model);
    for w in pcws {
        h.word(w as u64);
    }
    h.word(reaper.queue.len() as u64);
    for p in &reaper.queue {
        h.word(*p as u64);
    }
    if let Some(r) = reaper.round {
        h.word(r.pid as u64);
        h.word(((r.tries as u64) << 2) | r.phase as u64);
    } else {
        h.word(u64::MAX);
    }
    h.word(((kills as u64) << 33) | ((needless as u64) << 1) | panicked as u64);
    h.finish()
}

/// A table's records: straight from its pages (the explorer's tables are all in memory).
fn values(t: &crate::model::Table) -> Result<Vec<crate::model::Rec>> {
    Ok(match t.resident() {
        Some(it) => it.map(|(_, r)| r.clone()).collect(),
        None => t.values()?,
    })
}

fn has(flags: &Value, flag: &str) -> bool {
    flags
        .as_list()
        .is_some_and(|l| l.iter().any(|x| x.as_str() == Some(flag)))
}

fn holders(v: &Value) -> Vec<(i64, bool)> {
    v.as_list()
        .unwrap_or(&[])
        .iter()
        .filter_map(|h| {
            let h = h.as_list()?;
            let pid = h.get(f::holder::PID)?.as_int()?;
            Some((
                pid,
                h.get(f::holder::MODE).and_then(Value::as_str) != Some("r"),
            ))
        })
        .collect()
}
