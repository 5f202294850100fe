//! Times writing the events of a trace again: `write_bench TRACE OUT [parallel]`.
use std::time::Instant;

use oomreplay_core::model::value::Value;
use oomreplay_core::store::reader::Trace;
use oomreplay_core::store::writer::TraceWriter;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let t = Trace::open(&args[1]).expect("open");
    let mut events = t.events(0, t.len()).expect("events");
    for e in &mut events {
        e.seq = None;
    }
    let parallel = args.get(3).is_some_and(|a| a == "parallel");
    let (t0, c0) = (Instant::now(), cpu_seconds());
    let mut w = TraceWriter::create(&args[2], &Value::Nil, parallel).expect("create");
    let n = events.len();
    for e in events {
        w.append(e).expect("append");
    }
    w.close(&Value::Nil).expect("close");
    let (dt, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - c0);
    println!(
        "{n} events in {dt:.2} s: {:.0} events/s (parallel {parallel}); {cpu:.2} s of CPU, {:.0} events per CPU second",
        n as f64 / dt,
        n as f64 / cpu
    );
}

/// The process's user and system time so far: on a shared machine the wall clock also counts the others' work.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // the fields after the command's closing parenthesis; utime and stime are the 12th and 13th of them
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    (f.get(11).unwrap_or(&0.0) + f.get(12).unwrap_or(&0.0)) / 100.0
}
