//! The scheduler, memory and lock tracepoints (Python's `FtraceConverter._switch` … `_reclaim_end`): `rss_stat`,
//! the hot one (most lines of a recording), reads its payload into reused spans and makes only its event.

use super::console::ConsoleParser;
use super::converter::{FtraceConverter, Handled};
use super::line::FtraceLine;
use super::oom::text;
use super::payload::{int_value, number, Num, TooLarge};
use super::positional::{contention, lockdep, sched_switch, task_state};
use crate::model::schema::kind;
use crate::model::{Event, Value};

impl<C: ConsoleParser> FtraceConverter<C> {
    pub(super) fn rss(
        &mut self,
        ts: i64,
        rec: &FtraceLine<'_>,
        lineno: i64,
        out: &mut Vec<Event>,
    ) -> Handled {
        let p = rec.payload;
        self.pairs.read(p);
        let (mm, size) = (
            self.pairs.get(p, "mm_id"),
            number(self.pairs.get(p, "size")),
        );
        // the rss kind's fields by position: anon_kb, file_kb, shmem_kb
        let field = match self.pairs.get(p, "type") {
            Some("MM_ANONPAGES") => Some(0),
            Some("MM_FILEPAGES") => Some(1),
            Some("MM_SHMEMPAGES") => Some(2),
            _ => None,
        };
        let Some(mm) = mm.filter(|_| !size.is_none()) else {
            self.reject(lineno);
            return Ok(());
        };
        let kb = match size {
            Num::Int(bytes) => int_value(bytes.div_euclid(1024))?, // Python's floor division
            _ => return Err(TooLarge),
        };
        let pid = if self.pairs.get(p, "curr") == Some("1") {
            if self
                .victims
                .mm_of
                .get(&rec.pid)
                .is_none_or(|cur| **cur != *mm)
            {
                let id = self.strings.get(mm);
                self.victims.mm_of.insert(rec.pid, id);
            }
            match self.mm_pid.get_mut(mm) {
                Some(owner) => {
                    if self.exited.contains(owner) {
                        *owner = rec.pid; // an mm_id hash reused once its owner exited
                    }
                    *owner
                }
                None => {
                    self.mm_pid.insert(mm.into(), rec.pid);
                    rec.pid
                }
            }
        } else {
            match self.mm_pid.get(mm) {
                Some(&owner) => owner,
                None => return Ok(()),
            }
        };
        let Some(field) = field else { return Ok(()) };
        let mut ev = self.event(ts, kind::RSS, Some(pid), lineno);
        ev.values[field] = kb;
        out.push(ev);
        Ok(())
    }

    pub(super) fn switch(
        &mut self,
        ts: i64,
        rec: &FtraceLine<'_>,
        lineno: i64,
        out: &mut Vec<Event>,
    ) -> Handled {
        let Some(sw) = sched_switch(rec.payload) else {
            self.reject(lineno);
            return Ok(());
        };
        let (prev, next) = (
            sw.prev_pid.pid()?.unwrap_or_default(),
            sw.next_pid.pid()?.unwrap_or_default(),
        );
        let prev_comm = self.strings.get(sw.prev_comm);
        let next_comm = self.strings.get(sw.next_comm);
        self.comm.insert(prev, prev_comm.clone());
        self.comm.insert(next, next_comm);
        let state = self.strings.get(task_state(sw.prev_state));
        let mut ev = self.event(ts, kind::TASK_STATE, Some(prev), lineno);
        ev.values[0] = Value::Str(state); // task_state: state, site, comm
        ev.values[2] = Value::Str(prev_comm);
        out.push(ev);
        Ok(())
    }

