//! `apply` on hand-made streams: what each event does to the state, and every oddity recorded as an anomaly,
//! never a panic.

use oomreplay_core::model::schema::{kind, KINDS};
use oomreplay_core::model::state::{f, T_ANOMALIES, T_LOCKS, T_MMS, T_OOMS, T_TASKS, T_VICTIMS};
use oomreplay_core::model::table::Key;
use oomreplay_core::model::value::{Str, Value};
use oomreplay_core::model::{apply, Ev, Event, State};

fn run(events: &[Event]) -> State {
    let mut s = State::new();
    for (i, e) in events.iter().enumerate() {
        let mut e = e.clone();
        e.seq = Some(i as i64);
        apply(&mut s, &Ev::of(&e)).unwrap();
    }
    s
}

fn anomalies(s: &State) -> Vec<String> {
    s.tables[T_ANOMALIES]
        .values()
        .unwrap()
        .iter()
        .map(|a| a[2].to_string())
        .collect()
}

fn ev(kind: u8, pid: i64) -> Event {
    Event::new(1000, kind, Some(pid))
}

#[test]
fn a_kill_makes_a_victim_and_completes_its_invocation() {
    let s = run(&[
        ev(kind::TASK, 7).with("comm", "a.out").with("tgid", 7),
        ev(kind::OOM_INVOKE, 9)
            .with("gfp", "GFP_KERNEL")
            .with("order", 0),
        ev(kind::OOM_KILL, 7)
            .with("points", 900)
            .with("constraint", "CONSTRAINT_NONE"),
        ev(kind::REAPER_ATTEMPT, 7)
            .with("outcome", "lock_busy")
            .with("n", 1),
        ev(kind::REAPER_DONE, 7).with("outcome", "unable"),
    ]);
    let v = s.tables[T_VICTIMS].get(&Key::Int(7)).unwrap().unwrap();
    assert_eq!(v[f::victim::COMM], Value::str("a.out"));
    assert_eq!(v[f::victim::OUTCOME], Value::str("unable"));
    assert_eq!(
        v[f::victim::ATTEMPTS],
        Value::list(vec![Value::str("lock_busy")])
    );
    let oom = s.tables[T_OOMS].get(&Key::Int(0)).unwrap().unwrap();
    assert_eq!(oom[f::oom::VICTIMS], Value::list(vec![Value::Int(7)]));
    assert_eq!(oom[f::oom::CONSTRAINT], Value::str("CONSTRAINT_NONE"));
    assert!(anomalies(&s).is_empty());
}

#[test]
fn lock_holders_waiters_and_conflicts() {
    let s = run(&[
        ev(kind::LOCK_ACQUIRE, 1)
            .with("lock", "mmap_lock")
            .with("mode", "r"),
        ev(kind::LOCK_CONTENDED, 2)
            .with("lock", "mmap_lock")
            .with("mode", "w"),
        ev(kind::LOCK_ACQUIRE, 3)
            .with("lock", "mmap_lock")
            .with("mode", "w"),
        ev(kind::LOCK_RELEASE, 4).with("lock", "mmap_lock"),
    ]);
    let lk = s.tables[T_LOCKS]
        .get(&Key::Str(Str::from("mmap_lock")))
        .unwrap()
        .unwrap();
    assert_eq!(lk[f::lock::HOLDERS].as_list().unwrap().len(), 2);
    assert_eq!(lk[f::lock::WAITERS].as_list().unwrap().len(), 1);
    assert_eq!(
        anomalies(&s),
        vec![
            "3 took mmap_lock (w) while 1 held it",
            "4 released mmap_lock, which it did not hold"
        ]
    );
    let s = run(&[
        ev(kind::LOCK_ACQUIRE, 1).with("lock", "l"),
        ev(kind::LOCK_RELEASE, 1).with("lock", "l"),
    ]);
    assert_eq!(
        s.tables[T_LOCKS].len(),
        0,
        "a lock nobody holds or waits for is dropped"
    );
}

#[test]
fn mm_flags_follow_the_tgid() {
    let mut memdie = ev(kind::FLAG_SET, 8).with("flag", "MMF_OOM_SKIP");
    memdie.set_inferred([Str::from("flag")]);
    let s = run(&[
        ev(kind::TASK, 8).with("tgid", 5),
        memdie,
        ev(kind::FLAG_CLEAR, 8).with("flag", "TIF_MEMDIE"),
    ]);
    let mm = s.tables[T_MMS].get(&Key::Int(5)).unwrap().unwrap();
    assert_eq!(
        mm[f::mm::FLAGS],
        Value::list(vec![Value::str("MMF_OOM_SKIP")])
    );
    assert_eq!(
        mm[f::mm::INFERRED_FLAGS],
        Value::list(vec![Value::str("MMF_OOM_SKIP")])
    );
    assert_eq!(
        anomalies(&s),
        vec!["TIF_MEMDIE cleared on 8, where it was not set"]
    );
}

#[test]
fn the_kernel_stops_after_ten_attempts() {
    let events: Vec<Event> = (1..=11)
        .map(|n| {
            ev(kind::REAPER_ATTEMPT, 3)
                .with("outcome", "lock_busy")
                .with("n", n)
        })
        .collect();
    let s = run(&events);
    assert_eq!(
        anomalies(&s),
        vec!["reaper attempt 11 on 3: the kernel stops at 10"]
    );
}

#[test]
fn odd_events_are_anomalies() {
    let s = run(&[
        Event::new(1, kind::OOM_KILL, None),
        ev(kind::FORK, 1),
        ev(kind::LOCK_ACQUIRE, 1)
            .with("lock", "x")
            .with("mode", "z"),
        ev(kind::ALLOC, 1).with("outcome", "maybe"),
        ev(kind::OOM_END, 1).with("outcome", "no_killable"),
        ev(kind::ZONE, 0).with("zone", "DMA").with("free_kb", -4),
        ev(kind::REAPER_DONE, 2).with("outcome", 5),
    ]);
    assert_eq!(
        anomalies(&s),
        vec![
            "kill names no victim",
            "fork by 1 names no child",
            "lock x: unknown mode 'z'",
            "allocation by 1: unknown outcome 'maybe'",
            "OOM ended (no_killable) with no invocation seen before it",
            "zone 0:DMA free memory below zero (-4 kB)",
            "reaper done with 2: unknown outcome 5",
        ]
    );
}

#[test]
fn any_field_values_never_panic() {
    // every kind with every field set to each odd value
    let odd = [
        Value::Nil,
        Value::Int(-1),
        Value::str(""),
        Value::list(vec![]),
        Value::Float(f64::NAN),
        Value::UInt(u64::MAX),
    ];
    for (k, (_, fields)) in KINDS.iter().enumerate() {
        for v in &odd {
            let mut e = Event::new(5, k as u8, Some(1));
            for i in 0..fields.len() {
                e.values[i] = v.clone();
            }
            let mut s = State::new();
            apply(&mut s, &Ev::of(&e)).unwrap();
            e.pid = None;
            apply(&mut s, &Ev::of(&e)).unwrap();
        }
    }
    let s = run(&[ev(kind::TASK_EXIT, 4)]);
    let t = s.tables[T_TASKS].get(&Key::Int(4)).unwrap().unwrap();
    assert_eq!(t[f::task::STATE], Value::str("X"));
}
