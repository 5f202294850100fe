//! The payloads that are not `key=value` pairs: `sched_switch` (the kernel's form and trace-cmd's plugin form)
//! and the lock events' positional `%p …`. Each scan tries the candidates a lazy `.*?` of Python's regex would
//! try, in its order, so the same text is taken for the comm when a comm holds the separators.

use super::chars::{digits, non_spaces, strip};
use super::payload::Num;
use memchr::memmem::Finder;
use std::sync::LazyLock;

static PREV_PID: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b" prev_pid="));
static NEXT_PID: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b" next_pid="));

/// `sched_switch`'s columns.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Switch<'a> {
    pub prev_comm: &'a str,
    pub prev_pid: Num,
    pub prev_state: &'a str,
    pub next_comm: &'a str,
    pub next_pid: Num,
}

/// `-?\d+` at `i`: the number and where it ends.
fn signed(s: &[u8], i: usize) -> Option<(Num, usize)> {
    let neg = s.get(i) == Some(&b'-');
    let d = digits(s, i + neg as usize);
    if d.count == 0 {
        return None;
    }
    let n = d.value.map_or(Num::Huge, |v| {
        Num::Int(if neg { -(v as i128) } else { v as i128 })
    });
    Some((n, d.end))
}

fn literal(s: &[u8], i: usize, lit: &[u8]) -> Option<usize> {
    s.get(i..)?.starts_with(lit).then_some(i + lit.len())
}

/// `(prev_comm, prev_pid, prev_state, next_comm, next_pid)` from either rendering.
pub fn sched_switch(payload: &str) -> Option<Switch<'_>> {
    kernel_switch(payload).or_else(|| plugin_switch(payload))
}

/// `prev_comm=(.*?) prev_pid=(-?\d+) prev_prio=-?\d+ prev_state=(\S+) ==> next_comm=(.*?) next_pid=(-?\d+)`
fn kernel_switch(p: &str) -> Option<Switch<'_>> {
    let s = p.as_bytes();
    literal(s, 0, b"prev_comm=")?;
    PREV_PID.find_iter(&s[10..]).find_map(|k| {
        let k = k + 10;
        let (prev_pid, i) = signed(s, k + 10)?;
        let (_, i) = signed(s, literal(s, i, b" prev_prio=")?)?;
        let i = literal(s, i, b" prev_state=")?;
        let state_end = non_spaces(s, i);
        let nc = literal(s, state_end, b" ==> next_comm=").filter(|_| state_end > i)?;
        NEXT_PID.find_iter(&s[nc..]).find_map(|k2| {
            let (next_pid, _) = signed(s, nc + k2 + 10)?;
            Some(Switch {
                prev_comm: &p[10..k],
                prev_pid,
                prev_state: &p[i..state_end],
                next_comm: &p[nc..nc + k2],
                next_pid,
            })
        })
    })
}

/// `(.*?):(-?\d+) \[-?\d+\] (\S+) ==> (.*?):(-?\d+)`
fn plugin_switch(p: &str) -> Option<Switch<'_>> {
    let s = p.as_bytes();
    memchr::memchr_iter(b':', s).find_map(|k| {
        let (prev_pid, i) = signed(s, k + 1)?;
        let (_, i) = signed(s, literal(s, i, b" [")?)?;
        let i = literal(s, i, b"] ")?;
        let state_end = non_spaces(s, i);
        let nc = literal(s, state_end, b" ==> ").filter(|_| state_end > i)?;
        memchr::memchr_iter(b':', &s[nc..]).find_map(|k2| {
            let (next_pid, _) = signed(s, nc + k2 + 1)?;
            Some(Switch {
                prev_comm: &p[..k],
                prev_pid,
                prev_state: &p[i..state_end],
                next_comm: &p[nc..nc + k2],
                next_pid,
            })
        })
    })
}

/// The model's one-letter state from `prev_state`: `R+` (preempted) is R, a combination such as `D|K`
/// (TASK_KILLABLE) or `D|N` (TASK_IDLE) keeps its first letter.
pub fn task_state(prev_state: &str) -> &str {
    let first = prev_state
        .split('|')
        .next()
        .unwrap_or("")
        .trim_end_matches('+');
    match first.chars().next() {
        Some(c) => &first[..c.len_utf8()],
        None => "R",
    }
}

