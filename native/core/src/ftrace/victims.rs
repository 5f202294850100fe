//! What a recording shows of the OOM killer's victims, and what it leaves to be inferred (recording.md §3.1):
//! Python's `ftrace_victims`.
//!
//! Three things have no tracepoint: the clearing of `TIF_MEMDIE`, the setting of `MMF_OOM_SKIP`, and whether a
//! reaper attempt succeeded. `Victims` keeps, per victim, what is needed to infer them as the events come in time
//! order, without looking ahead (so the converter streams): the reaper's attempts so far, whether its outcome is
//! known, whether the mm is gone, and the mm the victim's threads share, so that a dying thread marking itself a
//! victim is not taken for a second kill.

use crate::model::schema::MAX_OOM_REAP_RETRIES;
use crate::model::Str;
use rustc_hash::{FxHashMap, FxHashSet};

/// `mark_victim`'s counters, in `_MARK_VICTIM_FIELDS` order: total_vm_kb, anon_rss_kb, file_rss_kb, shmem_rss_kb,
/// pgtables_kb, uid, oom_score_adj; None where the line does not say.
pub type Counters = [Option<i128>; 7];
/// The counters that describe the mm, not the thread: equal counters mean the same mm.
const MM_COUNTERS: usize = 5;

/// One killed process, keyed by the pid `mark_victim` named.
#[derive(Clone, Debug)]
pub struct Victim {
    pub pid: i64,
    pub comm: Option<Str>,
    pub counters: Counters,
    /// The rss_stat mm_id of the victim's mm, when the recording has one.
    pub mm: Option<Str>,
    /// Threads with TIF_MEMDIE set (inferred).
    pub marked: FxHashSet<i64>,
    pub attempts: usize,
    /// start_task_reaping seen, finish not yet.
    pub reaping: bool,
    /// The recording has oom:* reaper events for it.
    pub reaper_seen: bool,
    /// reaper_done emitted (reaped or unable).
    pub done: bool,
    /// MMF_OOM_SKIP set (inferred).
    pub oom_skip: bool,
    /// The last thread exited: the mm is torn down.
    pub gone: bool,
}

/// The victims of one recording, and the tasks' mms (from `rss_stat`'s `mm_id` and the TGID column).
#[derive(Default)]
pub struct Victims {
    /// In the order each pid was first added (a Python dict's order: a re-added pid keeps its place).
    list: Vec<Victim>,
    index: FxHashMap<i64, usize>,
    /// pid -> mm_id of its current mm (rss_stat with curr=1).
    pub mm_of: FxHashMap<i64, Str>,
    /// pid -> tgid (record-tgid column).
    pub tgid_of: FxHashMap<i64, i64>,
    /// child pid -> parent pid (sched_process_fork).
    pub forked_by: FxHashMap<i64, i64>,
}

impl Victims {
    pub fn get_mut(&mut self, pid: i64) -> Option<&mut Victim> {
        self.index.get(&pid).map(|&i| &mut self.list[i])
    }

    /// The live victim `pid` belongs to (itself, or a process whose mm it shares), or None: a new kill.
    ///
    /// Shared mm is known from `rss_stat` (threads report the same `mm_id`) or the TGID column; failing both,
    /// from `sched_process_fork` ancestry together with identical mm counters in the extended mark_victim.
    pub fn owner(&self, pid: i64, counters: &Counters) -> Option<usize> {
        let said = counters.iter().any(Option::is_some);
        self.list.iter().position(|v| {
            if v.gone {
                return false;
            }
            if pid == v.pid || v.marked.contains(&pid) {
                return true;
            }
            if let Some(mm) = self.mm_of.get(&pid) {
                if Some(mm) == v.mm.as_ref().or_else(|| self.mm_of.get(&v.pid)) {
                    return true;
                }
            }
            if let Some(tgid) = self.tgid_of.get(&pid) {
                if *tgid == *self.tgid_of.get(&v.pid).unwrap_or(&v.pid) {
                    return true;
                }
            }
            said && counters[..MM_COUNTERS] == v.counters[..MM_COUNTERS]
                && self.descends(pid, v.pid)
        })
    }

