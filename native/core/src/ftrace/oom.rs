//! The OOM killer, its reaper and the tasks' lives: `oom:*`, `sched_process_{exit,free}`, `oom_score_adj_update`
//! (Python's `FtraceConverter._mark_victim` … `_free`). The flags the kernel sets without a tracepoint
//! (`TIF_MEMDIE`, `MMF_OOM_SKIP`) and the reaper's outcome are inferred here, with `Victims`.

use super::console::ConsoleParser;
use super::converter::{FtraceConverter, Handled};
use super::line::FtraceLine;
use super::payload::{number, Num};
use super::victims::Counters;
use crate::model::schema::kind;
use crate::model::{Event, Str, Value};

/// `mark_victim`'s counters: the payload's key and the event's field.
const MARK_VICTIM_FIELDS: [(&str, &str); 7] = [
    ("total-vm", "total_vm_kb"),
    ("anon-rss", "anon_rss_kb"),
    ("file-rss", "file_rss_kb"),
    ("shmem-rss", "shmem_rss_kb"),
    ("pgtables", "pgtables_kb"),
    ("uid", "uid"),
    ("oom_score_adj", "oom_score_adj"),
];

/// A field that may be unsaid.
pub(super) fn opt(s: Option<Str>) -> Value {
    s.map_or(Value::Nil, Value::Str)
}

/// A payload's raw text field (Python's `f.get(key)`: an empty text is kept).
pub(super) fn text(s: Option<&str>) -> Value {
    s.map_or(Value::Nil, Value::str)
}

impl<C: ConsoleParser> FtraceConverter<C> {
    /// The payload's `pid`: Ok(None) (and the line rejected) when it names none, Err beyond a pid.
    fn payload_pid(
        &mut self,
        payload: &str,
        lineno: i64,
    ) -> Result<Option<i64>, super::payload::TooLarge> {
        self.pairs.read(payload);
        let pid = number(self.pairs.get(payload, "pid"));
        if pid.is_none() {
            self.reject(lineno);
        }
        pid.pid()
    }

    fn flag(&self, ts: i64, kind: u8, pid: i64, flag: &str, lineno: i64) -> Event {
        let mut ev = self.event(ts, kind, Some(pid), lineno).with("flag", flag);
        ev.inferred = vec![self.names.flag.clone()];
        ev
    }

    pub(super) fn mark_victim(
        &mut self,
        ts: i64,
        rec: &FtraceLine<'_>,
        lineno: i64,
        out: &mut Vec<Event>,
    ) -> Handled {
        let p = rec.payload;
        let Some(pid) = self.payload_pid(p, lineno)? else {
            return Ok(());
        };
        let nums: [Num; 7] = MARK_VICTIM_FIELDS.map(|(key, _)| number(self.pairs.get(p, key)));
        let mut values: [Value; 7] = Default::default();
        for (v, n) in values.iter_mut().zip(nums) {
            *v = n.value()?;
        }
        let counters: Counters = nums.map(|n| match n {
            Num::Int(x) => Some(x),
            _ => None,
        });
        let comm = match self.pairs.get(p, "comm") {
            Some(c) if !c.is_empty() => Some(self.strings.get(c)),
            _ => self.comm.get(&pid).cloned(),
        };
        let memdie = self.flag(ts, kind::FLAG_SET, pid, "TIF_MEMDIE", lineno);
        match self.victims.owner(pid, &counters) {
            Some(i) => {
                // a thread of a live victim marked itself: no new kill
                self.victims.at(i).marked.insert(pid);
                out.push(
                    self.event(ts, kind::OOM_VICTIM, Some(pid), lineno)
                        .with("comm", opt(comm)),
                );
            }
            None => {
                self.victims.add(pid, comm.clone(), counters);
                let mut kill = self
                    .event(ts, kind::OOM_KILL, Some(pid), lineno)
                    .with("comm", opt(comm));
                for ((_, name), v) in MARK_VICTIM_FIELDS.iter().zip(values) {
                    kill.set(name, v);
                }
                out.push(kill);
            }
        }
        out.push(memdie);
        Ok(())
    }