/// `lock_acquire`'s `%p [try ][read ]name` (`lock_release`: `%p name`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lockdep<'a> {
    pub addr: &'a str,
    pub try_: bool,
    pub read: bool,
    pub name: &'a str,
}

/// `(\S+) (try )?(read )?(.+)`, the name stripped.
pub fn lockdep(payload: &str) -> Option<Lockdep<'_>> {
    let s = payload.as_bytes();
    let addr_end = non_spaces(s, 0);
    let start = literal(s, addr_end, b" ").filter(|_| addr_end > 0)?;
    let try_ = s[start..].starts_with(b"try ");
    let after_try = start + 4 * try_ as usize;
    let read = s[after_try..].starts_with(b"read ");
    let name_at = after_try + 5 * read as usize;
    // `.+` needs a character: when none is left, the regex gives back `read `, then `try `
    let (try_, read, name_at) = if name_at < s.len() {
        (try_, read, name_at)
    } else if read {
        (try_, false, after_try)
    } else if try_ {
        (false, false, start)
    } else {
        return None;
    };
    Some(Lockdep {
        addr: &payload[..addr_end],
        try_,
        read,
        name: strip(&payload[name_at..]),
    })
}

/// `contention_begin`'s `%p (flags=…)` / `contention_end`'s `%p (ret=…)`: `(address, flags or ret)`.
pub fn contention(payload: &str) -> Option<(&str, &str)> {
    let s = payload.as_bytes();
    let addr_end = non_spaces(s, 0);
    let open = literal(s, addr_end, b" (").filter(|_| addr_end > 0)?;
    let what = literal(s, open, b"flags=").or_else(|| literal(s, open, b"ret="))?;
    let close = memchr::memchr(b')', &s[what..])?;
    Some((&payload[..addr_end], &payload[what..what + close]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_switch_forms() {
        let k = sched_switch(
            "prev_comm=a b prev_pid=1 prev_prio=120 prev_state=D|K ==> next_comm=c next_pid=2",
        )
        .unwrap();
        assert_eq!(
            (
                k.prev_comm,
                k.prev_pid,
                k.prev_state,
                k.next_comm,
                k.next_pid
            ),
            ("a b", Num::Int(1), "D|K", "c", Num::Int(2))
        );
        let p = sched_switch("swapper/0:0 [120] R ==> trace-cmd:89135 [120]").unwrap();
        assert_eq!(
            (
                p.prev_comm,
                p.prev_pid,
                p.prev_state,
                p.next_comm,
                p.next_pid
            ),
            ("swapper/0", Num::Int(0), "R", "trace-cmd", Num::Int(89135))
        );
        // a comm holding the separator: the lazy match takes the first split that completes
        let c = sched_switch("x:y:5 [120] S ==> a:b:6 [120]").unwrap();
        assert_eq!(
            (c.prev_comm, c.prev_pid, c.next_comm, c.next_pid),
            ("x:y", Num::Int(5), "a:b", Num::Int(6))
        );
        assert_eq!(sched_switch("prev_comm=a prev_pid=x"), None);
    }

    #[test]
    fn states() {
        assert_eq!(task_state("R+"), "R");
        assert_eq!(task_state("D|K"), "D");
        assert_eq!(task_state("+"), "R");
        assert_eq!(task_state(""), "R");
    }

    #[test]
    fn lock_payloads() {
        let l = lockdep("0xffffffff85517f00 read rcu_read_lock").unwrap();
        assert_eq!((l.try_, l.read, l.name), (false, true, "rcu_read_lock"));
        let l = lockdep("0xabc try read").unwrap(); // no blank after `read`: it is the name
        assert_eq!((l.try_, l.read, l.name), (true, false, "read"));
        let l = lockdep("0xabc read ").unwrap(); // nothing after `read `: the regex gives it back to the name
        assert_eq!((l.try_, l.read, l.name), (false, false, "read"));
        assert_eq!(lockdep("0xabc"), None);
        assert_eq!(
            contention("0xc00000c80904ef00 (flags=SPIN)"),
            Some(("0xc00000c80904ef00", "SPIN"))
        );
        assert_eq!(contention("0x1 (ret=0)"), Some(("0x1", "0")));
        assert_eq!(contention("0x1 (other=0)"), None);
    }
}
