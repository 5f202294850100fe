//! The store end to end: what the writer writes, the reader reads back, at every seq the same state as a fold of
//! `apply` from the start; damaged files fail with an error naming the place, never a panic or a wrong state.

mod synth;

use std::path::PathBuf;

use oomreplay_core::model::value::Value;
use oomreplay_core::model::{apply, Ev, State};
use oomreplay_core::store::reader::Trace;
use oomreplay_core::store::repair::{repair, verify};
use oomreplay_core::store::writer::TraceWriter;
use oomreplay_core::Error;

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("oomreplay-core-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn write(path: &PathBuf, events: &[oomreplay_core::model::Event], parallel: bool) {
    let mut w = TraceWriter::create(path, &Value::Nil, parallel).unwrap();
    let src = w.add_source("log").unwrap();
    w.add_source_lines(src, (1..=events.len()).map(|i| format!("line {i}").into()))
        .unwrap();
    for e in events {
        w.append(e.clone()).unwrap();
    }
    w.close(&Value::Nil).unwrap();
}

fn fold(events: &[oomreplay_core::model::Event], upto: usize) -> State {
    let mut s = State::new();
    for (i, e) in events.iter().enumerate().take(upto + 1) {
        let mut e = e.clone();
        e.seq = Some(i as i64);
        apply(&mut s, &Ev::of(&e)).unwrap();
    }
    s
}

#[test]
fn state_at_is_the_fold_of_apply_at_every_seq() {
    let events = synth::incident(3000, 300, 7);
    let path = tmp("fold.oomtrace");
    write(&path, &events, false);
    let t = Trace::open(&path).unwrap();
    assert_eq!(t.len(), 3000);
    let mut s = State::new();
    for (i, e) in events.iter().enumerate() {
        let mut e = e.clone();
        e.seq = Some(i as i64);
        apply(&mut s, &Ev::of(&e)).unwrap();
        if i % 7 == 0 || i > 2990 {
            assert!(t.state_at(i as i64).unwrap().same(&s).unwrap(), "seq {i}");
        }
    }
    // backwards and at random, as a user scrubbing does
    for seq in [2999, 10, 1500, 1499, 0, 511, 512, 2048] {
        assert!(
            t.state_at(seq)
                .unwrap()
                .same(&fold(&events, seq as usize))
                .unwrap(),
            "seq {seq}"
        );
    }
    assert!(t.state_at(-1).unwrap().same(&State::new()).unwrap());
}

#[test]
fn the_tracker_thread_writes_the_same_bytes() {
    let events = synth::incident(5000, 500, 3);
    let (a, b) = (tmp("local.oomtrace"), tmp("thread.oomtrace"));
    write(&a, &events, false);
    write(&b, &events, true);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

#[test]
fn events_next_prev_and_sources_read_back() {
    let events = synth::incident(2000, 50, 11);
    let path = tmp("events.oomtrace");
    write(&path, &events, false);
    let t = Trace::open(&path).unwrap();
    let back = t.events(0, 2000).unwrap();
    for (i, (a, b)) in events.iter().zip(back.iter()).enumerate() {
        let mut b = b.clone();
        assert_eq!(b.seq, Some(i as i64));
        b.seq = None;
        assert_eq!(a, &b);
    }
    let kills: Vec<i64> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.kind == 17)
        .map(|(i, _)| i as i64)
        .collect();
    use oomreplay_core::store::changelists::ListKey;
    let key = vec![vec![ListKey::Kind("oom_kill".into())]];
    assert_eq!(t.find(-1, &key, true).unwrap(), kills.first().copied());
    assert_eq!(t.find(2000, &key, false).unwrap(), kills.last().copied());
    assert_eq!(t.find(kills[0], &key, true).unwrap(), kills.get(1).copied());
    assert_eq!(
        t.source_lines(1, 3, 0).unwrap(),
        vec!["line 1", "line 2", "line 3"]
    );
    assert_eq!(
        t.source_lines(1999, 5000, 0).unwrap(),
        vec!["line 1999", "line 2000"]
    );
    let ts = events[1000].ts_ns;
    let at = t.seq_at(ts).unwrap().unwrap();
    assert!(
        events[at as usize].ts_ns <= ts
            && (at as usize + 1 == events.len() || events[at as usize + 1].ts_ns > ts)
    );
}

#[test]
fn times_going_back_are_refused() {
    let path = tmp("back.oomtrace");
    let mut w = TraceWriter::create(&path, &Value::Nil, false).unwrap();
    let e = synth::incident(2, 2, 1);
    w.append(e[1].clone()).unwrap();
    let mut early = e[0].clone();
    early.ts_ns = e[1].ts_ns - 1;
    assert!(matches!(w.append(early), Err(Error::Value(_))));
    drop(w); // aborts: no file under the final name, no partial left
    assert!(!path.exists());
    let dir = path.parent().unwrap();
    assert!(!std::fs::read_dir(dir).unwrap().any(|f| f
        .unwrap()
        .file_name()
        .to_string_lossy()
        .contains("back.oomtrace")));
}

/// Offsets of every block in the file, from a walk of the frames.
fn block_offsets(data: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = 16;
    while at + 9 <= data.len() - 24 {
        out.push(at);
        at += 9 + u32::from_le_bytes(data[at + 1..at + 5].try_into().unwrap()) as usize;
    }
    out
}

