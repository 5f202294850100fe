//! The rest of oom.py: the endings without a kill, the `oom-kill:` summary, victims made without a kill line,
//! the Android low-memory killers, the task table, and the lines of a stack dump.

use super::scan::{at, digits1, line_end, lit, number, pid, signed, spaces, Found, Overflow};
use crate::text::pystr::{py_int, split_ws};

/// An invocation ending without a kill (§1.8): its outcome and reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ending {
    pub outcome: &'static str,
    pub reason: &'static str,
}

const PANIC: &str = "Kernel panic - not syncing: ";

/// `ending(msg)`: `Out of memory and no killable processes...`, `System is deadlocked on memory`, the
/// panic_on_oom panic; the panic's own prefix optional, the texts whole.
pub fn ending(msg: &str) -> Option<Ending> {
    let panic = msg.starts_with(PANIC);
    let text = if panic { &msg[PANIC.len()..] } else { msg }.trim_end_matches(['.', ' ']);
    match text {
        "Out of memory and no killable processes" => Some(Ending {
            outcome: if panic { "panic" } else { "no_killable" },
            reason: "no_killable",
        }),
        "System is deadlocked on memory" => Some(Ending {
            outcome: "panic",
            reason: "deadlocked",
        }),
        "Out of memory: system-wide panic_on_oom is enabled" => Some(Ending {
            outcome: "panic",
            reason: "panic_on_oom",
        }),
        "Out of memory: compulsory panic_on_oom is enabled" => Some(Ending {
            outcome: "panic",
            reason: "panic_on_oom_compulsory",
        }),
        _ => None,
    }
}

/// The `oom-kill:` summary's parts the converter reads (the last of each key, as a dict keeps it).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub pid: Option<i64>,
    pub oom_memcg: Option<String>,
    pub task_memcg: Option<String>,
    pub constraint: Option<String>,
}

/// `summary(msg)`: `oom-kill:constraint=…,nodemask=…,oom_memcg=…,task_memcg=…,task=…,pid=…,uid=…`.
pub fn summary(msg: &str) -> Option<Summary> {
    let rest = msg.strip_prefix("oom-kill:")?;
    let mut f = Summary::default();
    let mut pid_text: Option<&str> = None;
    for part in rest.split(',') {
        let Some((key, value)) = part.split_once('=') else {
            continue;
        };
        match crate::text::pystr::strip(key) {
            "pid" => pid_text = Some(value),
            "oom_memcg" => f.oom_memcg = Some(value.to_owned()),
            "task_memcg" => f.task_memcg = Some(value.to_owned()),
            "constraint" => f.constraint = Some(value.to_owned()),
            _ => {}
        }
    }
    f.pid = pid_text.and_then(py_int);
    Some(f)
}

/// A task made a victim with no kill line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Victim<'a> {
    pub pid: i64,
    pub comm: Option<&'a str>,
    /// "is already exiting. Skip killing the task": not marked at all (see converter)
    pub exiting: bool,
}

/// `victim_without_kill(msg)`: `OOM victim N (c) is already exiting` searched anywhere, or `Current (N) has a
/// pending SIGKILL`.
pub fn victim_without_kill(msg: &str) -> Found<Victim<'_>> {
    if msg.contains("is already exiting") {
        for (k, _) in msg.match_indices("OOM victim ") {
            let p0 = k + "OOM victim ".len();
            let Some(p1) = digits1(msg, p0) else { continue };
            let Some(c0) = lit(msg, p1, " (") else {
                continue;
            };
            let region = &msg[c0..line_end(msg, c0)];
            if let Some(c) = region.rfind(") is already exiting") {
                return Ok(Some(Victim {
                    pid: pid(&msg[p0..p1])?,
                    comm: Some(&msg[c0..c0 + c]),
                    exiting: true,
                }));
            }
        }
        return Ok(None);
    }
    if msg.contains("pending SIGKILL") {
        for (k, _) in msg.match_indices("Current (") {
            let p0 = k + "Current (".len();
            let Some(p1) = digits1(msg, p0) else { continue };
            if at(msg, p1, ") has a pending SIGKILL") {
                return Ok(Some(Victim {
                    pid: pid(&msg[p0..p1])?,
                    comm: None,
                    exiting: false,
                }));
            }
        }
    }
    Ok(None)
}

/// An Android low-memory killer's kill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lmk<'a> {
    pub pid: i64,
    pub comm: &'a str,
    pub oom_score_adj: Option<i64>,
    pub uid: Option<i64>,
}

