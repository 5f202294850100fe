//! The explorer on small programs whose interleavings and outcomes are counted by hand, each searched also by
//! the plain search (every move made by the model on a whole node), which must count the same.

use std::collections::{BTreeMap, HashSet, VecDeque};

use oomreplay_core::explore::moves::perform;
use oomreplay_core::explore::node::Node;
use oomreplay_core::explore::outcome::outcome_of;
use oomreplay_core::explore::program::{
    Actor, Candidate, Ending, FlagOp, LockRef, Op, Program, ReaperRules, Rules, Step,
};
use oomreplay_core::explore::{explore, Report, Who};
use oomreplay_core::model::table::Key;
use oomreplay_core::model::value::{Str, Value};
use oomreplay_core::model::Event;

fn ev(kind: &str, pid: Option<i64>, fields: &[(&str, Value)]) -> Event {
    let mut e = Event::named(0, kind, pid).unwrap();
    for (k, v) in fields {
        e.set(k, v.clone());
    }
    e
}

fn task(pid: i64) -> Event {
    ev(
        "task",
        Some(pid),
        &[("tgid", Value::Int(pid)), ("comm", Value::str("t"))],
    )
}

fn zone(free: i64) -> Event {
    ev(
        "zone",
        None,
        &[
            ("node", Value::Int(0)),
            ("zone", Value::str("Normal")),
            ("free_kb", Value::Int(free)),
            ("min_kb", Value::Int(1000)),
            ("low_kb", Value::Int(2000)),
            ("high_kb", Value::Int(3000)),
        ],
    )
}

fn step(op: Op) -> Step {
    Step { op, guard: vec![] }
}

fn state(pid: i64, s: &str) -> Step {
    step(Op::Emit(vec![ev(
        "task_state",
        Some(pid),
        &[("state", Value::str(s))],
    )]))
}

fn lock(name: &str, mm: Option<i64>) -> LockRef {
    LockRef {
        name: Str::from(name),
        mm,
    }
}

fn take(pid: i64, l: &str, mm: Option<i64>) -> Step {
    step(Op::Take {
        pid,
        lock: lock(l, mm),
        write: true,
        site: Value::Nil,
    })
}

fn release(pid: i64, l: &str, mm: Option<i64>) -> Step {
    step(Op::Release {
        pid,
        lock: lock(l, mm),
    })
}

fn actor(pid: i64, steps: Vec<Step>) -> Actor {
    Actor {
        name: format!("t{pid}"),
        pid: Some(pid),
        steps,
    }
}

fn zone_key() -> Key {
    Key::Zone(0, Str::from("Normal"))
}

fn rules(reaper: bool) -> Rules {
    let skip = FlagOp {
        flag: Str::from("MMF_OOM_SKIP"),
        on: true,
        mm: true,
    };
    Rules {
        reaper: reaper.then(|| ReaperRules {
            oom_lock: None,
            queued_flag: None,
            timer: false,
            on_reaped: vec![skip.clone()],
            on_unable: vec![skip.clone()],
            zone: Some(zone_key()),
        }),
        ending: Ending::OomSkip,
        skip_flag: Some(Str::from("MMF_OOM_SKIP")),
        on_kill: vec![FlagOp {
            flag: Str::from("TIF_MEMDIE"),
            on: true,
            mm: false,
        }],
        no_killable: (Str::from("panic"), Str::from("deadlocked")),
        victim_reserve: oomreplay_core::explore::program::Reserve::Frac(1, 2),
        mm_locks: vec![Str::from("mmap_lock")],
    }
}

fn program(init: Vec<Event>, actors: Vec<Actor>, reaper: bool) -> Program {
    Program {
        init,
        actors,
        candidates: vec![],
        rss_kb: vec![],
        zones: vec![zone_key()],
        rules: rules(reaper),
    }
}