    /// The victim the reaper works on, added when the kill happened before the recording started.
    fn reaped(&mut self, pid: i64) -> usize {
        let i = match self.victims.index_of(pid) {
            Some(i) => i,
            None => {
                let comm = self.comm.get(&pid).cloned();
                self.victims.add(pid, comm, [None; 7])
            }
        };
        self.victims.at(i).reaper_seen = true;
        i
    }

    pub(super) fn wake_reaper(
        &mut self,
        ts: i64,
        rec: &FtraceLine<'_>,
        lineno: i64,
        out: &mut Vec<Event>,
    ) -> Handled {
        let Some(pid) = self.payload_pid(rec.payload, lineno)? else {
            return Ok(());
        };
        let i = self.reaped(pid);
        let comm = self.victims.at(i).comm.clone();
        out.push(
            self.event(ts, kind::REAPER_WAKE, Some(pid), lineno)
                .with("comm", opt(comm)),
        );
        Ok(())
    }

    /// Kept as text: the attempt is counted when its outcome is known.
    pub(super) fn start_reaping(&mut self, rec: &FtraceLine<'_>, lineno: i64) -> Handled {
        if let Some(pid) = self.payload_pid(rec.payload, lineno)? {
            let i = self.reaped(pid);
            self.victims.at(i).reaping = true;
        }
        Ok(())
    }

    fn attempt(
        &self,
        ts: i64,
        pid: i64,
        n: usize,
        outcome: &str,
        comm: Option<Str>,
        lineno: i64,
    ) -> Event {
        let mut ev = self
            .event(ts, kind::REAPER_ATTEMPT, Some(pid), lineno)
            .with("n", n as i64)
            .with("outcome", outcome)
            .with("comm", opt(comm));
        ev.inferred = vec![self.names.outcome.clone()];
        ev
    }

    pub(super) fn finish_reaping(
        &mut self,
        ts: i64,
        rec: &FtraceLine<'_>,
        lineno: i64,
        out: &mut Vec<Event>,
    ) -> Handled {
        let Some(pid) = self.payload_pid(rec.payload, lineno)? else {
            return Ok(());
        };
        let i = self.reaped(pid);
        let v = self.victims.at(i);
        v.reaping = false;
        let (n, _) = v.attempt(false);
        let comm = v.comm.clone();
        out.push(self.attempt(ts, pid, n, "reaped", comm, lineno));
        self.reaper_done(ts, i, "reaped", lineno, out);
        Ok(())
    }

    pub(super) fn skip_reaping(
        &mut self,
        ts: i64,
        rec: &FtraceLine<'_>,
        lineno: i64,
        out: &mut Vec<Event>,
    ) -> Handled {
        let Some(pid) = self.payload_pid(rec.payload, lineno)? else {
            return Ok(());
        };
        let i = self.reaped(pid);
        let v = self.victims.at(i);
        // the trylock failed, unless the mm was already done with (MMF_OOM_SKIP): then there is nothing to reap
        let lock_busy = !(v.done || v.gone || v.oom_skip);
        let (n, last) = v.attempt(lock_busy);
        let comm = v.comm.clone();
        out.push(self.attempt(
            ts,
            pid,
            n,
            if lock_busy { "lock_busy" } else { "skipped" },
            comm,
            lineno,
        ));
        if last {
            self.reaper_done(ts, i, "unable", lineno, out);
        }
        Ok(())
    }

    fn reaper_done(&mut self, ts: i64, i: usize, outcome: &str, lineno: i64, out: &mut Vec<Event>) {
        let v = self.victims.at(i);
        if !v.done {
            v.done = true;
            let (pid, comm) = (v.pid, v.comm.clone());
            let mut ev = self
                .event(ts, kind::REAPER_DONE, Some(pid), lineno)
                .with("outcome", outcome);
            ev.set("comm", opt(comm));
            ev.inferred = vec![self.names.outcome.clone()];
            out.push(ev);
        }
        self.oom_skip(ts, i, lineno, out);
    }

