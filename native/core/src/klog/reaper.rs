//! What the oom_reaper's console lines mean, by kernel version (kernel-formats.md §1.7, §1.9; kernel-audit F1–F5,
//! F7): the reaper prints one line per *round* (one `oom_reap_task()` run, mm/oom_kill.c, 4.6 → 6.x), never one per
//! try, and what it leaves behind (a flag, TIF_MEMDIE) changed three times.
//!
//! - `oom_reaper: unable to reap pid:N` is printed only after `MAX_OOM_REAP_RETRIES` (10) failed tries, each
//!   followed by `schedule_timeout_idle(HZ/10)` (`while (attempts++ < MAX_OOM_REAP_RETRIES && !reap()) sleep`),
//!   so the first try was about 1 s before the line; from 5.18 (`queue_oom_reaper`, also 5.4.y/5.15.y backports)
//!   the first try is no earlier than OOM_REAPER_DELAY (2 s) after the kill. One `reaper_attempt` stands for the
//!   round: `n` = 10 (inferred), which the model reads as the nine failures before it (model/victims.rs). The
//!   events cannot be spread back in time: a trace's times never go backwards, so the round is one event at the
//!   line's time carrying its count, and the views say "10 attempts over about 1 s (inferred)".
//!   What failed: up to 4.18 only the read trylock of the mmap lock makes a try fail (`lock_busy`); from 4.19 an MMU
//!   notifier refusing a non-blocking invalidate does too, so the log cannot tell (`failed`).
//! - `oom_reaper: reaped process N` ends a round that may have begun with up to nine silent failures: the attempt's
//!   number is unknown (`n` Nil, marked inferred), "attempt 1–10".
//! - What the reaper sets, by version (F3): 4.6 clears TIF_MEMDIE (`exit_oom_victim`) and sets oom_score_adj to
//!   OOM_SCORE_ADJ_MIN on success only, nothing after giving up; 4.7 sets MMF_OOM_REAPED on success and clears
//!   TIF_MEMDIE either way; 4.8 likewise, with MMF_OOM_NOT_REAPABLE after the first give-up; from 4.9 MMF_OOM_SKIP
//!   on either outcome (`done:` in oom_reap_task). A log that does not name its kernel gets no flag: which one is
//!   the version's, and the analysis says so.
//! - 4.8's `oom_reaper: giving up pid:N` follows "unable to reap" on the second failed round for the same mm
//!   (`test_and_set_bit(MMF_OOM_NOT_REAPABLE)` was already set): MMF_OOM_REAPED, so the victim is skipped from then
//!   on. A flag, not another round.
//! - `oom killer %d (%s) has mm pinned by %d (%s)` (`oom_kill_process`/`__oom_kill_process`, 4.8 → 6.x): init
//!   shares the victim's mm, so the reaper is never woken and the mm is hidden from the OOM killer at once:
//!   MMF_OOM_REAPED on 4.8, MMF_OOM_SKIP from 4.9 (`set_bit(MMF_OOM_SKIP, &mm->flags)` before that pr_info).

use super::kill::Reaped;
use super::scan::{digits1, lit, pid, Found};
use crate::model::schema::kind;
use crate::model::{Event, Src, Str, Value};

/// A release as (major, minor): all the reaper's rules change at a minor release.
pub type Version = (i64, i64);

/// The `major.minor` a kernel release string starts with (`4.14.0-rc3+` → (4, 14)).
pub fn version(kernel: Option<&str>) -> Option<Version> {
    let k = kernel?;
    let major = digits1(k, 0)?;
    let m0 = lit(k, major, ".")?;
    let minor = digits1(k, m0)?;
    Some((k[..major].parse().ok()?, k[m0..minor].parse().ok()?))
}

