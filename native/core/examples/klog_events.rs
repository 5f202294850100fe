//! `klog_events FILE [--file-id N] [--format FMT]`: the events the kernel-log converter makes of FILE (plain
//! text: the caller decompresses), one JSON object a line in the shape of Python's `Event.to_dict()`, each run
//! of chatter announced by a `{"run": [first_line, lines]}` line before its events, then `{"report": {...}}`.
//! `tests/compare_klog.py` runs it beside Python's `LogConverter` and compares the two.
//!
//! Driven as Python's `convert` drives a log: `sniff` on the first `SNIFF_LINES` lines, `feed_block` over the
//! blocks `sources.py` would read (1 MiB at a time), then `finish`.

use oomreplay_core::klog::{Format, Item, LogConverter};
use oomreplay_core::model::Value;
use std::io::{BufWriter, Write};

#[path = "common/mod.rs"]
mod common;
use common::{event_json, head, json_list, json_str, json_value, py_blocks, Segment};

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut path, mut file_id, mut fmt) = (None, 0i64, Format::Auto);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--file-id" => {
                file_id = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--file-id takes a number")
            }
            "--format" => {
                fmt = args
                    .next()
                    .as_deref()
                    .and_then(Format::parse)
                    .expect("--format takes a format")
            }
            _ => path = Some(a),
        }
    }
    let path = path.expect("usage: klog_events FILE [--file-id N] [--format FMT]");
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let blocks = py_blocks(&data);
    let mut conv = LogConverter::new(file_id, fmt);
    conv.sniff(&head(&blocks));
    let stdout = std::io::stdout();
    let mut w = BufWriter::new(stdout.lock());
    let mut line = String::new();
    let mut items = Vec::new();
    let mut n = 1i64;
    let mut write_items = |items: &mut Vec<Item>, w: &mut BufWriter<_>| {
        for item in items.drain(..) {
            match item {
                Item::Event(ev) => {
                    line.clear();
                    event_json(&mut line, &ev);
                    writeln!(w, "{line}").expect("stdout");
                }
                Item::Run(run) => {
                    writeln!(w, "{{\"run\": [{}, {}]}}", run.first_line, run.len())
                        .expect("stdout");
                    for ev in run.events() {
                        line.clear();
                        event_json(&mut line, &ev);
                        writeln!(w, "{line}").expect("stdout");
                    }
                }
            }
        }
    };
    for seg in &blocks {
        match seg {
            Segment::Lines(b) => n += conv.feed_block(n, b, &mut items) as i64,
            Segment::Line(b) => {
                conv.feed_lines(n, &[&String::from_utf8_lossy(b)], &mut items);
                n += 1;
            }
        }
        write_items(&mut items, &mut w);
    }
    let mut tail = Vec::new();
    conv.finish(&mut tail);
    items.extend(tail.into_iter().map(Item::Event));
    write_items(&mut items, &mut w);
    let mut s = String::from("{\"report\": {\"counts\": {");
    for (i, (name, count)) in conv.counts().iter().enumerate() {
        s.push_str(&format!(
            "{}\"{name}\": {count}",
            if i > 0 { ", " } else { "" }
        ));
    }
    s.push_str("}, \"clock\": ");
    json_value(
        &mut s,
        &conv.clock.map_or(Value::Nil, |c| Value::str(c.name())),
    );
    s.push_str(", \"kernel\": ");
    json_value(
        &mut s,
        &conv.kernel.as_deref().map_or(Value::Nil, Value::str),
    );
    s.push_str(", \"unparsed\": ");
    json_list(&mut s, conv.unparsed.iter(), |o, (l, t)| {
        o.push_str(&format!("[{l}, "));
        json_str(o, t);
        o.push(']');
    });
    s.push_str(&format!(
        ", \"unparsed_count\": {}, \"lines\": {}, \"overflow\": ",
        conv.unparsed_count,
        n - 1
    ));
    json_list(&mut s, conv.overflow.iter(), |o, l| {
        o.push_str(&l.to_string())
    });
    s.push_str("}}");
    writeln!(w, "{s}").expect("stdout");
}
