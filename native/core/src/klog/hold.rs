//! The held event: a line whose event a later line completes (a header and its `CPU:` line, a stack, an
//! allocation failure and its `cpuset=` line); the lines in between wait behind it, so the output keeps line order.

use super::converter::*;
use super::memory;
use super::oom;
use super::scan::Found;
use super::stack;
use crate::model::event::log_event;
use crate::model::{Event, Src, Value};

impl LogConverter {
    pub(super) fn start_hold(&mut self, e: Event, kind: Hold) {
        // a hold started over another (two warn_alloc lines in a row): the first is complete as far as it got,
        // so it and the lines behind it go out before the line that starts the new one
        if let Some(old) = self.hold.take() {
            self.superseded.push(old);
            self.superseded.append(&mut self.held);
        }
        self.hold = Some(e);
        self.hold_kind = kind;
        self.held.clear();
        self.hold_left = HOLD_LINES;
        self.hold_is_invocation = kind == Hold::Invoke;
    }

    pub(super) fn release(&mut self, out: &mut Vec<Event>) {
        if let Some(h) = self.hold.take() {
            out.push(h);
            out.append(&mut self.held);
            self.hold_is_invocation = false;
        }
    }

    pub(super) fn release_with(&mut self, e: Event, out: &mut Vec<Event>) {
        self.held.push(e);
        self.release(out);
    }

    pub(super) fn found<T>(&mut self, r: Found<T>, src: Src) -> Option<T> {
        match r {
            Ok(v) => v,
            Err(_) => {
                if self.overflow.last() != Some(&src.1) {
                    self.overflow.push(src.1);
                }
                None
            }
        }
    }

    /// Complete, keep or release the held event in view of the next line; true when the line was used up.
    pub(super) fn continue_hold(
        &mut self,
        msg: &str,
        ts: i64,
        src: Src,
        out: &mut Vec<Event>,
    ) -> bool {
        self.hold_left -= 1;
        match self.hold_kind {
            Hold::Stack => {
                if let Some(frame) = stack::stack_line(msg) {
                    if self.hold_left > 0 {
                        if !frame.is_empty() {
                            let h = self.hold.as_mut().expect("held");
                            let mut stack: Vec<Value> = h
                                .get("stack")
                                .as_list()
                                .map(<[Value]>::to_vec)
                                .unwrap_or_default();
                            stack.push(Value::str(frame));
                            h.set("stack", Value::list(stack));
                        }
                        self.held.push(log_event(ts, msg, src));
                        return true;
                    }
                }
            }
            Hold::Invoke | Hold::Alloc | Hold::Panic => {
                let kind = self.hold_kind;
                let cpu = oom::cpu_line(msg);
                if let Some(who) = self.found(cpu, src) {
                    if self.kernel.is_none() {
                        self.kernel = who.kernel.map(str::to_owned);
                    }
                    let h = self.hold.as_mut().expect("held");
                    let comm = h.get("comm").as_str();
                    if comm.is_none() || comm == Some(who.comm) {
                        if h.pid.is_none() {
                            h.pid = Some(who.pid);
                        }
                        if kind == Hold::Panic && h.pid == Some(who.pid) {
                            h.set("comm", Value::str(who.comm));
                        }
                        if self.hold_is_invocation {
                            self.invocation = Some(h.pid);
                        }
                        if kind == Hold::Invoke {
                            self.hold_kind = Hold::Stack;
                            self.hold_left = STACK_LINES;
                            self.held.push(log_event(ts, msg, src));
                            return true;
                        }
                        self.release_with(log_event(ts, msg, src), out);
                        return true;
                    }
                    self.release(out);
                    return false;
                }
                if self.hold_left > 0
                    && (msg.is_empty() || BEFORE_CPU.iter().any(|s| msg.contains(s)))
                {
                    return false;
                }
                if kind == Hold::Invoke && self.hold_left > 0 && stack::stack_line(msg).is_some() {
                    self.hold_kind = Hold::Stack;
                    self.hold_left = STACK_LINES;
                    return self.continue_hold(msg, ts, src, out);
                }
            }
            Hold::Memcg => {
                if let Some(path) = memory::stats_for(msg) {
                    self.hold
                        .as_mut()
                        .expect("held")
                        .set("path", Value::str(path));
                    self.release_with(log_event(ts, msg, src), out);
                    return true;
                }
                if self.hold_left > 0 && MEMCG_MATES.iter().any(|m| msg.starts_with(m)) {
                    return false;
                }
                self.hold
                    .as_mut()
                    .expect("held")
                    .set("path", Value::str("(unknown)"));
            }
            Hold::KillComm => {
                let inner = msg.trim_end_matches('.');
                if inner.len() >= 2 && inner.starts_with('(') && inner.ends_with(')') {
                    self.hold
                        .as_mut()
                        .expect("held")
                        .set("comm", Value::str(&inner[1..inner.len() - 1]));
                    self.release_with(log_event(ts, msg, src), out);
                    return true;
                }
            }
        }
        self.release(out);
        false
    }
}
