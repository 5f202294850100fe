//! Which family reads a report line, by the words `words::looked_for` found in it, and what its events are.

use super::converter::*;
use super::memory;
use super::oom;
use super::oom_more;
use super::words::*;
use super::{gfp, kill, locks, reaper, tasks};
use crate::model::schema::kind;
use crate::model::{Src, Str, Value};

impl LogConverter {
    /// The events of a report line (see `Fam`).
    pub(super) fn families(&mut self, msg: &str, g: u64, ts: i64, src: Src) -> Fam {
        let r = if g & G_INVOKE != 0 {
            oom::invoke(msg)
        } else {
            Ok(None)
        };
        if let Some(f) = self.found(r, src) {
            let dec = gfp::decode(f.gfp);
            if let Some((gfp_text, guessed)) = self.found(dec.map(Some), src) {
                self.chosen = None;
                self.summary = None;
                let mut e = ev(ts, kind::OOM_INVOKE, f.pid, src);
                e.set("comm", Value::str(f.comm));
                e.set("gfp", opt_str(gfp_text.as_deref()));
                e.set("order", f.order.into());
                e.set("oom_score_adj", f.oom_score_adj.into());
                e.set("nodemask", opt_str(f.nodemask));
                if guessed {
                    inferred(&mut e, &["gfp"]);
                }
                self.invocation = Some(e.pid);
                self.start_hold(e, Hold::Invoke);
                return Fam::Held;
            }
        }
        let r = if g & G_KILLED != 0 {
            kill::killed(msg)
        } else {
            Ok(None)
        };
        if let Some(f) = self.found(r, src) {
            return self.kill(f, ts, src);
        }
        let r = kill::reaper(msg);
        if let Some(f) = self.found(r, src) {
            let era = reaper::era(self.kernel.as_deref());
            let again = !f.giving_up && !self.reaper_rounds.insert(f.pid);
            return Fam::Events(reaper::reaper_events(&f, era, again, ts, src));
        }
        if msg.starts_with("oom killer ") {
            let r = reaper::pinned(msg);
            if let Some(p) = self.found(r, src) {
                let era = reaper::era(self.kernel.as_deref());
                return Fam::Events(reaper::pinned_events(&p, era, ts, src));
            }
        }
        if let Some(end) = oom_more::ending(msg) {
            let invoker = self.invocation.flatten();
            let mut e = ev(ts, kind::OOM_END, invoker, src);
            e.set("outcome", Value::str(end.outcome));
            e.set("reason", Value::str(end.reason));
            if end.outcome == "panic" {
                self.start_hold(e, Hold::Panic);
                return Fam::Held;
            }
            return Fam::Events(vec![e]);
        }
        if memory::mem_info(msg) {
            self.meminfo = Some(Vec::new());
            self.meminfo_at = None;
            return Fam::Events(Vec::new());
        }
        let r = if g & G_HOLDER != 0 {
            locks::holder(msg)
        } else {
            Ok(None)
        };
        if let Some((pid, comm)) = self.found(r, src) {
            self.holder = Some((pid, Str::from(comm)));
            let mut e = ev(ts, kind::TASK, Some(pid), src);
            e.set("comm", Value::str(comm));
            return Fam::Events(vec![e]);
        }
        if let Some(columns) = oom_more::table_header(msg) {
            self.columns = Some(columns);
            return Fam::Events(Vec::new());
        }
        let r = if g & G_ZONE != 0 {
            memory::zone(msg)
        } else {
            Ok(None)
        };
        if let Some(z) = self.found(r, src) {
            let mut e = ev(ts, kind::ZONE, None, src);
            let node = z.node.unwrap_or(0);
            e.set("node", Value::Int(node));
            e.set("zone", Value::str(z.zone));
            e.set("free_kb", Value::Int(z.free_kb));
            for &(k, v) in &z.kb {
                e.set(k, Value::Int(v));
            }
            if z.node.is_none() {
                inferred(&mut e, &["node"]);
            }
            self.zone = Some((node, Str::from(z.zone)));
            return Fam::Events(vec![e]);
        }
        let r = memory::lowmem_reserve(msg);
        if let Some(reserve) = self.found(r, src) {
            if let Some((node, zone)) = self.zone.take() {
                let mut e = ev(ts, kind::ZONE, None, src);
                e.set("node", Value::Int(node));
                e.set("zone", Value::Str(zone));
                let kb: Option<Vec<Value>> = reserve
                    .iter()
                    .map(|r| r.checked_mul(4).map(Value::Int))
                    .collect();
                let Some(kb) = kb else {
                    self.overflow.push(src.1);
                    return Fam::None;
                };
                e.set("lowmem_reserve_kb", Value::list(kb));
                inferred(&mut e, &["lowmem_reserve_kb"]);
                return Fam::Events(vec![e]);
            }
        }
        if let Some(s) = oom_more::summary(msg) {
            self.summary = Some(s);
            return Fam::Events(Vec::new());
        }
        let r = if g & G_CHOSEN != 0 {
            kill::chosen(msg)
        } else {
            Ok(None)
        };
        if let Some(c) = self.found(r, src) {
            self.chosen = Some(c);
            return Fam::Events(Vec::new());
        }
        let r = oom::cpu_line(msg);
        if let Some(who) = self.found(r, src) {
            if self.kernel.is_none() {
                self.kernel = who.kernel.map(str::to_owned);
            }
            let mut e = ev(ts, kind::TASK, Some(who.pid), src);
            e.set("comm", Value::str(who.comm));
            return Fam::Events(vec![e]);
        }
        let r = if g & G_USAGE != 0 {
            memory::usage(msg)
        } else {
            Ok(None)
        };
        if let Some(u) = self.found(r, src) {
            if u.what != "memory" {
                return Fam::Events(Vec::new());
            }
            let mut e = ev(ts, kind::MEMCG, None, src);
            e.set("path", opt_str(self.memcg_path.as_deref()));
            e.set("usage_kb", Value::Int(u.usage));
            e.set("limit_kb", u.limit.into());
            e.set("failcnt", u.failcnt.into());
            if self.memcg_path.take().is_some() {
                return Fam::Events(vec![e]);
            }
            self.start_hold(e, Hold::Memcg);
            return Fam::Held;
        }
        if let Some(path) = memory::limited_memcg(msg) {
            self.memcg_path = Some(path.to_owned());
            return Fam::Events(Vec::new());
        }
        let r = if g & G_ALLOC != 0 {
            memory::alloc(msg)
        } else {
            Ok(None)
        };
        if let Some(a) = self.found(r, src) {
            let dec = gfp::decode(a.gfp);
            if let Some((gfp_text, guessed)) = self.found(dec.map(Some), src) {
                let mut e = ev(ts, kind::ALLOC, None, src);
                e.set("comm", Value::str(a.comm));
                e.set("outcome", Value::str(if a.fail { "fail" } else { "stall" }));
                e.set("gfp", opt_str(gfp_text.as_deref()));
                e.set("order", a.order.into());
                e.set("duration_ns", a.duration_ns.into());
                if guessed {
                    inferred(&mut e, &["gfp"]);
                }
                self.start_hold(e, Hold::Alloc);
                return Fam::Held;
            }
        }
        let r = if g & G_SHARING != 0 {
            kill::sharing(msg)
        } else {
            Ok(None)
        };
        if let Some((pid, comm)) = self.found(r, src) {
            let mut e = ev(ts, kind::OOM_KILL, Some(pid), src);
            e.set("comm", Value::str(comm));
            return Fam::Events(vec![e, Self::memdie(ts, pid, src)]);
        }
        let r = if g & G_VICTIM != 0 {
            oom_more::victim_without_kill(msg)
        } else {
            Ok(None)
        };
        if let Some(v) = self.found(r, src) {
            if v.exiting {
                // 5.10 -> 6.x __oom_kill_process: find_lock_task_mm() found no thread with an mm, so it prints
                // this and returns: no SIGKILL, no mark_oom_victim, no reaper. A candidate skipped, not a
                // victim (kernel-audit F15): the task, with why it was passed over.
                let mut e = ev(ts, kind::TASK, Some(v.pid), src);
                e.set("comm", opt_str(v.comm));
                e.set(
                    "oom_skipped",
                    Value::str("already exiting: no mm left, not marked"),
                );
                return Fam::Events(vec![e]);
            }
            let mut e = ev(ts, kind::OOM_VICTIM, Some(v.pid), src);
            e.set("comm", opt_str(v.comm));
            return Fam::Events(vec![e, Self::memdie(ts, v.pid, src)]);
        }
        let r = oom_more::lmk_kill(msg);
        if let Some(k) = self.found(r, src) {
            let mut e = ev(ts, kind::OOM_KILL, Some(k.pid), src);
            e.set("comm", Value::str(k.comm));
            e.set("oom_score_adj", k.oom_score_adj.into());
            e.set("uid", k.uid.into());
            e.set("killer", Value::str("lowmemorykiller"));
            return Fam::Events(vec![e]);
        }
        let r = tasks::hung(msg);
        if let Some((pid, comm)) = self.found(r, src) {
            let mut e = ev(ts, kind::TASK_STATE, Some(pid), src);
            e.set("state", Value::str("D"));
            e.set("comm", Value::str(comm));
            inferred(&mut e, &["state"]);
            return Fam::Events(vec![e]);
        }
        let r = if g & G_TASK_OLD != 0 || msg.starts_with("task:") {
            tasks::task_line(msg)
        } else {
            Ok(None)
        };
        if let Some(t) = self.found(r, src) {
            let mut e = ev(ts, kind::TASK_STATE, Some(t.pid), src);
            e.set("state", Value::str(t.state));
            e.set("comm", Value::str(t.comm));
            return Fam::Events(vec![e]);
        }
        Fam::None
    }