/// The reaper's rules a version follows (`None`: the log does not say, or a distro backport older than 4.6).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Era {
    /// 4.6: success clears TIF_MEMDIE; giving up changes nothing
    V46,
    /// 4.7: MMF_OOM_REAPED on success; TIF_MEMDIE cleared either way
    V47,
    /// 4.8: as 4.7, and MMF_OOM_NOT_REAPABLE after giving up ("giving up" the second time)
    V48,
    /// 4.9 → 4.18: MMF_OOM_SKIP either way; only the mmap trylock makes a try fail
    V49,
    /// ≥ 4.19: MMF_OOM_SKIP either way; an MMU notifier may also make a try fail
    V419,
}

pub fn era(kernel: Option<&str>) -> Option<Era> {
    Some(match version(kernel)? {
        (4, 6) => Era::V46,
        (4, 7) => Era::V47,
        (4, 8) => Era::V48,
        (4, 9..=18) => Era::V49,
        v if v >= (4, 19) => Era::V419,
        _ => return None,
    })
}

/// `oom killer %d (%s) has mm pinned by %d (%s)`: the victim and the task (init) sharing its mm.
pub struct Pinned<'a> {
    pub pid: i64,
    pub comm: Option<&'a str>,
    pub by: i64,
    pub by_comm: Option<&'a str>,
}

pub fn pinned(msg: &str) -> Found<Pinned<'_>> {
    const MARK: &str = ") has mm pinned by ";
    let found = (|| {
        let p0 = lit(msg, 0, "oom killer ")?;
        let p1 = digits1(msg, p0)?;
        let c0 = lit(msg, p1, " (")?;
        let c1 = c0 + msg[c0..].rfind(MARK)?;
        let b0 = c1 + MARK.len();
        let b1 = digits1(msg, b0)?;
        let by_comm = lit(msg, b1, " (").and_then(|d0| {
            let d1 = d0 + msg[d0..].rfind(')')?;
            Some(&msg[d0..d1])
        });
        Some((p0, p1, &msg[c0..c1], b0, b1, by_comm))
    })();
    let Some((p0, p1, comm, b0, b1, by_comm)) = found else {
        return Ok(None);
    };
    Ok(Some(Pinned {
        pid: pid(&msg[p0..p1])?,
        comm: Some(comm),
        by: pid(&msg[b0..b1])?,
        by_comm,
    }))
}

fn ev(ts: i64, kind: u8, pid: i64, src: Src) -> Event {
    let mut e = Event::new(ts, kind, Some(pid));
    e.src = Some(src);
    e
}

fn inferred(mut e: Event, names: &[&str]) -> Event {
    e.set_inferred(names.iter().map(|n| Str::from(*n)));
    e
}

/// A flag the kernel's code sets (or clears) without printing it: inferred.
fn flag(ts: i64, pid: i64, src: Src, name: &str, on: bool) -> Event {
    let kind = if on { kind::FLAG_SET } else { kind::FLAG_CLEAR };
    let mut e = ev(ts, kind, pid, src);
    e.set("flag", Value::str(name));
    if name.starts_with("MMF_") {
        e.set("target", Value::str("mm"));
    }
    inferred(e, &["flag"])
}

