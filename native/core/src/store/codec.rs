//! Event blocks as columns: time deltas, kind bytes, pids, source refs, inferred names and each kind's values by
//! position. Columns compress far better than rows (time deltas, kind bytes and pids each form their own runs).
//!
//! ```text
//! [first_seq, first_ts, kinds (bin), time deltas, pids, source files, source lines, inferred, values]
//! ```
//! `values` holds one array per event, its kind's fields in schema order (nil where unsaid), followed by a map of
//! the fields the schema lacks when there are any.

use std::sync::Arc;

use super::msgpack::{
    pack, pack_array_len, pack_bin, pack_int, pack_map_len, pack_opt_int, pack_str, Malformed,
    Reader,
};
use crate::error::{Error, Result};
use crate::model::schema::{kind_id, KINDS};
use crate::model::value::{Str, Value};
use crate::model::Event;

/// The kinds and their field order a file was written with: stored in every trace, so that a later version of the
/// vocabulary (a kind or a field added) still reads an older file by name, never by a guessed position.
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    pub names: Vec<Str>,
    pub fields: Vec<Vec<Str>>,
    /// For each of the file's kinds, the current kind id, and where each of its fields goes now (`None`: a field
    /// this version no longer has, which travels among the extras).
    map: Vec<(u8, Vec<Option<usize>>)>,
    current: bool,
}

impl Schema {
    pub fn current() -> Schema {
        let names = KINDS.iter().map(|(k, _)| Str::from(*k)).collect();
        let fields = KINDS
            .iter()
            .map(|(_, f)| f.iter().map(|x| Str::from(*x)).collect())
            .collect();
        Schema::new(names, fields).expect("the current schema maps onto itself")
    }

    pub fn new(names: Vec<Str>, fields: Vec<Vec<Str>>) -> Result<Schema> {
        let mut map: Vec<(u8, Vec<Option<usize>>)> = Vec::with_capacity(names.len());
        for (name, fs) in names.iter().zip(fields.iter()) {
            let id = kind_id(name).ok_or_else(|| {
                Error::Trace(format!(
                    "bad event schema (a kind this version does not know: {name})"
                ))
            })?;
            let now = KINDS[id as usize].1;
            map.push((
                id,
                fs.iter()
                    .map(|f| now.iter().position(|n| **n == **f))
                    .collect(),
            ));
        }
        let current = names.len() == KINDS.len()
            && map.iter().enumerate().all(|(i, (id, pos))| {
                *id as usize == i
                    && pos.len() == KINDS[i].1.len()
                    && pos.iter().enumerate().all(|(j, p)| *p == Some(j))
            });
        Ok(Schema {
            names,
            fields,
            map,
            current,
        })
    }

    /// `[[name, [fields…]], …]`, as stored in the meta block and the index.
    pub fn payload(&self) -> Value {
        Value::list(
            self.names
                .iter()
                .zip(self.fields.iter())
                .map(|(n, fs)| {
                    Value::list(vec![
                        Value::Str(n.clone()),
                        Value::list(fs.iter().map(|f| Value::Str(f.clone())).collect()),
                    ])
                })
                .collect(),
        )
    }

    pub fn from_payload(v: &Value) -> Result<Schema> {
        let bad = |m: &str| Error::Trace(format!("bad event schema ({m})"));
        let kinds = v.as_list().ok_or_else(|| bad("not a list"))?;
        let mut names = Vec::new();
        let mut fields = Vec::new();
        for k in kinds {
            let pair = k
                .as_list()
                .filter(|p| p.len() == 2)
                .ok_or_else(|| bad("a kind is not a [name, fields] pair"))?;
            names.push(Str::from(pair[0].to_string()));
            let fs = pair[1]
                .as_list()
                .ok_or_else(|| bad("fields are not a list"))?;
            fields.push(fs.iter().map(|f| Str::from(f.to_string())).collect());
        }
        Schema::new(names, fields)
    }

    pub fn is_current(&self) -> bool {
        self.current
    }
}

