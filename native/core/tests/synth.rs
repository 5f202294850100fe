//! A small deterministic incident for the store's tests: tasks, locks taken and released, zones, memcgs, OOM
//! invocations with candidates, kills and reaper attempts, log lines. Shared by the integration tests.

use oomreplay_core::model::schema::kind;
use oomreplay_core::model::value::{Str, Value};
use oomreplay_core::model::Event;

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(6364136223846793005).wrapping_add(1))
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

/// `n` events of a made-up incident with `tasks` tasks.
pub fn incident(n: usize, tasks: i64, seed: u64) -> Vec<Event> {
    let mut r = Rng::new(seed);
    let mut out = Vec::with_capacity(n);
    let mut ts = 1_000_000_000i64;
    let mut held: Vec<(i64, String)> = Vec::new();
    while out.len() < n {
        ts += r.below(50_000) as i64;
        let pid = 100 + r.below(tasks as u64) as i64;
        let e = match r.below(20) {
            0..=3 => Event::new(ts, kind::TASK_STATE, Some(pid))
                .with("state", ["R", "S", "D"][r.below(3) as usize]),
            4..=6 => Event::new(ts, kind::RSS, Some(pid)).with("anon_kb", r.below(1 << 20) as i64),
            7 => {
                let lock = format!("lock{}", r.below(40));
                held.push((pid, lock.clone()));
                Event::new(ts, kind::LOCK_ACQUIRE, Some(pid))
                    .with("lock", lock.as_str())
                    .with("mode", "r")
            }
            8 if !held.is_empty() => {
                let (p, lock) = held.swap_remove(r.below(held.len() as u64) as usize);
                Event::new(ts, kind::LOCK_RELEASE, Some(p)).with("lock", lock.as_str())
            }
            9 => Event::new(ts, kind::ZONE, None)
                .with("zone", "Normal")
                .with("free_kb", r.below(100_000) as i64 - 10)
                .with("min_kb", 4000)
                .with(
                    "lowmem_reserve_kb",
                    Value::list(vec![Value::Int(0), Value::Int(1024)]),
                ),
            10 => Event::new(ts, kind::MEMCG, None)
                .with("path", "/a")
                .with("usage_kb", r.below(1 << 20) as i64),
            11 => Event::new(ts, kind::TASK, Some(pid))
                .with("comm", format!("t{pid}").as_str())
                .with("tgid", pid & !3),
            12 => Event::new(ts, kind::OOM_INVOKE, Some(pid))
                .with("gfp", "GFP_KERNEL")
                .with("order", 0),
            13 => Event::new(ts, kind::OOM_CANDIDATE, Some(pid)).with("rss_pages", 10),
            14 => Event::new(ts, kind::OOM_KILL, Some(pid))
                .with("comm", "victim")
                .with("points", 900),
            15 => Event::new(ts, kind::REAPER_ATTEMPT, Some(pid)).with("outcome", "lock_busy"),
            16 => Event::new(ts, kind::REAPER_DONE, Some(pid)).with("outcome", "unable"),
            17 => {
                let mut e = Event::new(ts, kind::FLAG_SET, Some(pid))
                    .with("flag", ["TIF_MEMDIE", "MMF_OOM_SKIP"][r.below(2) as usize]);
                e.set_inferred([Str::from("flag")]);
                e
            }
            18 => Event::new(ts, kind::TASK_EXIT, Some(pid)),
            _ => {
                let mut e = Event::new(ts, kind::LOG, None)
                    .with("text", format!("line {}", out.len()).as_str());
                e.src = Some((0, out.len() as i64 + 1));
                e
            }
        };
        out.push(e);
    }
    out
}
