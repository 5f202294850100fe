//! Task dumps (tasks.py, kernel-formats.md §4.2, §4.3): `sched_show_task` lines and the hung-task warning, each
//! naming a task and its scheduler state letter.

use super::scan::{at, byte, char_at, digits1, line_end, lit, pid, run_of, spaces, Found};
use crate::text::is_space;

/// A task and its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskLine<'a> {
    pub pid: i64,
    pub comm: &'a str,
    pub state: &'a str,
}

/// ` +` at `i`: its end, if at least one blank.
fn blanks(s: &str, i: usize) -> Option<usize> {
    let e = run_of(s, i, b' ');
    (e > i).then_some(e)
}

/// 5.10+: `task:(.{1,15}?) +state:(\S)(?: +running task)? +stack: *\d+ +pid: *(\d+)`.
fn task_new(msg: &str) -> Option<(usize, usize, usize, usize, usize)> {
    let c0 = 5;
    let mut c1 = c0;
    for _ in 0..15 {
        let (c, next) = char_at(msg, c1)?;
        if c == '\n' {
            return None;
        }
        c1 = next;
        let rest = (|| {
            let s0 = lit(msg, blanks(msg, c1)?, "state:")?;
            let (st, s1) = char_at(msg, s0)?;
            if is_space(st) {
                return None;
            }
            let tail = |i: usize| -> Option<(usize, usize)> {
                let k = lit(msg, blanks(msg, i)?, "stack:")?;
                let k = digits1(msg, run_of(msg, k, b' '))?;
                let p = lit(msg, blanks(msg, k)?, "pid:")?;
                let p0 = run_of(msg, p, b' ');
                Some((p0, digits1(msg, p0)?))
            };
            let with_running = blanks(msg, s1)
                .and_then(|b| lit(msg, b, "running task"))
                .and_then(tail);
            let (p0, p1) = with_running.or_else(|| tail(s1))?;
            Some((s0, s1, p0, p1))
        })();
        if let Some((s0, s1, p0, p1)) = rest {
            return Some((c1, s0, s1, p0, p1));
        }
    }
    None
}

/// ≤5.8: `(.{15}) ([A-Za-z])(?:  running task  |\s[0-9a-f]{8,16}\s)? *\d+ +(\d+) +(\d+) 0x[0-9a-f]{8}`.
fn task_old(msg: &str) -> Option<(usize, usize, usize, usize)> {
    let mut c1 = 0;
    for _ in 0..15 {
        let (c, next) = char_at(msg, c1)?;
        if c == '\n' {
            return None;
        }
        c1 = next;
    }
    let s0 = lit(msg, c1, " ")?;
    if !byte(msg, s0)?.is_ascii_alphabetic() {
        return None;
    }
    let s1 = s0 + 1;
    let tail = |i: usize| -> Option<(usize, usize)> {
        let a = digits1(msg, run_of(msg, i, b' '))?;
        let p0 = blanks(msg, a)?;
        let p1 = digits1(msg, p0)?;
        let q = digits1(msg, blanks(msg, p1)?)?;
        let h = lit(msg, q, " 0x")?;
        let lower_hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
        (super::scan::ascii_run(msg, h, lower_hex) >= h + 8).then_some((p0, p1))
    };
    let mut tries: Vec<usize> = Vec::with_capacity(3);
    if let Some(e) = lit(msg, s1, "  running task  ") {
        tries.push(e);
    }
    if let Some((c, h0)) = char_at(msg, s1) {
        if is_space(c) {
            let lower_hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
            let h = super::scan::ascii_run(msg, h0, lower_hex);
            if (8..=16).contains(&(h - h0)) {
                if let Some((c, e)) = char_at(msg, h) {
                    if is_space(c) {
                        tries.push(e);
                    }
                }
            }
        }
    }
    tries.push(s1);
    tries
        .into_iter()
        .find_map(tail)
        .map(|(p0, p1)| (c1, s0, p0, p1))
}

/// `task_line(msg)`: a `sched_show_task` header line.
pub fn task_line(msg: &str) -> Found<TaskLine<'_>> {
    if msg.starts_with("task:") {
        let Some((c1, s0, s1, p0, p1)) = task_new(msg) else {
            return Ok(None);
        };
        return Ok(Some(TaskLine {
            pid: pid(&msg[p0..p1])?,
            comm: crate::text::pystr::rstrip(&msg[5..c1]),
            state: &msg[s0..s1],
        }));
    }
    if !msg.contains(" 0x") {
        return Ok(None);
    }
    let Some((c1, s0, p0, p1)) = task_old(msg) else {
        return Ok(None);
    };
    Ok(Some(TaskLine {
        pid: pid(&msg[p0..p1])?,
        comm: crate::text::pystr::rstrip(&msg[..c1]),
        state: &msg[s0..s0 + 1],
    }))
}

/// `hung(msg)`: `INFO: task comm:pid blocked for more than N seconds`.
pub fn hung(msg: &str) -> Found<(i64, &str)> {
    let Some(c0) = lit(msg, 0, "INFO: task ") else {
        return Ok(None);
    };
    let first = &msg[c0..line_end(msg, c0)];
    let found = first.rmatch_indices(':').find_map(|(k, _)| {
        let p0 = c0 + k + 1;
        let p1 = digits1(msg, p0)?;
        let n = digits1(msg, lit(msg, p1, " blocked for more than ")?)?;
        at(msg, n, " seconds").then_some((c0 + k, p0, p1))
    });
    let Some((c1, p0, p1)) = found else {
        return Ok(None);
    };
    let _ = spaces;
    Ok(Some((pid(&msg[p0..p1])?, &msg[c0..c1])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_lines() {
        let t = task_line(
            "task:kworker/0:1   state:D stack:    0 pid:   42 ppid:     2 flags:0x00004000",
        )
        .unwrap()
        .unwrap();
        assert_eq!((t.pid, t.comm, t.state), (42, "kworker/0:1", "D"));
        let t = task_line("task:a b c     state:R  running task     stack:13 pid:7 ppid:1")
            .unwrap()
            .unwrap();
        assert_eq!((t.pid, t.comm, t.state), (7, "a b c", "R"));
        let t = task_line("a.out           D ffff88003fc14740     0  2202   2159 0x00000080")
            .unwrap()
            .unwrap();
        assert_eq!((t.pid, t.comm, t.state), (2202, "a.out", "D"));
        let t = task_line("oom_reaper      R  running task        0    35      2 0x00000000")
            .unwrap()
            .unwrap();
        assert_eq!((t.pid, t.state), (35, "R"));
        assert!(task_line("nothing here 0x12").unwrap().is_none());
    }

    #[test]
    fn hung_tasks() {
        assert_eq!(
            hung("INFO: task a:b:12 blocked for more than 120 seconds.").unwrap(),
            Some((12, "a:b"))
        );
        assert_eq!(hung("INFO: task x:1 blocked").unwrap(), None);
    }
}
