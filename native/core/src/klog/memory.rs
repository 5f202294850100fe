//! Memory lines of an OOM report or an allocation warning (memory.py, kernel-formats.md §1.4, §2): the Mem-Info
//! summary, per-zone watermarks, `lowmem_reserve[]`, memcg usage (v1 and v2), `warn_alloc` stalls and failures.
//! Stateless like `oom`.

use super::scan::{at, byte, digits, digits1, line_end, lit, number, spaces, Found, Overflow};

/// `mem_info(msg)`: the summary's counter lines follow.
pub fn mem_info(msg: &str) -> bool {
    msg == "Mem-Info:" || msg == "Mem-info:"
}

/// `per_cpu(msg)`: ≤3.x lines between `Mem-Info:` and the counters.
pub fn per_cpu(msg: &str) -> bool {
    msg.ends_with(" per-cpu:") || (msg.starts_with("CPU ") && msg.contains(" hi:"))
}

fn name_run(s: &str, i: usize) -> usize {
    super::scan::ascii_run(s, i, |c| c.is_ascii_alphabetic() || c == b'_')
}

/// `counters(msg)`: a line of only `name:pages` pairs, `_COUNTERS.fullmatch`; each name lower-cased, its pages
/// (a later duplicate wins). None for any other line.
pub fn counters(msg: &str) -> Found<Vec<(String, i64)>> {
    let mut out: Vec<(String, i64)> = Vec::new();
    let mut i = 0;
    loop {
        let n = name_run(msg, i);
        if n == i || byte(msg, n) != Some(b':') {
            return Ok(None);
        }
        let Some(d) = digits1(msg, n + 1) else {
            return Ok(None);
        };
        let name = msg[i..n].to_ascii_lowercase();
        let value = number(&msg[n + 1..d]);
        let value = match value {
            Ok(v) => v,
            Err(_) => {
                // too large: only an error if the line is a counters line after all
                if counters_shape(msg) {
                    return Err(Overflow);
                }
                return Ok(None);
            }
        };
        match out.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = value,
            None => out.push((name, value)),
        }
        if d == msg.len() {
            return Ok(Some(out));
        }
        let s = spaces(msg, d);
        if s == d {
            return Ok(None);
        }
        i = s;
    }
}

fn counters_shape(msg: &str) -> bool {
    let mut i = 0;
    loop {
        let n = name_run(msg, i);
        if n == i || byte(msg, n) != Some(b':') {
            return false;
        }
        let Some(d) = digits1(msg, n + 1) else {
            return false;
        };
        if d == msg.len() {
            return true;
        }
        let s = spaces(msg, d);
        if s == d {
            return false;
        }
        i = s;
    }
}

/// A zone line: `[Node N ]ZONE free:…kB … min:…kB low:…kB high:…kB … managed:…kB …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone<'a> {
    pub node: Option<i64>,
    pub zone: &'a str,
    pub free_kb: i64,
    /// (field, kB) of min/low/high/managed, in the order printed
    pub kb: Vec<(&'static str, i64)>,
}

const ZONES: [&str; 6] = ["DMA32", "DMA", "Normal", "HighMem", "Movable", "Device"];

fn zone_at(msg: &str, i: usize) -> Option<(usize, usize, usize)> {
    ZONES.iter().find_map(|z| {
        let f0 = lit(msg, lit(msg, i, z)?, " free:")?;
        let f1 = digits1(msg, f0)?;
        Some((i + z.len(), f0, lit(msg, f1, "kB")?))
    })
}

pub fn zone(msg: &str) -> Found<Zone<'_>> {
    if !msg.contains(" free:") {
        return Ok(None);
    }
    let mut node = None;
    let mut found = None;
    if let Some(n0) = lit(msg, 0, "Node ") {
        if let Some(n1) = digits1(msg, n0) {
            if let Some(z0) = lit(msg, n1, " ") {
                if let Some(f) = zone_at(msg, z0) {
                    node = Some((n0, n1));
                    found = Some((z0, f));
                }
            }
        }
    }
    if found.is_none() {
        found = zone_at(msg, 0).map(|f| (0, f));
    }
    let Some((z0, (z1, f0, end))) = found else {
        return Ok(None);
    };
    let node = match node {
        Some((a, b)) => Some(number(&msg[a..b])?),
        None => None,
    };
    let free_kb = number(&msg[f0..end - 2])?;
    let kb = find_kb(
        &msg[end..],
        &[
            ("min", "min_kb"),
            ("low", "low_kb"),
            ("high", "high_kb"),
            ("managed", "managed_kb"),
            ("present", ""),
        ],
    )?;
    let kb = kb.into_iter().filter(|(f, _)| !f.is_empty()).collect();
    Ok(Some(Zone {
        node,
        zone: &msg[z0..z1],
        free_kb,
        kb,
    }))
}

/// `re.findall(r" (NAME|…):(\d+)kB", s)`: (field, kB) left to right, matches not overlapping.
pub fn find_kb(
    s: &str,
    names: &[(&str, &'static str)],
) -> Result<Vec<(&'static str, i64)>, Overflow> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(k) = memchr::memchr(b' ', &b[i..]) {
        let p = i + k + 1;
        let hit = names.iter().find_map(|&(name, field)| {
            let d0 = lit(s, lit(s, p, name)?, ":")?;
            let d1 = digits1(s, d0)?;
            Some((field, d0, d1, lit(s, d1, "kB")?))
        });
        match hit {
            Some((field, d0, d1, e)) => {
                out.push((field, number(&s[d0..d1])?));
                i = e;
            }
            None => i = p,
        }
    }
    Ok(out)
}

/// `lowmem_reserve(msg)`: `lowmem_reserve[]: 0 1935 1935 1935`, pages per zone index.
pub fn lowmem_reserve(msg: &str) -> Found<Vec<i64>> {
    let Some(mut i) = lit(msg, 0, "lowmem_reserve[]:") else {
        return Ok(None);
    };
    let mut out = Vec::new();
    loop {
        let s = spaces(msg, i);
        if s == i {
            break;
        }
        let d = digits(msg, s);
        if d == s {
            break;
        }
        out.push(number(&msg[s..d])?);
        i = d;
    }
    Ok(Some(out))
}

/// memcg `memory: usage …kB, limit …kB, failcnt …` and its mates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage<'a> {
    pub what: &'a str,
    pub usage: i64,
    pub limit: Option<i64>,
    pub failcnt: Option<i64>,
}

