//! Per-kind and per-entity change lists: the sorted seqs of every event of a kind, of a pid, of a lock.
//!
//! "Next kill", "next change of task 3163", "next time mmap_lock changes hands" become a bisect in one of these.
//! They are written in chunks of at most `Tuning::chunk` seqs (4096: one chunk covers any "next" query on a busy key with a
//! single small block read), each its own block, as the writer goes (its memory stays
//! bounded); a directory block at the end says which chunk holds which range, and the reader loads the directory
//! and the chunks only when a query needs them.

use std::collections::HashMap;

use super::msgpack::{pack_array_len, pack_int, pack_str};
use crate::error::{Error, Result};
use crate::model::value::{Str, Value};

/// Seqs held in the writer across all keys before every pending list is written out.
const PENDING_BUDGET: usize = 1 << 20;

/// `("k", kind name)`, `("p", pid)` or `("e", "lock:NAME" / "zone:0:Normal" / "memcg:/path")`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ListKey {
    Kind(Str),
    Pid(i64),
    Entity(Str),
}

/// Gathers seqs per key and writes full chunks through the writer's emit.
pub struct ChangeListWriter {
    /// seqs per chunk (`Tuning::chunk`)
    chunk: usize,
    pending: HashMap<ListKey, Vec<i64>>,
    order: Vec<ListKey>,
    held: usize,
    /// key -> [(first, last, offset)], keys in the order their first chunk was written
    directory: Vec<(ListKey, Vec<(i64, i64, i64)>)>,
    directory_at: HashMap<ListKey, usize>,
}

impl ChangeListWriter {
    pub fn new(chunk: usize) -> ChangeListWriter {
        ChangeListWriter {
            chunk,
            pending: HashMap::new(),
            order: Vec::new(),
            held: 0,
            directory: Vec::new(),
            directory_at: HashMap::new(),
        }
    }

    /// Add each key's ascending seqs, all after the ones it already has; `emit(payload) -> offset`.
    pub fn extend_many(
        &mut self,
        items: Vec<(ListKey, Vec<i64>)>,
        emit: &mut dyn FnMut(&[u8]) -> Result<i64>,
    ) -> Result<()> {
        for (key, seqs) in items {
            self.held += seqs.len();
            let pending = match self.pending.get_mut(&key) {
                Some(p) => {
                    p.extend_from_slice(&seqs);
                    p
                }
                None => {
                    self.order.push(key.clone());
                    self.pending.entry(key.clone()).or_insert(seqs)
                }
            };
            if pending.len() >= self.chunk {
                self.flush(&key, emit)?;
            }
            if self.held >= PENDING_BUDGET {
                self.flush_all(emit)?;
            }
        }
        Ok(())
    }

    fn flush(&mut self, key: &ListKey, emit: &mut dyn FnMut(&[u8]) -> Result<i64>) -> Result<()> {
        let Some(seqs) = self.pending.remove(key) else {
            return Ok(());
        };
        self.order.retain(|k| k != key);
        self.held -= seqs.len();
        for chunk in seqs.chunks(self.chunk) {
            let mut raw = Vec::new();
            pack_array_len(2, &mut raw);
            pack_int(chunk[0], &mut raw);
            pack_array_len(chunk.len() - 1, &mut raw);
            for w in chunk.windows(2) {
                pack_int(w[1] - w[0], &mut raw);
            }
            let offset = emit(&raw)?;
            let at = *self.directory_at.entry(key.clone()).or_insert_with(|| {
                self.directory.push((key.clone(), Vec::new()));
                self.directory.len() - 1
            });
            self.directory[at]
                .1
                .push((chunk[0], *chunk.last().unwrap(), offset));
        }
        Ok(())
    }

    pub fn flush_all(&mut self, emit: &mut dyn FnMut(&[u8]) -> Result<i64>) -> Result<()> {
        for key in std::mem::take(&mut self.order) {
            self.flush(&key, emit)?;
        }
        Ok(())
    }

