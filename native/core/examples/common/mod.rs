//! What the `*_events` examples share: the file split into lines as Python's `oomreplay/ingest/sources.py`
//! splits it, and events written as JSON in the shape of Python's `Event.to_dict()`.
#![allow(dead_code)]

use oomreplay_core::model::schema::kind_name;
use oomreplay_core::model::{Event, Value};

/// `sources.MAX_LINE`.
pub const MAX_LINE: usize = 16 << 20;
/// `kernel_log.SNIFF_LINES`: how much of the head `convert` sniffs.
pub const SNIFF_LINES: usize = 2000;

/// A stretch of the file: whole lines (each ending with `\n`) for `feed_block`, or one line to feed as it is.
pub enum Segment<'a> {
    Lines(&'a [u8]),
    Line(&'a [u8]),
}

pub fn segments(data: &[u8]) -> Vec<Segment<'_>> {
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
pub fn head(segments: &[Segment<'_>]) -> Vec<String> {
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

pub fn json_str(out: &mut String, s: &str) {
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

pub fn json_value(out: &mut String, v: &Value) {
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

pub fn json_list<T>(
    out: &mut String,
    items: impl Iterator<Item = T>,
    mut each: impl FnMut(&mut String, T),
) {
    out.push('[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        each(out, item);
    }
    out.push(']');
}

pub fn event_json(out: &mut String, ev: &Event) {
    out.push_str(&format!(
        "{{\"seq\": null, \"ts_ns\": {}, \"kind\": \"{}\", \"pid\": ",
        ev.ts_ns,
        kind_name(ev.kind)
    ));
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
        out.push_str(&format!(
            ", \"src\": {{\"file\": {file}, \"line\": {line}}}"
        ));
    }
    out.push('}');
}

/// `sources.CHUNK`: bytes read at a time.
pub const CHUNK: usize = 1 << 20;

/// The blocks `sources._blocks` hands on, read `CHUNK` bytes at a time: the whole lines of what was read so far
/// (a `Lines` block, each line ending with a newline), a piece of `MAX_LINE` bytes of a longer line, the last line
/// without a newline (each a `Line`).
pub fn py_blocks(data: &[u8]) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let (mut start, mut read) = (0usize, 0usize); // `data[start..read]` is `rest + chunk`
    while read < data.len() {
        read = (read + CHUNK).min(data.len());
        loop {
            let newline = memchr::memchr(b'\n', &data[start..read]);
            let cut = match newline {
                Some(n) => n >= MAX_LINE,
                None => read - start >= MAX_LINE,
            };
            if !cut {
                break;
            }
            out.push(Segment::Line(&data[start..start + MAX_LINE]));
            start += MAX_LINE;
        }
        if let Some(last) = memchr::memrchr(b'\n', &data[start..read]) {
            out.push(Segment::Lines(&data[start..start + last + 1]));
            start += last + 1;
        }
    }
    if start < data.len() {
        out.push(Segment::Line(&data[start..]));
    }
    out
}

/// The blocks of whole lines, about 1 MiB each (what `sources.py` reads at a time), for the benchmarks.
pub fn line_blocks(data: &[u8]) -> Vec<&[u8]> {
    const BLOCK: usize = 1 << 20;
    let mut out = Vec::new();
    let mut start = 0;
    while start < data.len() {
        let end = (start + BLOCK).min(data.len());
        let end = memchr::memrchr(b'\n', &data[start..end]).map_or(data.len(), |n| start + n + 1);
        out.push(&data[start..end]);
        start = end;
    }
    out
}