    pub(super) fn fork(
        &mut self,
        ts: i64,
        rec: &FtraceLine<'_>,
        lineno: i64,
        out: &mut Vec<Event>,
    ) -> Handled {
        let p = rec.payload;
        self.pairs.read(p);
        let (parent, child) = (
            number(self.pairs.get(p, "pid")),
            number(self.pairs.get(p, "child_pid")),
        );
        if parent.is_none() || child.is_none() {
            self.reject(lineno);
            return Ok(());
        }
        let (parent, child) = (
            parent.pid()?.unwrap_or_default(),
            child.pid()?.unwrap_or_default(),
        );
        self.victims.forked_by.insert(child, parent);
        self.exited.remove(&child);
        let comm = self.pairs.get(p, "child_comm");
        if let Some(c) = comm.filter(|c| !c.is_empty()) {
            let c = self.strings.get(c);
            self.comm.insert(child, c);
        }
        out.push(
            self.event(ts, kind::FORK, Some(parent), lineno)
                .with("child", child)
                .with("comm", text(comm)),
        );
        Ok(())
    }

    pub(super) fn signal(
        &mut self,
        ts: i64,
        rec: &FtraceLine<'_>,
        lineno: i64,
        out: &mut Vec<Event>,
    ) -> Handled {
        let p = rec.payload;
        self.pairs.read(p);
        let pid = number(self.pairs.get(p, "pid"));
        if number(self.pairs.get(p, "sig")) != Num::Int(9) || pid.is_none() {
            return Ok(());
        }
        let pid = pid.pid()?.unwrap_or_default();
        let said = |k| self.pairs.get(p, k).unwrap_or("None");
        let note = format!(
            "SIGKILL to {pid} ({}) from {}-{}, result {}",
            said("comm"),
            rec.comm,
            rec.pid,
            said("res")
        );
        out.push(
            self.event(ts, kind::NOTE, Some(pid), lineno)
                .with("text", note.as_str()),
        );
        Ok(())
    }

    pub(super) fn retry_zone(
        &mut self,
        ts: i64,
        rec: &FtraceLine<'_>,
        lineno: i64,
        out: &mut Vec<Event>,
    ) -> Handled {
        let p = rec.payload;
        self.pairs.read(p);
        let (node, zone) = (number(self.pairs.get(p, "node")), self.pairs.get(p, "zone"));
        let Some(zone) = zone.filter(|z| !z.is_empty() && !node.is_none()) else {
            self.reject(lineno);
            return Ok(());
        };
        // pages -> kB assumes 4 KiB pages, hence inferred
        let min_kb = match number(self.pairs.get(p, "min_wmark")) {
            Num::None => Value::Nil,
            Num::Int(pages) => int_value(pages.checked_mul(4).ok_or(TooLarge)?)?,
            Num::Huge => return Err(TooLarge),
        };
        let mut ev = self
            .event(ts, kind::ZONE, None, lineno)
            .with("node", node.value()?)
            .with("zone", zone);
        ev.set("min_kb", min_kb);
        for (key, name) in [
            ("available", "available_pages"),
            ("reclaimable", "reclaimable_pages"),
            ("wmark_check", "wmark_check"),
            ("no_progress_loops", "no_progress_loops"),
        ] {
            ev.set(name, number(self.pairs.get(p, key)).value()?);
        }
        ev.inferred = vec![self.names.min_kb.clone()];
        out.push(ev);
        Ok(())
    }

    pub(super) fn compact_retry(
        &mut self,
        ts: i64,
        rec: &FtraceLine<'_>,
        lineno: i64,
        out: &mut Vec<Event>,
    ) -> Handled {
        let p = rec.payload;
        self.pairs.read(p);
        let mut ev = self.event(ts, kind::ALLOC, Some(rec.pid), lineno);
        for (key, numeric) in [
            ("order", true),
            ("priority", false),
            ("compaction_result", false),
            ("retries", true),
            ("should_retry", true),
        ] {
            let raw = self.pairs.get(p, key);
            ev.set(
                key,
                if numeric {
                    number(raw).value()?
                } else {
                    text(raw)
                },
            );
        }
        out.push(ev);
        Ok(())
    }

