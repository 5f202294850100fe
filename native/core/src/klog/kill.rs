//! The OOM killer's lines about its victim, every historical variant (oom.py, kernel-formats.md §1): the victim
//! chosen, a task sharing its mm, the kill line with its memory fields, and the reaper's outcome. Stateless, as
//! `oom` is: each function reads one message and returns its fields, None when the line is not of its form;
//! fields past a cut are absent.

use super::oom::{find, search_signed};
use super::scan::{
    at, byte, digits1, line_end, lit, number, pid, signed, spaces, word_start, Found,
};

/// `"%s: Kill process %d (%s) score %u or sacrifice child"`: the victim picked; a child may die instead.
pub struct Chosen {
    pub pid: i64,
    pub points: i64,
}

/// `Kill process (\d+) \((.*)\) score (-?\d+) (?:or sacrifice child|and children)` at `i`: pid and score.
fn chosen_at(s: &str, i: usize) -> Option<(&str, &str)> {
    let p0 = lit(s, i, "Kill process ")?;
    let p1 = digits1(s, p0)?;
    let c0 = lit(s, p1, " (")?;
    let region = &s[c0..line_end(s, c0)];
    region.rmatch_indices(") score ").find_map(|(c, _)| {
        let k = c0 + c + ") score ".len();
        let (e, _) = signed(s, k)?;
        (at(s, e, " or sacrifice child") || at(s, e, " and children"))
            .then(|| (&s[p0..p1], &s[k..e]))
    })
}

pub fn chosen(msg: &str) -> Found<Chosen> {
    if find(msg, 0, "Kill process").is_none() {
        return Ok(None);
    }
    let first = line_end(msg, 0);
    let with_message = msg[..first]
        .match_indices(": Kill process ")
        .find_map(|(k, _)| chosen_at(msg, k + 2));
    let Some((p, score)) = with_message.or_else(|| chosen_at(msg, 0)) else {
        return Ok(None);
    };
    let points = signed(score, 0).map_or(Ok(0), |(_, v)| v)?;
    Ok(Some(Chosen {
        pid: pid(p)?,
        points,
    }))
}

/// 3.x `"Kill process %d (%s) sharing same memory"`: another process killed with the victim.
pub fn sharing(msg: &str) -> Found<(i64, &str)> {
    if find(msg, 0, "sharing same memory").is_none() {
        return Ok(None);
    }
    let found = (|| {
        let p0 = lit(msg, 0, "Kill process ")?;
        let p1 = digits1(msg, p0)?;
        let c0 = lit(msg, p1, " (")?;
        let c = msg[c0..line_end(msg, c0)].rfind(") sharing same memory")?;
        Some((p0, p1, c0, c0 + c))
    })();
    let Some((p0, p1, c0, c1)) = found else {
        return Ok(None);
    };
    Ok(Some((pid(&msg[p0..p1])?, &msg[c0..c1])))
}

/// Every `Killed process` form: 2.4 `Out of Memory: Killed process N (c).`, 3.x-5.0 bare, 5.x+ after the
/// message, RHEL 7 `(c), UID n, total-vm…`. The comm may be missing (a line wrapped after the pid).
pub struct Killed<'a> {
    pub pid: i64,
    pub comm: Option<&'a str>,
    pub message: Option<&'a str>,
    /// (field, kB) in the order printed
    pub kb: Vec<(&'static str, i64)>,
    pub uid: Option<i64>,
    pub oom_score_adj: Option<i64>,
}

pub fn killed(msg: &str) -> Found<Killed<'_>> {
    if find(msg, 0, "Killed process").is_none() {
        return Ok(None);
    }
    let tail =
        |i: usize| lit(msg, i, "Killed process ").and_then(|p0| Some((p0, digits1(msg, p0)?)));
    let first = line_end(msg, 0);
    let with_message = msg[..first]
        .match_indices(": Killed process ")
        .find_map(|(k, _)| tail(k + 2).map(|t| (Some(&msg[..k]), t)));
    let Some((message, (p0, p1))) = with_message.or_else(|| tail(0).map(|t| (None, t))) else {
        return Ok(None);
    };
    let mut end = p1;
    let mut comm = None;
    if let Some(c0) = lit(msg, p1, " (") {
        let region = &msg[c0..line_end(msg, c0)];
        for (c, _) in region.rmatch_indices(')') {
            let a = c0 + c + 1;
            let after = if byte(msg, a) == Some(b',') { a + 1 } else { a };
            let lead =
                lit(msg, after, " ").filter(|&x| at(msg, x, "total-vm") || at(msg, x, "UID"));
            let dot = if byte(msg, a) == Some(b'.') { a + 1 } else { a };
            if let Some(x) = lead.or_else(|| (spaces(msg, dot) == msg.len()).then_some(msg.len())) {
                comm = Some(&msg[c0..a - 1]);
                end = x;
                break;
            }
        }
    }
    let rest = &msg[end..];
    let kb = kb_fields(
        rest,
        &["total-vm", "anon-rss", "file-rss", "shmem-rss", "pgtables"],
    )?;
    let mut uid = None;
    let mut from = 0;
    while let Some(p) = find(rest, from, "UID") {
        if word_start(rest, p) && matches!(byte(rest, p + 3), Some(b':' | b' ')) {
            if let Some(e) = digits1(rest, p + 4) {
                uid = Some(number(&rest[p + 4..e]).map_err(|_| super::scan::Overflow)?);
                break;
            }
        }
        from = p + 1;
    }
    let oom_score_adj = search_signed(rest, "oom_score_adj:")?;
    Ok(Some(Killed {
        pid: pid(&msg[p0..p1])?,
        comm,
        message,
        kb,
        uid,
        oom_score_adj,
    }))
}

