//! lockdep's held-lock dumps (locks.py, kernel-formats.md §4.1): `N lock(s) held by comm/pid:` opens a holder,
//! each ` #n: [instance] (name){usage}[-{a:b}], at: site` line under it is one lock.

use super::scan::{byte, digits1, is_hex, line_end, lit, number, pid, Found};

/// `holder(msg)`: the count line that starts one task's list; the comm may hold '/', the pid follows the last.
pub fn holder(msg: &str) -> Found<(i64, &str)> {
    if !msg.contains(" held by ") {
        return Ok(None);
    }
    let found = (|| {
        let n = digits1(msg, 0)?;
        let c0 = lit(msg, n, " lock")?;
        let c0 = if byte(msg, c0) == Some(b's') {
            c0 + 1
        } else {
            c0
        };
        let c0 = lit(msg, c0, " held by ")?;
        let body = msg.strip_suffix(':')?;
        let slash = body.rfind('/')?;
        if slash < c0 || msg[c0..slash].contains('\n') {
            return None;
        }
        let p = &body[slash + 1..];
        (digits1(p, 0) == Some(p.len())).then_some((c0, slash, p))
    })();
    let Some((c0, slash, p)) = found else {
        return Ok(None);
    };
    Ok(Some((pid(p)?, &msg[c0..slash])))
}

/// One held lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held<'a> {
    pub index: i64,
    pub lock: &'a str,
    pub site: Option<&'a str>,
}

/// `held_lock(msg)`: one `#n:` line.
pub fn held_lock(msg: &str) -> Found<Held<'_>> {
    let found = (|| {
        let i0 = lit(msg, 0, "#")?;
        let i1 = digits1(msg, i0)?;
        let s0 = lit(msg, i1, ":")?;
        let mut n0 = super::scan::run_of(msg, s0, b' ');
        if n0 == s0 {
            return None;
        }
        let h = super::scan::ascii_run(msg, n0, is_hex);
        if (8..=16).contains(&(h - n0)) {
            let sp = super::scan::run_of(msg, h, b' ');
            if sp > h && byte(msg, sp) == Some(b'(') {
                n0 = sp;
            }
        }
        let n0 = lit(msg, n0, "(")?;
        // `(.*)\)\{[^}]*\}`: the last `){` on the line with a `}` after it
        let first = &msg[n0..line_end(msg, n0)];
        let (close, end) = first.rmatch_indices("){").find_map(|(c, _)| {
            let u0 = n0 + c + 2;
            memchr::memchr(b'}', &msg.as_bytes()[u0..]).map(|k| (n0 + c, u0 + k + 1))
        })?;
        let mut i = end;
        if let Some(a) = lit(msg, i, "-{") {
            if let Some(e) = digits1(msg, a)
                .and_then(|b| lit(msg, b, ":"))
                .and_then(|c| digits1(msg, c))
                .and_then(|d| lit(msg, d, "}"))
            {
                i = e;
            }
        }
        let mut site = None;
        if let Some(mut s) = lit(msg, i, ", at: ") {
            if let Some(h0) = lit(msg, s, "[<") {
                let h = super::scan::ascii_run(msg, h0, is_hex);
                if h > h0 {
                    if let Some(e) = lit(msg, h, ">] ") {
                        s = e;
                    }
                }
            }
            site = Some(&msg[s..line_end(msg, s)]);
        }
        Some((i0, i1, n0, close, site))
    })();
    let Some((i0, i1, n0, close, site)) = found else {
        return Ok(None);
    };
    Ok(Some(Held {
        index: number(&msg[i0..i1])?,
        lock: &msg[n0..close],
        site,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holders_and_locks() {
        assert_eq!(
            holder("2 locks held by kworker/u8:3/123:").unwrap(),
            Some((123, "kworker/u8:3"))
        );
        assert_eq!(
            holder("1 lock held by a.out/2202:").unwrap(),
            Some((2202, "a.out"))
        );
        assert_eq!(holder("1 lock held by x/12: more").unwrap(), None);
        let l = held_lock("#0: ffff88007d8e8d48 (&mm->mmap_sem){++++}, at: [<ffffffff81>] __do_page_fault+0x1/0x2")
            .unwrap()
            .unwrap();
        assert_eq!(
            (l.index, l.lock, l.site),
            (0, "&mm->mmap_sem", Some("__do_page_fault+0x1/0x2"))
        );
        let l = held_lock("#1:  (&type->i_mutex_dir_key#3){++++}-{3:3}, at: lookup_slow+0x2a/0x50")
            .unwrap()
            .unwrap();
        assert_eq!(
            (l.lock, l.site),
            ("&type->i_mutex_dir_key#3", Some("lookup_slow+0x2a/0x50"))
        );
        let l = held_lock("#2: (rcu_read_lock){....}").unwrap().unwrap();
        assert_eq!(l.site, None);
        assert!(held_lock("#x: (a){}").unwrap().is_none());
    }
}