    pub(super) fn mmap_lock(
        &mut self,
        ts: i64,
        rec: &FtraceLine<'_>,
        lineno: i64,
        out: &mut Vec<Event>,
    ) -> Handled {
        let p = rec.payload;
        self.pairs.read(p);
        let Some(ptr) = self.pairs.get(p, "mm") else {
            self.reject(lineno);
            return Ok(());
        };
        self.key.clear();
        self.key.push_str("mm:");
        self.key.push_str(ptr);
        // the first task seen locking it: its own
        let owner = match self.mm_pid.get(self.key.as_str()) {
            Some(&owner) => owner,
            None => {
                self.mm_pid.insert(self.key.as_str().into(), rec.pid);
                rec.pid
            }
        };
        let kind = match rec.event.rsplit(':').next() {
            Some("mmap_lock_start_locking") => kind::LOCK_CONTENDED,
            // a failed try ends the wait
            Some("mmap_lock_acquire_returned") if self.pairs.get(p, "success") == Some("true") => {
                kind::LOCK_ACQUIRE
            }
            _ => kind::LOCK_RELEASE,
        };
        let mut ev = self
            .event(ts, kind, Some(rec.pid), lineno)
            .with("lock", "mmap_lock")
            .with("mm", owner);
        if kind != kind::LOCK_RELEASE {
            ev.set(
                "mode",
                Value::str(if self.pairs.get(p, "write") == Some("true") {
                    "w"
                } else {
                    "r"
                }),
            );
        }
        out.push(ev);
        Ok(())
    }

    pub(super) fn lockdep(
        &mut self,
        ts: i64,
        rec: &FtraceLine<'_>,
        lineno: i64,
        out: &mut Vec<Event>,
    ) -> Handled {
        let Some(lock) = lockdep(rec.payload) else {
            self.reject(lineno);
            return Ok(());
        };
        let name = Value::Str(self.strings.get(lock.name));
        let ev = if rec.event.ends_with("lock_release") {
            self.event(ts, kind::LOCK_RELEASE, Some(rec.pid), lineno)
                .with("lock", name)
        } else {
            let mode = if lock.read { "r" } else { "w" };
            self.event(ts, kind::LOCK_ACQUIRE, Some(rec.pid), lineno)
                .with("lock", name)
                .with("mode", mode)
        };
        out.push(ev);
        Ok(())
    }

    pub(super) fn contention(
        &mut self,
        ts: i64,
        rec: &FtraceLine<'_>,
        lineno: i64,
        out: &mut Vec<Event>,
    ) -> Handled {
        let Some((addr, what)) = contention(rec.payload) else {
            self.reject(lineno);
            return Ok(());
        };
        // contention events name no lock, only its (often hashed) address
        let name = Value::str(&format!("lock@{addr}"));
        let ev = if rec.event.ends_with("contention_end") {
            self.event(ts, kind::LOCK_RELEASE, Some(rec.pid), lineno)
                .with("lock", name) // the wait is over
        } else {
            let mode = if what.contains("READ") { "r" } else { "w" };
            self.event(ts, kind::LOCK_CONTENDED, Some(rec.pid), lineno)
                .with("lock", name)
                .with("mode", mode)
        };
        out.push(ev);
        Ok(())
    }

    /// Kept as text: the stall is an event when it ends.
    pub(super) fn reclaim_begin(&mut self, ts: i64, rec: &FtraceLine<'_>) -> Handled {
        let p = rec.payload;
        self.pairs.read(p);
        let order = number(self.pairs.get(p, "order")).value()?;
        let gfp = text(self.pairs.get(p, "gfp_flags"));
        self.reclaim.insert(rec.pid, (ts, order, gfp));
        Ok(())
    }

    pub(super) fn reclaim_end(
        &mut self,
        ts: i64,
        rec: &FtraceLine<'_>,
        lineno: i64,
        out: &mut Vec<Event>,
    ) -> Handled {
        if !self.reclaim.contains_key(&rec.pid) {
            return Ok(());
        }
        let p = rec.payload;
        self.pairs.read(p);
        let reclaimed = number(self.pairs.get(p, "nr_reclaimed")).value()?;
        let Some((start, order, gfp)) = self.reclaim.remove(&rec.pid) else {
            return Ok(());
        };
        let ev = self
            .event(ts, kind::ALLOC, Some(rec.pid), lineno)
            .with("order", order)
            .with("gfp", gfp)
            .with("outcome", "stall")
            .with("duration_ns", ts - start)
            .with("nr_reclaimed", reclaimed);
        out.push(ev);
        Ok(())
    }
}
