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
    let t0 = Instant::now();
    let mut w = TraceWriter::create(&args[2], &Value::Nil, parallel).expect("create");
    let n = events.len();
    for e in events {
        w.append(e).expect("append");
    }
    w.close(&Value::Nil).expect("close");
    let dt = t0.elapsed().as_secs_f64();
    println!(
        "{n} events in {dt:.2} s: {:.0} events/s (parallel {parallel})",
        n as f64 / dt
    );
}