/// `'(.*)' \((\d+)\)` from `c0`: the comm's end (the last candidate, as `.*` is greedy) and the pid's digits.
fn quoted_comm_pid(msg: &str, c0: usize) -> Option<(usize, usize, usize)> {
    let region = &msg[c0..line_end(msg, c0)];
    region.rmatch_indices("' (").find_map(|(c, _)| {
        let p0 = c0 + c + 3;
        let p1 = digits1(msg, p0)?;
        let end = lit(msg, p1, ")")?;
        Some((c0 + c, p0, end))
    })
}

/// `lmk_kill(msg)`: the in-kernel `lowmemorykiller: Killing '%s' (%d), adj %hd,` and lmkd's `Kill '%s' (%d), …`.
pub fn lmk_kill(msg: &str) -> Found<Lmk<'_>> {
    if !(msg.starts_with("lowmemorykiller: ") || msg.starts_with("lmkd: ")) {
        return Ok(None);
    }
    let opt_signed = |i: usize, name: &str| -> Result<(usize, Option<i64>), Overflow> {
        match lit(msg, i, name).and_then(|v| signed(msg, v)) {
            Some((e, v)) => Ok((e, Some(v?))),
            None => Ok((i, None)),
        }
    };
    if let Some(c0) = lit(msg, 0, "lowmemorykiller: Killing '") {
        if let Some((c1, p0, end)) = quoted_comm_pid(msg, c0) {
            let (_, adj) = opt_signed(end, ", adj ")?;
            return Ok(Some(Lmk {
                pid: pid(&msg[p0..end - 1])?,
                comm: &msg[c0..c1],
                oom_score_adj: adj,
                uid: None,
            }));
        }
    }
    let c0 = lit(msg, 0, "lowmemorykiller: Kill '").or_else(|| lit(msg, 0, "lmkd: Kill '"));
    let Some((c0, (c1, p0, end))) = c0.and_then(|c0| Some((c0, quoted_comm_pid(msg, c0)?))) else {
        return Ok(None);
    };
    let mut i = end;
    let mut uid = None;
    if let Some(e) = lit(msg, i, ", uid ").and_then(|u| digits1(msg, u)) {
        uid = Some(number(&msg[i + 6..e])?);
        i = e;
    }
    let (_, adj) = opt_signed(i, ", oom_score_adj ")?;
    Ok(Some(Lmk {
        pid: pid(&msg[p0..end - 1])?,
        comm: &msg[c0..c1],
        oom_score_adj: adj,
        uid,
    }))
}

/// `table_header(msg)`: the task table's column names after `[ pid ]`.
pub fn table_header(msg: &str) -> Option<Vec<String>> {
    if !msg.starts_with('[') || !msg.contains("tgid") || !msg.contains("total_vm") {
        return None;
    }
    let (_, rest) = msg.split_once(']')?;
    let columns = split_ws(rest, None);
    (columns.last() == Some(&"name")).then(|| columns.into_iter().map(str::to_owned).collect())
}

/// `TABLE_ROW.match(msg)`, `\[\s*(\d+)\]\s+(.*)`: the pid's digits and the rest (to the end of its line).
pub fn table_row_shape(msg: &str) -> Option<(&str, &str)> {
    let p0 = spaces(msg, lit(msg, 0, "[")?);
    let p1 = digits1(msg, p0)?;
    let r0 = lit(msg, p1, "]")?;
    let r = spaces(msg, r0);
    if r == r0 {
        return None;
    }
    Some((&msg[p0..p1], &msg[r..line_end(msg, r)]))
}

/// One task-table row, read under its header's columns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Row<'a> {
    pub pid: i64,
    pub comm: Option<&'a str>,
    /// (field, value) of the columns the event names, in the header's order (a later duplicate wins)
    pub values: Vec<(&'static str, i64)>,
}

/// The oom_candidate field of a column (pages, but pgtables_bytes).
fn column_field(name: &str) -> Option<&'static str> {
    Some(match name {
        "uid" => "uid",
        "tgid" => "tgid",
        "total_vm" => "total_vm_pages",
        "rss" => "rss_pages",
        "pgtables_bytes" => "pgtables_bytes",
        "swapents" => "swapents",
        "oom_score_adj" => "oom_score_adj",
        _ => return None,
    })
}