pub fn usage(msg: &str) -> Found<Usage<'_>> {
    if !msg.contains(": usage ") {
        return Ok(None);
    }
    let Some(w) = ["memory", "memory+swap", "swap", "kmem"]
        .iter()
        .find(|w| at(msg, w.len(), ": usage ") && msg.starts_with(**w))
    else {
        return Ok(None);
    };
    let u0 = w.len() + ": usage ".len();
    let Some(u1) = digits1(msg, u0) else {
        return Ok(None);
    };
    let Some(mut i) = lit(msg, u1, "kB") else {
        return Ok(None);
    };
    let usage = number(&msg[u0..u1])?;
    let mut limit = None;
    if let Some(l0) = lit(msg, i, ", limit ") {
        if let Some(e) = digits1(msg, l0).and_then(|l1| lit(msg, l1, "kB")) {
            limit = Some(number(&msg[l0..e - 2])?);
            i = e;
        }
    }
    let mut failcnt = None;
    if let Some(f0) = lit(msg, i, ", failcnt ") {
        if let Some(f1) = digits1(msg, f0) {
            failcnt = Some(number(&msg[f0..f1])?);
        }
    }
    Ok(Some(Usage {
        what: &msg[..w.len()],
        usage,
        limit,
        failcnt,
    }))
}

/// `limited_memcg(msg)`: ≤4.20 `Task in … killed as a result of limit of PATH`, or `Memory limit reached of
/// cgroup PATH`.
pub fn limited_memcg(msg: &str) -> Option<&str> {
    if msg.starts_with("Task in ") {
        const MID: &str = " killed as a result of limit of ";
        let first = &msg[..line_end(msg, 0)];
        let k = first[8..].rfind(MID)? + 8;
        return Some(&first[k + MID.len()..]);
    }
    let p = lit(msg, 0, "Memory limit reached of cgroup ")?;
    Some(&msg[p..line_end(msg, p)])
}

/// `stats_for(msg)`: `Memory cgroup stats for PATH:`.
pub fn stats_for(msg: &str) -> Option<&str> {
    let p = lit(msg, 0, "Memory cgroup stats for ")?;
    let c = memchr::memchr(b':', &msg.as_bytes()[p..])?;
    Some(&msg[p..p + c])
}

/// warn_alloc: `comm: page allocation failure: order:N, mode:…` or `… stalls for Nms, order:N, mode:…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alloc<'a> {
    pub comm: &'a str,
    pub fail: bool,
    pub gfp: Option<&'a str>,
    pub order: Option<i64>,
    pub duration_ns: Option<i64>,
}

pub fn alloc(msg: &str) -> Found<Alloc<'_>> {
    const MARK: &str = ": page allocation ";
    if !msg.contains(MARK) {
        return Ok(None);
    }
    let first = line_end(msg, 0);
    for (k, _) in msg[..first].match_indices(MARK) {
        let a = k + MARK.len();
        let (fail, mut i, ms) = if let Some(e) = lit(msg, a, "failure") {
            (true, e, None)
        } else {
            let Some(m0) = lit(msg, a, "stalls for ") else {
                continue;
            };
            let Some(m1) = digits1(msg, m0) else { continue };
            let Some(e) = lit(msg, m1, "ms") else {
                continue;
            };
            (false, e, Some((m0, m1)))
        };
        let mut order = None;
        let o = if matches!(byte(msg, i), Some(b':' | b',')) {
            lit(msg, i + 1, " order:")
        } else {
            None
        };
        if let Some(o0) = o.or_else(|| lit(msg, i, " order:")) {
            if let Some(o1) = digits1(msg, o0) {
                order = Some(number(&msg[o0..o1])?);
                i = o1;
            }
        }
        let mut gfp = None;
        if let Some(mut g) = lit(msg, i, ", mode") {
            if byte(msg, g) == Some(b':') {
                g += 1;
            }
            if byte(msg, g) == Some(b' ') {
                g += 1;
            }
            if let Some(h0) = lit(msg, g, "0x") {
                let h = super::scan::ascii_run(msg, h0, |c| c.is_ascii_hexdigit());
                if h > h0 {
                    let mut end = h;
                    if byte(msg, h) == Some(b'(') {
                        end = memchr::memchr(b')', &msg.as_bytes()[h..])
                            .map_or(msg.len(), |c| h + c + 1);
                    }
                    gfp = Some(&msg[g..end]);
                }
            }
        }
        let duration_ns = match ms {
            Some((m0, m1)) => Some(
                number(&msg[m0..m1])?
                    .checked_mul(1_000_000)
                    .ok_or(Overflow)?,
            ),
            None => None,
        };
        return Ok(Some(Alloc {
            comm: &msg[..k],
            fail,
            gfp,
            order,
            duration_ns,
        }));
    }
    Ok(None)
}

#[cfg(test)]
#[path = "memory_tests.rs"]
mod tests;