    /// MMF_OOM_SKIP, set by the reaper when it is done and by exit_mmap: no tracepoint, so inferred, once.
    fn oom_skip(&mut self, ts: i64, i: usize, lineno: i64, out: &mut Vec<Event>) {
        let v = self.victims.at(i);
        if v.oom_skip {
            return;
        }
        v.oom_skip = true;
        let pid = v.pid;
        out.push(
            self.flag(ts, kind::FLAG_SET, pid, "MMF_OOM_SKIP", lineno)
                .with("target", "mm"),
        );
    }

    pub(super) fn score_adj(
        &mut self,
        ts: i64,
        rec: &FtraceLine<'_>,
        lineno: i64,
        out: &mut Vec<Event>,
    ) -> Handled {
        let p = rec.payload;
        self.pairs.read(p);
        let (pid, adj) = (
            number(self.pairs.get(p, "pid")),
            number(self.pairs.get(p, "oom_score_adj")),
        );
        if pid.is_none() || adj.is_none() {
            self.reject(lineno);
            return Ok(());
        }
        let (pid, adj) = (pid.pid()?.unwrap_or_default(), adj.value()?);
        let comm = self.pairs.get(p, "comm");
        if let Some(c) = comm.filter(|c| !c.is_empty()) {
            let c = self.strings.get(c);
            self.comm.insert(pid, c);
        }
        // `task` has no oom_score_adj column: the value travels in the event's extra fields
        out.push(
            self.event(ts, kind::TASK, Some(pid), lineno)
                .with("comm", text(comm))
                .with("oom_score_adj", adj),
        );
        Ok(())
    }

    pub(super) fn exit(
        &mut self,
        ts: i64,
        rec: &FtraceLine<'_>,
        lineno: i64,
        out: &mut Vec<Event>,
    ) -> Handled {
        let p = rec.payload;
        let Some(pid) = self.payload_pid(p, lineno)? else {
            return Ok(());
        };
        self.exited.insert(pid);
        let comm = match self.pairs.get(p, "comm") {
            Some(c) if !c.is_empty() => Some(self.strings.get(c)),
            _ => self.comm.get(&pid).cloned(),
        };
        out.push(
            self.event(ts, kind::TASK_EXIT, Some(pid), lineno)
                .with("comm", opt(comm)),
        );
        let Some(i) = self.victims.of_exiting(pid) else {
            return Ok(());
        };
        if self.victims.at(i).marked.remove(&pid) {
            // exit_mm() -> exit_oom_victim(), no tracepoint
            out.push(self.flag(ts, kind::FLAG_CLEAR, pid, "TIF_MEMDIE", lineno));
        }
        let group_dead = self.pairs.get(p, "group_dead");
        let v = self.victims.at(i);
        if group_dead == Some("true") || (group_dead.is_none() && pid == v.pid) {
            v.gone = true; // the last thread: exit_mmap() tears the mm down and sets MMF_OOM_SKIP
            self.oom_skip(ts, i, lineno, out);
        }
        Ok(())
    }

    pub(super) fn free(
        &mut self,
        ts: i64,
        rec: &FtraceLine<'_>,
        lineno: i64,
        out: &mut Vec<Event>,
    ) -> Handled {
        let p = rec.payload;
        self.pairs.read(p);
        let Some(pid) = number(self.pairs.get(p, "pid")).pid()? else {
            return Ok(());
        };
        if !self.exited.insert(pid) {
            return Ok(()); // the exit is already in the trace: the free is kept as text
        }
        // its exit was before the recording
        out.push(
            self.event(ts, kind::TASK_EXIT, Some(pid), lineno)
                .with("comm", text(self.pairs.get(p, "comm"))),
        );
        Ok(())
    }
}
