//! `ftrace_events FILE [--file-id N]`: the events the ftrace converter makes of FILE, one JSON object a line in
//! the shape of Python's `Event.to_dict()`, then `{"report": {...}}`. `tests/compare_ftrace.py` runs it beside the
//! Python converter and compares the two, event by event.
//!
//! The file is split into lines as Python's `oomreplay/ingest/sources.py` splits it: on `\n`, one `\r` before the
//! newline dropped, invalid UTF-8 replaced, a line of `MAX_LINE` bytes or more cut into pieces of that size, the
//! last line (without a newline) and the pieces kept as they are.

use oomreplay_core::ftrace::{FtraceConverter, PlainConsole};
use oomreplay_core::model::schema::kind_name;
use oomreplay_core::model::{Event, Value};
use std::io::{BufWriter, Write};

/// `sources.MAX_LINE`.
const MAX_LINE: usize = 16 << 20;
/// `kernel_log.SNIFF_LINES`: how much of the head `convert` sniffs.
const SNIFF_LINES: usize = 2000;

/// A stretch of the file: whole lines (each ending with `\n`) for `feed_block`, or one line to feed as it is.
enum Segment<'a> {
    Lines(&'a [u8]),
    Line(&'a [u8]),
}

fn segments(data: &[u8]) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let (mut pos, mut block) = (0, 0);
    while pos < data.len() {
        let newline = memchr::memchr(b'\n', &data[pos..]);
        let long = newline.map_or(data.len() - pos >= MAX_LINE, |n| n >= MAX_LINE);
        if long || newline.is_none() {
            if block < pos {
                out.push(Segment::Lines(&data[block..pos]));
            }
            let end = if long { pos + MAX_LINE } else { data.len() };
            out.push(Segment::Line(&data[pos..end]));
            pos = end;
            block = pos;
        } else {
            pos += newline.unwrap_or(0) + 1;
        }
    }
    if block < pos {
        out.push(Segment::Lines(&data[block..pos]));
    }
    out
}

/// The first `SNIFF_LINES` lines, decoded as the reader decodes them.
fn head(segments: &[Segment<'_>]) -> Vec<String> {
    let mut out = Vec::new();
    for seg in segments {
        match seg {
            Segment::Line(b) => out.push(String::from_utf8_lossy(b).into_owned()),
            Segment::Lines(b) => {
                for line in b[..b.len() - 1].split(|&c| c == b'\n') {
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    out.push(String::from_utf8_lossy(line).into_owned());
                    if out.len() >= SNIFF_LINES {
                        break;
                    }
                }
            }
        }
        if out.len() >= SNIFF_LINES {
            break;
        }
    }
    out.truncate(SNIFF_LINES);
    out
}

fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_value(out: &mut String, v: &Value) {
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::UInt(u) => out.push_str(&u.to_string()),
        Value::Float(f) => out.push_str(&f.to_string()),
        Value::Str(s) => json_str(out, s),
        Value::List(items) => json_list(out, items.iter(), json_value),
        other => json_str(out, &other.to_string()),
    }
}

fn json_list<T>(out: &mut String, items: impl Iterator<Item = T>, mut each: impl FnMut(&mut String, T)) {
    out.push('[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        each(out, item);
    }
    out.push(']');
}

fn event_json(out: &mut String, ev: &Event) {
    out.push_str(&format!("{{\"seq\": null, \"ts_ns\": {}, \"kind\": \"{}\", \"pid\": ", ev.ts_ns, kind_name(ev.kind)));
    out.push_str(&ev.pid.map_or("null".into(), |p| p.to_string()));
    out.push_str(", \"fields\": {");
    for (i, (name, v)) in ev.fields().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        json_str(out, name);
        out.push_str(": ");
        json_value(out, v);
    }
    out.push('}');
    if !ev.inferred.is_empty() {
        out.push_str(", \"inferred\": ");
        json_list(out, ev.inferred.iter(), |o, s| json_str(o, s));
    }
    if let Some((file, line)) = ev.src {
        out.push_str(&format!(", \"src\": {{\"file\": {file}, \"line\": {line}}}"));
    }
    out.push('}');
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut path, mut file_id) = (None, 0i64);
    while let Some(a) = args.next() {
        if a == "--file-id" {
            file_id = args.next().and_then(|n| n.parse().ok()).expect("--file-id takes a number");
        } else {
            path = Some(a);
        }
    }
    let path = path.expect("usage: ftrace_events FILE [--file-id N]");
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let segs = segments(&data);
    let head = head(&segs);
    let sniffed = FtraceConverter::<PlainConsole>::sniff(&head.iter().map(String::as_str).collect::<Vec<_>>());
    let mut conv = FtraceConverter::new(file_id, PlainConsole { file_id });
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
        s.push_str(&format!("{}\"{name}\": {count}", if i > 0 { ", " } else { "" }));
    }
    s.push_str("}, \"clock\": ");
    json_str(&mut s, r.clock);
    s.push_str(", \"kernel\": ");
    json_value(&mut s, &r.kernel.as_deref().map_or(Value::Nil, Value::str));
    s.push_str(", \"warnings\": ");
    json_list(&mut s, r.warnings.iter(), |o, w| json_str(o, w));
    for (name, list) in [("rejects", &r.rejects), ("lost_markers", &r.lost_markers), ("late", &r.late),
                         ("overflow", &r.overflow)] {
        s.push_str(&format!(", \"{name}\": "));
        json_list(&mut s, list.iter(), |o, n| o.push_str(&n.to_string()));
    }
    s.push_str(&format!(", \"lost_events\": {}, \"reordered\": {}, \"sniff\": {sniffed}, \"lines\": {}}}}}",
                        r.lost_events, r.reordered, n - 1));
    writeln!(w, "{s}").expect("stdout");
}