    fn descends(&self, mut pid: i64, ancestor: i64) -> bool {
        let mut seen = FxHashSet::default();
        while let Some(&parent) = self.forked_by.get(&pid) {
            if !seen.insert(pid) {
                return false;
            }
            pid = parent;
            if pid == ancestor {
                return true;
            }
        }
        false
    }

    pub fn at(&mut self, i: usize) -> &mut Victim {
        &mut self.list[i]
    }

    /// A new victim (replacing one of the same pid, in its place): its index for `at`.
    pub fn add(&mut self, pid: i64, comm: Option<Str>, counters: Counters) -> usize {
        let v = Victim {
            pid,
            comm,
            counters,
            mm: self.mm_of.get(&pid).cloned(),
            marked: FxHashSet::from_iter([pid]),
            attempts: 0,
            reaping: false,
            reaper_seen: false,
            done: false,
            oom_skip: false,
            gone: false,
        };
        match self.index.get(&pid) {
            Some(&i) => {
                self.list[i] = v;
                i
            }
            None => {
                self.list.push(v);
                self.index.insert(pid, self.list.len() - 1);
                self.list.len() - 1
            }
        }
    }

    /// The index of `pid`'s victim, if it is one.
    pub fn index_of(&self, pid: i64) -> Option<usize> {
        self.index.get(&pid).copied()
    }

    /// The live victim whose process `pid` (a thread of it, by mm or tgid, or the victim itself) is.
    pub fn of_exiting(&self, pid: i64) -> Option<usize> {
        match self.index.get(&pid) {
            Some(&i) if !self.list[i].gone => Some(i),
            _ => self.owner(pid, &[None; 7]),
        }
    }
}

impl Victim {
    /// Count one reaper attempt; returns its number and whether it was the last the kernel makes.
    pub fn attempt(&mut self, lock_busy: bool) -> (usize, bool) {
        self.attempts += 1;
        (
            self.attempts,
            lock_busy && self.attempts >= MAX_OOM_REAP_RETRIES,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_sharing_the_mm_is_no_new_kill() {
        let mut vs = Victims::default();
        vs.mm_of.insert(10, Str::from("77"));
        vs.mm_of.insert(11, Str::from("77"));
        vs.add(10, None, [None; 7]);
        assert_eq!(vs.owner(11, &[None; 7]), Some(0));
        assert_eq!(vs.owner(12, &[None; 7]), None);
        vs.tgid_of.insert(12, 10);
        assert_eq!(vs.owner(12, &[None; 7]), Some(0));
    }

    #[test]
    fn fork_ancestry_with_equal_counters() {
        let mut vs = Victims::default();
        let c = [Some(10), Some(8), None, None, Some(4), Some(0), Some(0)];
        vs.add(10, None, c);
        vs.forked_by.insert(20, 15);
        vs.forked_by.insert(15, 10);
        assert_eq!(vs.owner(20, &c), Some(0));
        let mut other = c;
        other[1] = Some(9);
        assert_eq!(vs.owner(20, &other), None);
        assert_eq!(vs.owner(20, &[None; 7]), None); // no counters said: no match by ancestry
        vs.forked_by.insert(10, 20); // a cycle ends the walk
        assert_eq!(vs.owner(30, &c), None);
    }

    #[test]
    fn re_added_victims_keep_their_place_and_gone_ones_are_skipped() {
        let mut vs = Victims::default();
        vs.add(1, None, [None; 7]);
        vs.add(2, None, [None; 7]);
        vs.add(1, Some(Str::from("again")), [None; 7]);
        assert_eq!(vs.of_exiting(1), Some(0));
        vs.at(0).gone = true;
        assert_eq!(vs.of_exiting(1), None);
        let v = vs.get_mut(2).unwrap();
        assert_eq!(v.attempt(true), (1, false));
        for _ in 1..9 {
            v.attempt(true);
        }
        assert_eq!(v.attempt(true), (10, true));
    }
}