    pub fn directory_payload(&self, out: &mut Vec<u8>) {
        pack_array_len(self.directory.len(), out);
        for (key, chunks) in &self.directory {
            pack_array_len(5, out);
            match key {
                ListKey::Kind(k) => {
                    pack_str("k", out);
                    pack_str(k, out);
                }
                ListKey::Pid(p) => {
                    pack_str("p", out);
                    pack_int(*p, out);
                }
                ListKey::Entity(e) => {
                    pack_str("e", out);
                    pack_str(e, out);
                }
            }
            for col in 0..3 {
                pack_array_len(chunks.len(), out);
                for c in chunks {
                    pack_int([c.0, c.1, c.2][col], out);
                }
            }
        }
    }
}

/// The reader's side: finds the next / previous seq of a key with two bisects and at most one chunk read.
pub struct ChangeListIndex {
    dir: HashMap<ListKey, (Vec<i64>, Vec<i64>, Vec<i64>)>,
}

fn ints(v: &Value) -> Option<Vec<i64>> {
    v.as_list()?.iter().map(Value::as_int).collect()
}

impl ChangeListIndex {
    pub fn decode(payload: &Value, where_: &str) -> Result<ChangeListIndex> {
        let bad = || Error::Trace(format!("{where_}: bad change-list directory"));
        let mut dir = HashMap::new();
        for entry in payload.as_list().ok_or_else(bad)? {
            let e = entry.as_list().filter(|e| e.len() == 5).ok_or_else(bad)?;
            let key = match (e[0].as_str(), &e[1]) {
                (Some("k"), Value::Str(k)) => ListKey::Kind(k.clone()),
                (Some("p"), Value::Int(p)) => ListKey::Pid(*p),
                (Some("e"), Value::Str(s)) => ListKey::Entity(s.clone()),
                _ => continue, // a key this version never asks for
            };
            let (firsts, lasts, offsets) = (
                ints(&e[2]).ok_or_else(bad)?,
                ints(&e[3]).ok_or_else(bad)?,
                ints(&e[4]).ok_or_else(bad)?,
            );
            if firsts.len() != lasts.len() || lasts.len() != offsets.len() {
                return Err(bad());
            }
            dir.insert(key, (firsts, lasts, offsets));
        }
        Ok(ChangeListIndex { dir })
    }

    /// The first seq of `key` greater than `after`; `load(offset)` gives a chunk's seqs.
    pub fn next(
        &self,
        key: &ListKey,
        after: i64,
        load: &dyn Fn(i64) -> Result<std::sync::Arc<Vec<i64>>>,
    ) -> Result<Option<i64>> {
        let Some((_, lasts, offsets)) = self.dir.get(key) else {
            return Ok(None);
        };
        let c = lasts.partition_point(|l| *l <= after);
        if c == lasts.len() {
            return Ok(None);
        }
        let seqs = load(offsets[c])?;
        Ok(seqs.get(seqs.partition_point(|s| *s <= after)).copied())
    }

    /// The last seq of `key` smaller than `before`.
    pub fn prev(
        &self,
        key: &ListKey,
        before: i64,
        load: &dyn Fn(i64) -> Result<std::sync::Arc<Vec<i64>>>,
    ) -> Result<Option<i64>> {
        let Some((firsts, _, offsets)) = self.dir.get(key) else {
            return Ok(None);
        };
        let c = firsts.partition_point(|f| *f < before);
        if c == 0 {
            return Ok(None);
        }
        let seqs = load(offsets[c - 1])?;
        let i = seqs.partition_point(|s| *s < before);
        Ok(if i == 0 { None } else { Some(seqs[i - 1]) })
    }
}

pub fn decode_chunk(payload: &Value, where_: &str) -> Result<Vec<i64>> {
    let bad = || Error::Trace(format!("{where_}: bad change-list chunk"));
    let parts = payload.as_list().filter(|p| p.len() == 2).ok_or_else(bad)?;
    let mut acc = parts[0].as_int().ok_or_else(bad)?;
    let deltas = ints(&parts[1]).ok_or_else(bad)?;
    let mut out = Vec::with_capacity(deltas.len() + 1);
    out.push(acc);
    for d in deltas {
        acc = acc.checked_add(d).ok_or_else(bad)?;
        out.push(acc);
    }
    if out.windows(2).any(|w| w[0] >= w[1]) {
        return Err(bad());
    }
    Ok(out)
}