/// The events of one `oom_reaper:` line on a kernel of `era`; `again`: the reaper was done with this pid before.
///
/// A second round on 4.7–4.8 means the OOM killer found the victim again and, as `task_will_free_mem()` held,
/// marked it once more without a line (`mark_oom_victim` + `wake_oom_reaper` in oom_kill_process): TIF_MEMDIE
/// is set again (inferred) before the round clears it.
pub fn reaper_events(
    f: &Reaped<'_>,
    era: Option<Era>,
    again: bool,
    ts: i64,
    src: Src,
) -> Vec<Event> {
    let comm = f.comm.map_or(Value::Nil, Value::str);
    if f.giving_up {
        // 4.8 only prints it, so it is 4.8 whatever the log said: the second failed round, MMF_OOM_REAPED
        return vec![flag(ts, f.pid, src, "MMF_OOM_REAPED", true)];
    }
    let mut attempt = ev(ts, kind::REAPER_ATTEMPT, f.pid, src);
    attempt.set("comm", comm.clone());
    let mut done = ev(ts, kind::REAPER_DONE, f.pid, src);
    done.set("comm", comm);
    let mut out = Vec::with_capacity(6);
    if again && matches!(era, Some(Era::V47 | Era::V48)) {
        out.push(flag(ts, f.pid, src, "TIF_MEMDIE", true));
    }
    if f.reaped {
        attempt.set("outcome", Value::str("reaped"));
        out.push(inferred(attempt, &["n"])); // 1..10: earlier failures print nothing
        done.set("outcome", Value::str("reaped"));
        for &(k, v) in &f.kb {
            done.set(k, Value::Int(v));
        }
        out.push(done);
        match era {
            Some(Era::V46) => {
                out.push(flag(ts, f.pid, src, "TIF_MEMDIE", false));
                let mut adj = ev(ts, kind::TASK, f.pid, src);
                adj.set("oom_score_adj", Value::Int(-1000));
                out.push(inferred(adj, &["oom_score_adj"]));
            }
            Some(Era::V47 | Era::V48) => {
                out.push(flag(ts, f.pid, src, "MMF_OOM_REAPED", true));
                out.push(flag(ts, f.pid, src, "TIF_MEMDIE", false));
            }
            Some(Era::V49 | Era::V419) => out.push(flag(ts, f.pid, src, "MMF_OOM_SKIP", true)),
            None => {}
        }
        return out;
    }
    let cause = match era {
        Some(Era::V46 | Era::V47 | Era::V48 | Era::V49) => "lock_busy",
        _ => "failed",
    };
    attempt.set("n", Value::Int(10));
    attempt.set("outcome", Value::str(cause));
    out.push(inferred(attempt, &["n", "outcome"]));
    done.set("outcome", Value::str("unable"));
    out.push(done);
    match era {
        Some(Era::V46) | None => {}
        Some(Era::V47) => out.push(flag(ts, f.pid, src, "TIF_MEMDIE", false)),
        Some(Era::V48) => {
            out.push(flag(ts, f.pid, src, "MMF_OOM_NOT_REAPABLE", true));
            out.push(flag(ts, f.pid, src, "TIF_MEMDIE", false));
        }
        Some(Era::V49 | Era::V419) => out.push(flag(ts, f.pid, src, "MMF_OOM_SKIP", true)),
    }
    out
}

/// The events of a "has mm pinned by" line: the flag that hides the mm, and the task pinning it.
pub fn pinned_events(p: &Pinned<'_>, era: Option<Era>, ts: i64, src: Src) -> Vec<Event> {
    let name = if era == Some(Era::V48) {
        "MMF_OOM_REAPED"
    } else {
        "MMF_OOM_SKIP"
    };
    let mut by = ev(ts, kind::TASK, p.by, src);
    by.set("comm", p.by_comm.map_or(Value::Nil, Value::str));
    let mut skip = flag(ts, p.pid, src, name, true);
    skip.set_inferred(std::iter::empty()); // the line is the kernel saying it set the flag
    vec![skip, by]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_eras() {
        assert_eq!(version(Some("4.14.0-rc3+")), Some((4, 14)));
        assert_eq!(version(Some("unknown")), None);
        assert_eq!(era(Some("4.6.0")), Some(Era::V46));
        assert_eq!(era(Some("4.8.15")), Some(Era::V48));
        assert_eq!(era(Some("4.18.20")), Some(Era::V49));
        assert_eq!(era(Some("6.12.0")), Some(Era::V419));
        assert_eq!(era(Some("3.10.0-1160.el7")), None);
        assert_eq!(era(None), None);
    }

    #[test]
    fn a_pinned_mm() {
        let p = pinned("oom killer 3001 (a.out) has mm pinned by 1 (systemd)")
            .unwrap()
            .unwrap();
        assert_eq!(
            (p.pid, p.comm, p.by, p.by_comm),
            (3001, Some("a.out"), 1, Some("systemd"))
        );
        assert!(pinned("oom killer x").unwrap().is_none());
    }
}