/// The search without the packed states and the memo of moves: breadth first over whole nodes, each move made
/// by `perform`, each node fingerprinted whole. Its distinct states, moves, and final states per outcome.
fn plain_search(p: &Program) -> (u64, u64, Vec<(String, u64)>) {
    let root = Node::start(&p.init, p.actors.len()).unwrap();
    let mut seen = HashSet::from([root.fingerprint().unwrap()]);
    let mut queue = VecDeque::from([root]);
    let (mut moves, mut ends) = (0, BTreeMap::new());
    while let Some(n) = queue.pop_front() {
        let mut any = false;
        for who in (0..p.actors.len()).map(Who::Actor).chain([Who::Reaper]) {
            let Some(m) = perform(p, &n, who, false).unwrap() else {
                continue;
            };
            (any, moves) = (true, moves + 1);
            if seen.insert(m.node.fingerprint().unwrap()) {
                queue.push_back(m.node);
            }
        }
        if !any {
            let outcome = format!("{:?}", outcome_of(p, &n).unwrap().0);
            *ends.entry(outcome).or_insert(0) += 1;
        }
    }
    (seen.len() as u64, moves, ends.into_iter().collect())
}

fn terminals(r: &Report) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = r
        .classes
        .iter()
        .map(|c| (format!("{:?}", c.outcome), c.terminals))
        .collect();
    out.sort();
    out
}

/// The naive and the reduced search; the naive one counts what the plain search counts, and the reduction
/// reaches the same final states (a persistent-set search keeps every terminal state).
fn both(p: &Program) -> (Report, Report) {
    let naive = explore(p, 1_000_000, false).unwrap();
    let reduced = explore(p, 1_000_000, true).unwrap();
    let plain = plain_search(p);
    assert_eq!((naive.states, naive.transitions, terminals(&naive)), plain);
    assert_eq!(terminals(&reduced), plain.2);
    (naive, reduced)
}

fn classes(r: &Report) -> Vec<String> {
    let mut out: Vec<String> = r
        .classes
        .iter()
        .map(|c| format!("{:?}", c.outcome))
        .collect();
    out.sort();
    out
}

/// Two tasks, each changing only its own state twice: nothing one does touches the other.
fn two_independent_actors() -> Program {
    program(
        vec![task(1), task(2)],
        vec![
            actor(1, vec![state(1, "R"), state(1, "D")]),
            actor(2, vec![state(2, "R"), state(2, "S")]),
        ],
        false,
    )
}

#[test]
fn two_actors_of_two_independent_steps_interleave_six_ways() {
    let p = two_independent_actors();
    let (naive, reduced) = both(&p);
    assert_eq!(naive.paths, 6); // C(4, 2)
    assert_eq!(naive.states, 9); // a grid of 3 × 3 positions
    assert_eq!(naive.classes.len(), 1);
    assert!(naive.exhaustive);
    assert_eq!(reduced.paths, 1); // nothing to interleave: one order stands for all
    assert_eq!(reduced.states, 5);
    assert_eq!(classes(&naive), classes(&reduced));
    assert_eq!(naive.classes[0].witness.len(), 4);
}

#[test]
fn a_lock_between_them_leaves_fewer_interleavings() {
    // each takes and releases L: while one holds it the other can only queue (a move of its own) and wait
    let p = program(
        vec![task(1), task(2)],
        vec![
            actor(1, vec![take(1, "L", None), release(1, "L", None)]),
            actor(2, vec![take(2, "L", None), release(2, "L", None)]),
        ],
        false,
    );
    let (naive, reduced) = both(&p);
    // A takes; then A releases before B comes (A B), or B queues first (A, B waits, A releases, B takes): 2 × 2
    assert_eq!(naive.paths, 4);
    assert!(naive.paths < 6);
    assert_eq!(classes(&naive), classes(&reduced));
    assert!(reduced.states <= naive.states);
    let c = &naive.classes[0];
    assert!(c.outcome.blocked.is_empty() && !c.outcome.anomaly);
}