/// `table_row(msg, columns)`: the name is the rest of the line (a comm may hold spaces).
pub fn table_row<'a>(msg: &'a str, columns: &[String]) -> Found<Row<'a>> {
    let Some((pid_text, rest)) = table_row_shape(msg) else {
        return Ok(None);
    };
    let numeric = columns.len().saturating_sub(1);
    let parts = split_ws(rest, Some(numeric));
    if parts.len() < numeric {
        return Ok(None);
    }
    let mut nums: Vec<(&str, i64)> = Vec::with_capacity(numeric);
    for (name, text) in columns[..numeric].iter().zip(&parts) {
        let Some(v) = py_int(text) else {
            // int() raises: not a row; a run of digits too large for an i64 is one Python would read
            if text.chars().all(|c| crate::text::decimal(c).is_some()) {
                return Err(Overflow);
            }
            return Ok(None);
        };
        match nums.iter_mut().find(|(n, _)| *n == name.as_str()) {
            Some(slot) => slot.1 = v,
            None => nums.push((name.as_str(), v)),
        }
    }
    let mut row = Row {
        pid: number(pid_text)?,
        comm: parts.get(numeric).copied(),
        values: Vec::new(),
    };
    for &(name, v) in &nums {
        if let Some(field) = column_field(name) {
            row.values.push((field, v));
        }
    }
    if !row.values.iter().any(|(f, _)| *f == "pgtables_bytes") {
        if let Some(&(_, ptes)) = nums.iter().find(|(n, _)| *n == "nr_ptes") {
            let pmds = nums
                .iter()
                .find(|(n, _)| *n == "nr_pmds")
                .map_or(0, |&(_, v)| v);
            let bytes = ptes
                .checked_add(pmds)
                .and_then(|p| p.checked_mul(4096))
                .ok_or(Overflow)?;
            row.values.push(("pgtables_bytes", bytes));
        }
    }
    Ok(Some(row))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endings() {
        assert_eq!(
            ending("Out of memory and no killable processes...")
                .unwrap()
                .outcome,
            "no_killable"
        );
        assert_eq!(
            ending("Kernel panic - not syncing: Out of memory and no killable processes...")
                .unwrap()
                .outcome,
            "panic"
        );
        assert_eq!(
            ending("Kernel panic - not syncing: System is deadlocked on memory")
                .unwrap()
                .reason,
            "deadlocked"
        );
        assert_eq!(
            ending("Out of memory: compulsory panic_on_oom is enabled")
                .unwrap()
                .reason,
            "panic_on_oom_compulsory"
        );
        assert_eq!(
            ending("Out of memory and no killable processes, maybe"),
            None
        );
    }

    #[test]
    fn summaries() {
        let s = summary("oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/a,\
                         task_memcg=/a/b,task=stress,pid=4242,uid=0").unwrap();
        assert_eq!(
            (s.pid, s.oom_memcg.as_deref(), s.constraint.as_deref()),
            (Some(4242), Some("/a"), Some("CONSTRAINT_MEMCG"))
        );
        assert_eq!(summary("oom-kill:pid=x").unwrap().pid, None);
        assert!(summary("oom_kill:").is_none());
    }

    #[test]
    fn victims_and_lmk() {
        let v =
            victim_without_kill("OOM victim 12 (a (b)) is already exiting. Skip killing the task")
                .unwrap()
                .unwrap();
        assert_eq!((v.pid, v.comm), (12, Some("a (b)")));
        let v = victim_without_kill("Current (77) has a pending SIGKILL")
            .unwrap()
            .unwrap();
        assert_eq!((v.pid, v.comm), (77, None));
        let k = lmk_kill("lowmemorykiller: Killing 'com.x' (1234), adj 900,")
            .unwrap()
            .unwrap();
        assert_eq!((k.pid, k.comm, k.oom_score_adj), (1234, "com.x", Some(900)));
        let k = lmk_kill("lmkd: Kill 'com.y' (55), uid 10061, oom_score_adj 905 to free 1kB")
            .unwrap()
            .unwrap();
        assert_eq!(
            (k.pid, k.uid, k.oom_score_adj),
            (55, Some(10061), Some(905))
        );
    }

    #[test]
    fn task_tables() {
        let cols = table_header(
            "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name",
        )
        .unwrap();
        assert_eq!(cols.len(), 8);
        let r = table_row(
            "[   4242]     0  4242    10000     5000    81920        0             0 my prog",
            &cols,
        )
        .unwrap()
        .unwrap();
        assert_eq!((r.pid, r.comm, r.values.len()), (4242, Some("my prog"), 7));
        let old = table_header(
            "[ pid ]   uid  tgid total_vm      rss nr_ptes swapents oom_score_adj name",
        )
        .unwrap();
        let r = table_row("[  1]  0  1  100  50  3  0  0 init", &old)
            .unwrap()
            .unwrap();
        assert!(r.values.contains(&("pgtables_bytes", 3 * 4096)));
        assert!(table_row("[  1]  0  x  100  50  3  0  0 init", &old)
            .unwrap()
            .is_none());
    }
}
