//! What the explorer is given: the machine at the start, one ordered list of steps per actor, and the rules of
//! the declared kernel that decide what the steps the scenario leaves to the state do (an allocation's outcome,
//! the OOM killer's victim, the reaper's algorithm).
//!
//! Names are resolved before this point (the scenario's parser, in Python, refuses unknown ones with their line):
//! a task is its pid, an mm its id, a zone its key.

use crate::model::table::Key;
use crate::model::value::{Str, Value};
use crate::model::Event;

/// A lock as steps name it: its name (the model's key) and, for an mm's mmap lock, whose.
#[derive(Clone, Debug)]
pub struct LockRef {
    pub name: Str,
    pub mm: Option<i64>,
}

/// A zone watermark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Min,
    Low,
    High,
}

/// How far below a watermark an allocation may go (kernel-formats.md §3.2, §3.3): the mark is multiplied by
/// `num / den` (⅜ for GFP_ATOMIC, ½ for __GFP_HIGH or an OOM victim on ≥ 4.14), or not checked at all
/// (`None`: ALLOC_NO_WATERMARKS).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reserve {
    Frac(i64, i64),
    None,
}

/// Who holds a lock, as a guard asks.
#[derive(Clone, Debug)]
pub enum Holder {
    Nobody,
    Anyone,
    Pid(i64),
}

/// A condition on the state; a guarded step runs when all of its conditions hold and is skipped otherwise.
#[derive(Clone, Debug)]
pub enum Cond {
    /// the task's last allocation ended so
    Alloc { pid: i64, outcome: Str },
    /// a flag is set (or not) on an mm or a task
    Flag {
        mm: Option<i64>,
        pid: Option<i64>,
        flag: Str,
        set: bool,
    },
    /// a lock is held by nobody, by anyone, or by this task
    Lock { lock: Str, holder: Holder },
    /// a zone's free memory is at or above (`above`) or below a watermark
    Zone {
        zone: Key,
        level: Level,
        above: bool,
    },
    /// a victim's status as outcomes name it: reaped, unable, skipped, exited, pending, or none (not a victim)
    Victim { pid: i64, status: Str },
}

/// What a step does.
#[derive(Clone, Debug)]
pub enum Op {
    /// events whose content the scenario says in full (a state change, a flag, a zone, an OOM invocation, a note)
    Emit(Vec<Event>),
    /// take a lock, blocking (a `lock_contended` first) while someone holds it in a conflicting mode
    Take {
        pid: i64,
        lock: LockRef,
        write: bool,
        site: Value,
    },
    Release {
        pid: i64,
        lock: LockRef,
    },
    /// an allocation; `outcome` None: decided by the zones against `level`, lowered by `reserve`
    Alloc {
        pid: i64,
        order: i64,
        gfp: Value,
        outcome: Option<Str>,
        level: Level,
        reserve: Reserve,
        zone: Option<Key>,
        then: Vec<Event>,
    },
    /// the OOM killer's kill; `victim` None: the one the kernel would choose among the candidates
    Kill {
        victim: Option<i64>,
        points: Value,
        retry: Option<Retry>,
    },
    /// the actor's list ends here
    Done,
}

/// One more allocation attempt after the OOM killer has chosen its victim and before it kills it (the fix
/// proposed in the seed thread): the kill is made only if it fails. Selection, attempt and kill are one move,
/// as under `oom_lock`.
#[derive(Clone, Debug)]
pub struct Retry {
    pub pid: i64,
    pub order: i64,
    pub gfp: Value,
    pub level: Level,
    pub reserve: Reserve,
}

#[derive(Clone, Debug)]
pub struct Step {
    pub op: Op,
    pub guard: Vec<Cond>,
}

#[derive(Clone, Debug)]
pub struct Actor {
    pub name: String,
    /// the task whose steps these are, if the actor is one (an `oom_end` it causes names it)
    pub pid: Option<i64>,
    pub steps: Vec<Step>,
}

/// A task the OOM killer may choose, with its badness as the scenario declares it.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub pid: i64,
    pub points: i64,
}

/// When a victim stops holding back the choice of another (analysis `ENDINGS`, kernel-formats.md §1.10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// only its exit (no reaper)
    Exit,
    /// being reaped (4.6: the reaper clears TIF_MEMDIE on success only)
    Reaped,
    /// the reaper being done with it (4.7–4.8)
    ReaperDone,
    /// MMF_OOM_SKIP on its mm (≥ 4.9)
    OomSkip,
}

/// A flag the kernel sets or clears at some point of the algorithm: on the victim's mm or on the victim.
#[derive(Clone, Debug)]
pub struct FlagOp {
    pub flag: Str,
    pub on: bool,
    pub mm: bool,
}

/// The reaper of the declared kernel (kernel-formats.md §1.9).
#[derive(Clone, Debug)]
pub struct ReaperRules {
    /// 4.8–4.18: each try runs under `mutex_lock(&oom_lock)` (the name, when the scenario declares that lock)
    pub oom_lock: Option<Str>,
    /// ≥ 5.0: queued once per mm, marked so
    pub queued_flag: Option<Str>,
    /// ≥ 5.18: woken by a timer OOM_REAPER_DELAY after the kill, which drops a victim whose mm has MMF_OOM_SKIP
    pub timer: bool,
    pub on_reaped: Vec<FlagOp>,
    pub on_unable: Vec<FlagOp>,
    /// where the memory a reaped victim held (`rss_kb`) comes back
    pub zone: Option<Key>,
}

/// The declared kernel's rules for the decisions the scenario leaves to the state.
#[derive(Clone, Debug)]
pub struct Rules {
    pub reaper: Option<ReaperRules>,
    pub ending: Ending,
    /// the mm flag that makes `oom_badness` skip a task (MMF_OOM_SKIP, MMF_OOM_REAPED on 4.8)
    pub skip_flag: Option<Str>,
    /// what `mark_oom_victim` sets at a kill
    pub on_kill: Vec<FlagOp>,
    /// how an invocation with nothing to kill ends: (outcome, reason) of its `oom_end`
    pub no_killable: (Str, Str),
    /// how far an OOM victim's own allocations may dip (≤ 4.13: no watermark; ≥ 4.14: ½)
    pub victim_reserve: Reserve,
    /// the names of an mm's mmap lock (`mmap_lock`, `mmap_sem`, …): the lock the reaper's trylock needs
    pub mm_locks: Vec<Str>,
}

#[derive(Clone, Debug)]
pub struct Program {
    /// the declarations and the fixed prologue, applied in order before any actor moves
    pub init: Vec<Event>,
    pub actors: Vec<Actor>,
    pub candidates: Vec<Candidate>,
    /// what reaping each task gives back, in kB (a task not named gives nothing back)
    pub rss_kb: Vec<(i64, i64)>,
    /// every zone the scenario declares (an allocation with no zone of its own may use any)
    pub zones: Vec<Key>,
    pub rules: Rules,
}

impl Program {
    pub fn rss_of(&self, pid: i64) -> i64 {
        self.rss_kb
            .iter()
            .find(|(p, _)| *p == pid)
            .map_or(0, |(_, kb)| *kb)
    }

    /// Every task some step may make a victim: the candidates and the explicit kills' targets.
    pub fn killable(&self) -> Vec<i64> {
        let mut out: Vec<i64> = self.candidates.iter().map(|c| c.pid).collect();
        for a in &self.actors {
            for s in &a.steps {
                if let Op::Kill {
                    victim: Some(pid), ..
                } = s.op
                {
                    out.push(pid);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}