#[test]
fn a_kill_before_or_after_memory_comes_back_makes_two_classes() {
    let mut p = program(
        vec![task(1), task(2), task(3), zone(500)],
        vec![
            actor(1, vec![step(Op::Emit(vec![zone(900_000)])), state(1, "R")]),
            actor(
                2,
                vec![
                    state(2, "D"),
                    step(Op::Kill {
                        victim: Some(3),
                        points: Value::Int(5),
                        retry: None,
                    }),
                ],
            ),
        ],
        false,
    );
    p.candidates = vec![Candidate { pid: 3, points: 5 }];
    let (naive, reduced) = both(&p);
    assert_eq!(naive.paths, 6);
    let needless: Vec<bool> = naive.classes.iter().map(|c| c.outcome.needless).collect();
    assert_eq!(needless.len(), 2);
    assert!(needless.contains(&true) && needless.contains(&false));
    assert_eq!(classes(&naive), classes(&reduced));
    assert!(reduced.states < naive.states);
    for c in &naive.classes {
        assert_eq!(c.outcome.kills, 1);
    }
}

#[test]
fn opposite_lock_orders_can_deadlock() {
    let p = program(
        vec![task(1), task(2)],
        vec![
            actor(
                1,
                vec![
                    take(1, "A", None),
                    take(1, "B", None),
                    release(1, "B", None),
                    release(1, "A", None),
                ],
            ),
            actor(
                2,
                vec![
                    take(2, "B", None),
                    take(2, "A", None),
                    release(2, "A", None),
                    release(2, "B", None),
                ],
            ),
        ],
        false,
    );
    let (naive, reduced) = both(&p);
    assert_eq!(classes(&naive), classes(&reduced));
    let blocked: Vec<&Vec<usize>> = naive.classes.iter().map(|c| &c.outcome.blocked).collect();
    assert!(blocked.contains(&&vec![0, 1]), "{blocked:?}");
    assert!(blocked.contains(&&vec![]));
    let deadlock = naive
        .classes
        .iter()
        .find(|c| !c.outcome.blocked.is_empty())
        .unwrap();
    assert_eq!(deadlock.witness.len(), 4); // both take their first lock, both queue on the other
}

#[test]
fn the_reaper_reaps_or_gives_up_depending_on_the_lock_holder() {
    // 1 holds the victim's mmap_lock for a while; 2 kills the victim 3 (mm 3)
    let mut p = program(
        vec![task(1), task(2), task(3), zone(500)],
        vec![
            actor(
                1,
                vec![
                    take(1, "mmap_lock", Some(3)),
                    release(1, "mmap_lock", Some(3)),
                ],
            ),
            actor(
                2,
                vec![step(Op::Kill {
                    victim: None,
                    points: Value::Nil,
                    retry: None,
                })],
            ),
        ],
        true,
    );
    p.candidates = vec![Candidate { pid: 3, points: 7 }];
    p.rss_kb = vec![(3, 100_000)];
    let (naive, reduced) = both(&p);
    assert_eq!(classes(&naive), classes(&reduced));
    let ends: Vec<&str> = naive
        .classes
        .iter()
        .map(|c| c.outcome.victims[0].1)
        .collect();
    assert!(
        ends.contains(&"reaped") && ends.contains(&"unable"),
        "{ends:?}"
    );
    let unable = naive
        .classes
        .iter()
        .find(|c| c.outcome.victims[0].1 == "unable")
        .unwrap();
    let tries = unable.witness.iter().filter(|w| w.what == "try").count();
    assert_eq!(tries, 10);
    assert!(reduced.states < naive.states);
}

#[test]
fn the_bound_makes_the_search_say_it_is_not_exhaustive() {
    let p = two_independent_actors();
    let r = explore(&p, 4, false).unwrap();
    assert!(!r.exhaustive);
    assert_eq!(r.states, 4);
}
