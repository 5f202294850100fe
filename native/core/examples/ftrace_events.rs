//! `ftrace_events FILE [--file-id N]`: the events the ftrace converter makes of FILE, one JSON object a line in
//! the shape of Python's `Event.to_dict()`, then `{"report": {...}}`. `tests/compare_ftrace.py` runs it beside the
//! Python converter and compares the two, event by event.
//!
//! The file is split into lines as Python's `oomreplay/ingest/sources.py` splits it: on `\n`, one `\r` before the
//! newline dropped, invalid UTF-8 replaced, a line of `MAX_LINE` bytes or more cut into pieces of that size, the
//! last line (without a newline) and the pieces kept as they are.

use oomreplay_core::ftrace::FtraceConverter;
use oomreplay_core::klog::LogConverter;
use oomreplay_core::model::Value;
use std::io::{BufWriter, Write};

#[path = "common/mod.rs"]
mod common;
use common::{event_json, head, json_list, json_str, json_value, segments, Segment};

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut path, mut file_id) = (None, 0i64);
    while let Some(a) = args.next() {
        if a == "--file-id" {
            file_id = args
                .next()
                .and_then(|n| n.parse().ok())
                .expect("--file-id takes a number");
        } else {
            path = Some(a);
        }
    }
    let path = path.expect("usage: ftrace_events FILE [--file-id N]");
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let segs = segments(&data);
    let head = head(&segs);
    let sniffed = FtraceConverter::<LogConverter>::sniff(
        &head.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let mut conv = FtraceConverter::with_log_parser(file_id);
    let mut events = Vec::new();
    let mut n = 1i64;
    for seg in &segs {
        match seg {
            Segment::Lines(b) => n += conv.feed_block(n, b, &mut events),
            Segment::Line(b) => {
                conv.feed(n, &String::from_utf8_lossy(b), &mut events);
                n += 1;
            }
        }
    }
    conv.finish(&mut events);
    let stdout = std::io::stdout();
    let mut w = BufWriter::new(stdout.lock());
    let mut line = String::new();
    for ev in &events {
        line.clear();
        event_json(&mut line, ev);
        writeln!(w, "{line}").expect("stdout");
    }
    let r = conv.report();
    let mut s = String::from("{\"report\": {\"counts\": {");
    for (i, (name, count)) in r.counts_by_name().enumerate() {
        s.push_str(&format!(
            "{}\"{name}\": {count}",
            if i > 0 { ", " } else { "" }
        ));
    }
    s.push_str("}, \"clock\": ");
    json_str(&mut s, r.clock);
    s.push_str(", \"kernel\": ");
    json_value(&mut s, &r.kernel.as_deref().map_or(Value::Nil, Value::str));
    s.push_str(", \"warnings\": ");
    json_list(&mut s, r.warnings.iter(), |o, w| json_str(o, w));
    for (name, list) in [
        ("rejects", &r.rejects),
        ("lost_markers", &r.lost_markers),
        ("late", &r.late),
        ("overflow", &r.overflow),
    ] {
        s.push_str(&format!(", \"{name}\": "));
        json_list(&mut s, list.iter(), |o, n| o.push_str(&n.to_string()));
    }
    s.push_str(&format!(
        ", \"lost_events\": {}, \"reordered\": {}, \"sniff\": {sniffed}, \"lines\": {}}}}}",
        r.lost_events,
        r.reordered,
        n - 1
    ));
    writeln!(w, "{s}").expect("stdout");
}