/// The payload of one events block, written straight from the events (no intermediate tree).
pub fn block_payload(first_seq: i64, events: &[Event], out: &mut Vec<u8>) {
    let n = events.len();
    pack_array_len(9, out);
    pack_int(first_seq, out);
    pack_int(events.first().map_or(0, |e| e.ts_ns), out);
    let kinds: Vec<u8> = events.iter().map(|e| e.kind).collect();
    pack_bin(&kinds, out);
    pack_array_len(n, out);
    let mut last = events.first().map_or(0, |e| e.ts_ns);
    for e in events {
        pack_int(e.ts_ns - last, out);
        last = e.ts_ns;
    }
    pack_array_len(n, out);
    for e in events {
        pack_opt_int(e.pid, out);
    }
    pack_array_len(n, out);
    for e in events {
        pack_opt_int(e.src.map(|s| s.0), out);
    }
    pack_array_len(n, out);
    for e in events {
        pack_int(e.src.map_or(0, |s| s.1), out);
    }
    pack_array_len(n, out);
    for e in events {
        if e.inferred.is_empty() {
            out.push(0xc0);
        } else {
            pack_array_len(e.inferred.len(), out);
            for name in &e.inferred {
                pack_str(name, out);
            }
        }
    }
    pack_array_len(n, out);
    for e in events {
        pack_array_len(e.values.len() + !e.extra.is_empty() as usize, out);
        for v in &e.values {
            pack(v, out);
        }
        if !e.extra.is_empty() {
            pack_map_len(e.extra.len(), out);
            for (k, v) in &e.extra {
                pack_str(k, out);
                pack(v, out);
            }
        }
    }
}

/// A decoded events block, its values laid out by the current schema (one flat array, a row per event).
#[derive(Debug)]
pub struct EventBlock {
    pub first_seq: i64,
    pub ts: Vec<i64>,
    pub kinds: Vec<u8>,
    pub pids: Vec<Option<i64>>,
    pub files: Vec<Option<i64>>,
    pub lines: Vec<i64>,
    inferred: Vec<Vec<Str>>,
    vals: Vec<Value>,
    starts: Vec<u32>,
    /// (event index, fields the schema lacks), in event order: rare.
    extras: Vec<(u32, Vec<(Str, Value)>)>,
}

fn bad(m: impl Into<String>) -> Error {
    Error::Value(m.into())
}

fn malformed(e: Malformed) -> Error {
    bad(e.0)
}

impl EventBlock {
    /// Decode a block's payload (msgpack bytes) by the file's `schema`.
    pub fn decode(payload: &[u8], schema: &Schema, where_: &str) -> Result<EventBlock> {
        EventBlock::decode_inner(payload, schema)
            .map_err(|e| Error::Trace(format!("{where_}: bad event block ({e})")))
    }