/// `(NAME|…):(\d+)kB` found all over `s`, left to right, as `re.findall`: (field, kB), names as the kernel
/// prints them mapped to the event's fields.
pub fn kb_fields(
    s: &str,
    names: &[&'static str],
) -> Result<Vec<(&'static str, i64)>, super::scan::Overflow> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let hit = names.iter().find_map(|name| {
            let e = digits1(s, lit(s, lit(s, i, name)?, ":")?)?;
            Some((*name, i + name.len() + 1, e, lit(s, e, "kB")?))
        });
        match hit {
            Some((name, d0, d1, e)) => {
                let field = match name {
                    "total-vm" => "total_vm_kb",
                    "anon-rss" => "anon_rss_kb",
                    "file-rss" => "file_rss_kb",
                    "shmem-rss" => "shmem_rss_kb",
                    _ => "pgtables_kb",
                };
                out.push((field, number(&s[d0..d1])?));
                i = e;
            }
            None => i += s[i..].chars().next().map_or(1, char::len_utf8),
        }
    }
    Ok(out)
}

/// `oom_reaper: reaped process …, now anon-rss:…` / `unable to reap pid:…` / 4.8's `giving up pid:`, printed
/// after a second "unable" for the same mm (what each means is `reaper.rs`).
pub struct Reaped<'a> {
    pub pid: i64,
    pub comm: Option<&'a str>,
    pub reaped: bool,
    /// 4.8's `giving up pid:` (not another round: a flag)
    pub giving_up: bool,
    pub kb: Vec<(&'static str, i64)>,
}

pub fn reaper(msg: &str) -> Found<Reaped<'_>> {
    if !msg.starts_with("oom_reaper: ") {
        return Ok(None);
    }
    let reaped = (|| {
        let p0 = lit(msg, 0, "oom_reaper: reaped process ")?;
        let p1 = digits1(msg, p0)?;
        let c0 = lit(msg, p1, " (")?;
        msg[c0..line_end(msg, c0)]
            .match_indices(')')
            .find_map(|(c, _)| {
                let a = c0 + c + 1;
                let end = lit(msg, a, ", now ")
                    .or_else(|| (spaces(msg, a) == msg.len()).then_some(msg.len()))?;
                Some((p0, p1, c0, a - 1, end))
            })
    })();
    if let Some((p0, p1, c0, c1, end)) = reaped {
        let kb = kb_fields(&msg[end..], &["anon-rss", "file-rss", "shmem-rss"])?;
        return Ok(Some(Reaped {
            pid: pid(&msg[p0..p1])?,
            comm: Some(&msg[c0..c1]),
            reaped: true,
            giving_up: false,
            kb,
        }));
    }
    let unable = (|| {
        let (a, giving_up) = match lit(msg, 12, "unable to reap") {
            Some(a) => (a, false),
            None => (lit(msg, 12, "giving up")?, true),
        };
        let p0 = lit(msg, a, " pid:")?;
        Some((p0, digits1(msg, p0)?, giving_up))
    })();
    let Some((p0, p1, giving_up)) = unable else {
        return Ok(None);
    };
    let comm = lit(msg, p1, " (").and_then(|c0| {
        msg[c0..line_end(msg, c0)]
            .rfind(')')
            .map(|c| &msg[c0..c0 + c])
    });
    Ok(Some(Reaped {
        pid: pid(&msg[p0..p1])?,
        comm,
        reaped: false,
        giving_up,
        kb: Vec::new(),
    }))
}