#[test]
fn a_file_cut_at_any_block_boundary_is_truncated_and_repairs() {
    let events = synth::incident(3000, 100, 5);
    let path = tmp("cut.oomtrace");
    write(&path, &events, false);
    let data = std::fs::read(&path).unwrap();
    let cut = tmp("cut-part.oomtrace");
    let fixed = tmp("cut-fixed.oomtrace");
    for at in block_offsets(&data) {
        std::fs::write(&cut, &data[..at]).unwrap();
        assert!(
            matches!(Trace::open(&cut), Err(Error::Truncated(_))),
            "cut at {at}"
        );
        let scan = repair(&cut, &fixed).unwrap();
        let t = Trace::open(&fixed).unwrap();
        assert_eq!(t.len(), scan.events);
        let n = t.len() as usize;
        if n > 0 {
            assert!(
                t.state_at(n as i64 - 1)
                    .unwrap()
                    .same(&fold(&events, n - 1))
                    .unwrap(),
                "cut at {at}"
            );
        }
    }
}

#[test]
fn flipped_bytes_are_errors_never_panics() {
    let events = synth::incident(1500, 60, 9);
    let path = tmp("flip.oomtrace");
    write(&path, &events, false);
    let data = std::fs::read(&path).unwrap();
    let bad = tmp("flip-bad.oomtrace");
    let mut r = synth::Rng::new(1);
    for _ in 0..300 {
        let mut d = data.clone();
        let at = r.below(d.len() as u64) as usize;
        d[at] ^= 1 << r.below(8);
        std::fs::write(&bad, &d).unwrap();
        let scan = verify(&bad);
        if let Ok(t) = Trace::open(&bad) {
            // a damaged block is an error when read, never a wrong state: either it reads as before or fails
            for seq in [0i64, 700, 1499] {
                if let Ok(s) = t.state_at(seq) {
                    assert!(
                        s.same(&fold(&events, seq as usize)).unwrap_or(true)
                            || scan.as_ref().is_ok_and(|s| !s.problems.is_empty())
                    );
                }
            }
        }
        assert!(
            scan.is_err() || !scan.unwrap().problems.is_empty(),
            "a flipped bit at {at} went unnoticed"
        );
    }
}

#[test]
fn verify_finds_swapped_event_blocks() {
    let events = synth::incident(3000, 100, 5);
    let path = tmp("swap.oomtrace");
    write(&path, &events, false);
    assert!(verify(&path).unwrap().problems.is_empty());
    let data = std::fs::read(&path).unwrap();
    let offsets = block_offsets(&data);
    let len = |o: usize| 9 + u32::from_le_bytes(data[o + 1..o + 5].try_into().unwrap()) as usize;
    // an events block and the events block after it, swapped in place with what lies between them kept
    let evs: Vec<usize> = offsets.iter().copied().filter(|o| data[*o] == 2).collect();
    let (a, b) = (evs[3], evs[4]);
    let mut d = data[..a].to_vec();
    d.extend_from_slice(&data[b..b + len(b)]);
    d.extend_from_slice(&data[a + len(a)..b]);
    d.extend_from_slice(&data[a..a + len(a)]);
    d.extend_from_slice(&data[b + len(b)..]);
    let swapped = tmp("swapped.oomtrace");
    std::fs::write(&swapped, &d).unwrap();
    let scan = verify(&swapped).unwrap();
    assert!(
        scan.problems
            .iter()
            .any(|p| p.offset == a as i64 && p.message.contains("starting at seq")),
        "{:?}",
        scan.problems
    );
    let fixed = tmp("swap-fixed.oomtrace");
    let scan = repair(&swapped, &fixed).unwrap();
    assert!(scan.fixed.iter().any(|f| f.contains("order")));
    let t = Trace::open(&fixed).unwrap();
    assert!(t
        .state_at(2999)
        .unwrap()
        .same(&fold(&events, 2999))
        .unwrap());
}

/// The states a reader keeps (cached keyframes, the last state read) must not keep the reader: a trace dropped
/// after seeks is freed, while a state handed out still loads its pages. (A cycle here leaked each trace's
/// caches: a fuzzing campaign opening 10^5 traces ran the machine out of memory.)
#[test]
fn a_dropped_trace_is_freed_and_its_states_still_read() {
    let path = tmp("freed");
    let events = synth::incident(3000, 40, 5);
    write(&path, &events, false);
    let t = Trace::open(&path).unwrap();
    let n = t.len();
    let states: Vec<State> = [10, n / 3, n / 2, n / 3, n - 1]
        .iter()
        .map(|&s| t.state_at(s).unwrap())
        .collect();
    let inner = std::sync::Arc::downgrade(&t.inner);
    drop(t);
    let expected: Vec<State> = [10, n / 3, n / 2, n / 3, n - 1]
        .iter()
        .map(|&s| fold(&events, s as usize))
        .collect();
    for (s, want) in states.iter().zip(&expected) {
        assert_eq!(
            s.tables[0].items().unwrap(),
            want.tables[0].items().unwrap()
        );
    }
    drop(states);
    assert!(
        inner.upgrade().is_none(),
        "the reader outlived its trace and every state it gave"
    );
}