    fn decode_inner(payload: &[u8], schema: &Schema) -> Result<EventBlock> {
        let m = malformed;
        let mut r = Reader::new(payload);
        if r.array_len().map_err(m)? != 9 {
            return Err(bad("not 9 columns"));
        }
        let first_seq = r.int().map_err(m)?;
        let first_ts = r.int().map_err(m)?;
        let raw_kinds = r.bin().map_err(m)?.to_vec();
        let n = raw_kinds.len();
        let mut kinds = Vec::with_capacity(n);
        for &k in &raw_kinds {
            let (id, _) = schema
                .map
                .get(k as usize)
                .ok_or_else(|| bad("unknown event kind id"))?;
            kinds.push(*id);
        }
        let column = |r: &mut Reader| -> Result<()> {
            if r.array_len().map_err(m)? != n {
                return Err(bad("columns of different lengths"));
            }
            Ok(())
        };
        column(&mut r)?;
        let mut ts = Vec::with_capacity(n);
        let mut t = first_ts;
        for _ in 0..n {
            t = t
                .checked_add(r.int().map_err(m)?)
                .ok_or_else(|| bad("a time out of range"))?;
            ts.push(t);
        }
        column(&mut r)?;
        let pids = (0..n)
            .map(|_| r.opt_int().map_err(m))
            .collect::<Result<Vec<_>>>()?;
        column(&mut r)?;
        let files = (0..n)
            .map(|_| r.opt_int().map_err(m))
            .collect::<Result<Vec<_>>>()?;
        column(&mut r)?;
        let lines = (0..n)
            .map(|_| Ok(r.opt_int().map_err(m)?.unwrap_or(0)))
            .collect::<Result<Vec<_>>>()?;
        column(&mut r)?;
        let mut inferred = Vec::with_capacity(n);
        for _ in 0..n {
            inferred.push(if r.nil().map_err(m)? {
                Vec::new()
            } else {
                let k = r.array_len().map_err(m)?;
                (0..k)
                    .map(|_| Ok(Str::from(r.str().map_err(m)?)))
                    .collect::<Result<Vec<_>>>()?
            });
        }
        column(&mut r)?;
        let mut block = EventBlock {
            first_seq,
            ts,
            kinds,
            pids,
            files,
            lines,
            inferred,
            vals: Vec::with_capacity(n * 4),
            starts: Vec::with_capacity(n + 1),
            extras: Vec::new(),
        };
        block.starts.push(0);
        for (i, &raw) in raw_kinds.iter().enumerate() {
            let (kind_now, positions) = &schema.map[raw as usize];
            let width = KINDS[*kind_now as usize].1.len();
            let len = r.array_len().map_err(m)?;
            let at = block.vals.len();
            block.vals.resize(at + width, Value::Nil);
            let mut extra = Vec::new();
            for j in 0..len {
                if j + 1 == len && j >= positions.len() && r.at_map() {
                    let Value::Map(map) = r.value().map_err(m)? else {
                        unreachable!("a map was next")
                    };
                    extra.extend(
                        map.iter()
                            .map(|(k, v)| (Str::from(k.to_string()), v.clone())),
                    );
                    continue;
                }
                let v = r.value().map_err(m)?;
                match positions.get(j).copied().flatten() {
                    Some(p) => block.vals[at + p] = v,
                    None if !v.is_nil() => {
                        let name = schema.fields[raw as usize].get(j).cloned();
                        extra.push((name.unwrap_or_else(|| Str::from(format!("field{j}"))), v));
                    }
                    None => {}
                }
            }
            if !extra.is_empty() {
                block.extras.push((i as u32, extra));
            }
            block.starts.push(block.vals.len() as u32);
        }
        if !r.at_end() {
            return Err(bad("bytes after the columns"));
        }
        Ok(block)
    }

    pub fn len(&self) -> usize {
        self.kinds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }

    pub fn values(&self, i: usize) -> &[Value] {
        &self.vals[self.starts[i] as usize..self.starts[i + 1] as usize]
    }

    fn extra(&self, i: usize) -> Vec<(Str, Value)> {
        match self.extras.binary_search_by_key(&(i as u32), |(j, _)| *j) {
            Ok(at) => self.extras[at].1.clone(),
            Err(_) => Vec::new(),
        }
    }

    pub fn event(&self, i: usize) -> Event {
        Event {
            ts_ns: self.ts[i],
            kind: self.kinds[i],
            pid: self.pids[i],
            values: self.values(i).to_vec(),
            extra: self.extra(i),
            src: self.files[i].map(|f| (f, self.lines[i])),
            inferred: self.inferred[i].clone(),
            seq: Some(self.first_seq + i as i64),
        }
    }

    /// The event's parts as `apply` reads them, without building an Event.
    pub fn ev(&self, i: usize) -> crate::model::Ev<'_> {
        crate::model::Ev {
            seq: Some(self.first_seq + i as i64),
            ts: self.ts[i],
            kind: self.kinds[i],
            pid: self.pids[i],
            vals: self.values(i),
            inferred: &self.inferred[i],
        }
    }
}

/// `Arc` slices of the current schema's kind names, made once.
pub fn kind_names() -> &'static [Str] {
    static NAMES: std::sync::OnceLock<Vec<Str>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| KINDS.iter().map(|(k, _)| Arc::from(*k)).collect())
}

#[cfg(test)]
#[path = "codec_tests.rs"]
mod tests;