    /// One `Killed process` line: the oom_kill, with what the chosen and summary lines said about it.
    pub(super) fn kill(&mut self, f: kill::Killed<'_>, ts: i64, src: Src) -> Fam {
        let pid = f.pid;
        let mut e = ev(ts, kind::OOM_KILL, Some(pid), src);
        e.set("comm", opt_str(f.comm));
        for &(k, v) in &f.kb {
            e.set(k, Value::Int(v));
        }
        e.set("uid", f.uid.into());
        e.set("oom_score_adj", f.oom_score_adj.into());
        self.invocation = None;
        if let Some(chosen) = self.chosen.take() {
            if chosen.pid == pid {
                e.set("points", Value::Int(chosen.points));
            } else {
                e.set("parent", Value::Int(chosen.pid));
            }
        }
        let summary = self.summary.take();
        match summary {
            Some(s) if s.pid == Some(pid) => {
                // only `oom_memcg=` names the OOM's memcg (mem_cgroup_print_oom_context prints `,global_oom`
                // otherwise); `task_memcg=` is where the victim lives, kept apart (kernel-audit F17)
                let memcg = s.oom_memcg.as_deref().filter(|m| !m.is_empty());
                e.set("memcg", opt_str(memcg));
                e.set("task_memcg", opt_str(s.task_memcg.as_deref()));
                e.set("constraint", opt_str(s.constraint.as_deref()));
            }
            _ => {
                if f.message.is_some_and(|m| m.starts_with("Memory cgroup")) {
                    e.set("constraint", Value::str("CONSTRAINT_MEMCG"));
                    inferred(&mut e, &["constraint"]);
                }
            }
        }
        if f.comm.is_none() {
            self.start_hold(e, Hold::KillComm);
            self.held.push(Self::memdie(ts, pid, src));
            return Fam::Held;
        }
        Fam::Events(vec![e, Self::memdie(ts, pid, src)])
    }

    /// Whether no report is open: a chatter line may then go in bulk.
    pub(super) fn at_rest(&self) -> bool {
        self.hold.is_none()
            && self.meminfo.is_none()
            && self.holder.is_none()
            && self.columns.is_none()
    }
}
