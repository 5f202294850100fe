//! `Trace`: a lazily read `.oomtrace`. Opening reads the header, the trailer and the index; nothing else.
//!
//! Blocks are read with `pread` when first needed (no mmap, so a long session over a large trace does not grow the
//! reader's resident memory; the kernel's page cache still serves it) and kept in small bounded caches. Seeking
//! (`seek.rs`) is a bisect to the keyframe at or before the target and a replay within one event block.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::changelists::{decode_chunk, ChangeListIndex, ListKey};
use super::codec::{EventBlock, Schema};
use super::format::*;
use super::lru::Lru;
use super::msgpack::unpack;
use super::overview::{Bucket, Overview};
use super::pages::ints;
use crate::error::{Error, Result};
use crate::model::state::{State, TABLES};
use crate::model::table::{Page, PageRef};
use crate::model::value::Value;
use crate::model::Event;

/// The state tables of files written before the index named them (format 1 as first released).
const LEGACY_TABLES: &[&str] = &[
    "tasks",
    "mms",
    "locks",
    "zones",
    "memcgs",
    "ooms",
    "victims",
    "anomalies",
];

pub struct Index {
    pub version: u16,
    pub meta: Value,
    pub summary: Value,
    pub schema: Schema,
    /// The file's table order (its keyframes' pieces are numbered in it), as indexes into `TABLES`.
    pub tables: Vec<usize>,
    pub count: i64,
    pub first_ts: Option<i64>,
    pub last_ts: Option<i64>,
    pub block_off: Vec<i64>,
    pub block_seq: Vec<i64>,
    pub block_ts: Vec<i64>,
    pub kf_seq: Vec<i64>,
    pub kf_off: Vec<i64>,
    pub kf_workset: Vec<i64>,
    pub kf_first_block: Vec<i64>,
    pub page_block_off: Vec<i64>,
    pub pages_per_block: i64,
    pub dictionaries: Vec<(i64, Vec<u8>)>,
    pub sources: Vec<(String, i64, Vec<i64>, Vec<i64>)>,
    pub directory: i64,
    pub overview: i64,
}

/// The shared inside of a trace: the file, its index and the caches; states hold it to load their pages.
pub struct Inner {
    pub name: String,
    file: File,
    pub end: u64,
    pub ix: Index,
    zdicts: Mutex<Vec<(i64, Arc<Vec<u8>>)>>,
    blocks: Lru<i64, Arc<EventBlock>>,
    pub(super) pages: Lru<PageRef, Arc<Page>>,
    pub(super) pieces: Lru<(i64, i64), Arc<Vec<(crate::model::table::Key, super::pages::Patch)>>>,
    pub(super) page_blocks: Lru<i64, Arc<Vec<Value>>>,
    pub(super) kf_groups: Lru<i64, Arc<super::seek::Group>>,
    pub(super) keyframes: Lru<i64, Option<Arc<State>>>,
    chunks: Lru<i64, Arc<Vec<i64>>>,
    source_cache: Lru<i64, Arc<Vec<String>>>,
    changes: Mutex<Option<Arc<ChangeListIndex>>>,
    overview: Mutex<Option<Arc<Overview>>>,
    pub(super) last: Mutex<Option<State>>,
}

pub struct Trace {
    pub path: PathBuf,
    pub inner: Arc<Inner>,
}

fn field<'a>(m: &'a [(Value, Value)], name: &str) -> Option<&'a Value> {
    m.iter()
        .find(|(k, _)| k.as_str() == Some(name))
        .map(|(_, v)| v)
}

fn bytes_of(v: &Value) -> Result<Vec<i64>> {
    match v {
        Value::Bin(b) => ints_from_bytes(b),
        _ => Err(Error::Value("an integer column that is no bytes".into())),
    }
}

impl Inner {
    pub fn read_at(&self, offset: u64, len: usize) -> Result<Vec<u8>> {
        let mut buf = vec![0u8; len];
        self.file.read_exact_at(&mut buf, offset)?;
        Ok(buf)
    }

    /// The inflated payload of the block of type `expect` at `offset`, or an error saying what is wrong.
    pub fn read_raw(&self, offset: i64, expect: u8) -> Result<Vec<u8>> {
        let dict = self.dictionary_for(expect, offset)?;
        let at = |at, n| self.read_at(at, n);
        Ok(read_raw_with(
            &self.name,
            offset,
            self.end,
            Some(expect),
            dict.as_deref().map(|d| d.as_slice()),
            at,
        )?
        .1)
    }

    /// The decoded payload of the block of type `expect` at `offset`.
    pub fn read(&self, offset: i64, expect: u8) -> Result<Value> {
        let raw = self.read_raw(offset, expect)?;
        unpack(&raw).map_err(|e| {
            let label = block_name(expect).unwrap_or("?");
            Error::Trace(format!(
                "{}: {label} block at offset {offset}: malformed payload ({})",
                self.name, e.0
            ))
        })
    }

    /// The compression dictionary of a block: the last one before it that serves its kind, read once.
    fn dictionary_for(&self, kind: u8, offset: i64) -> Result<Option<Arc<Vec<u8>>>> {
        let at = self
            .ix
            .dictionaries
            .iter()
            .filter(|(at, kinds)| *at < offset && kinds.contains(&kind))
            .map(|(at, _)| *at)
            .max();
        let Some(at) = at else { return Ok(None) };
        if let Some((_, d)) = self.zdicts.lock().unwrap().iter().find(|(o, _)| *o == at) {
            return Ok(Some(d.clone()));
        }
        let payload = read_block_with(&self.name, at, self.end, Some(DICTIONARY), None, |o, n| {
            self.read_at(o, n)
        })?
        .1;
        let zdict = match payload.as_list() {
            Some([_, Value::Bin(b)]) => Arc::new(b.to_vec()),
            _ => {
                return Err(Error::Trace(format!(
                    "{}: compression dictionary at offset {at}: bad compression dictionary",
                    self.name
                )))
            }
        };
        self.zdicts.lock().unwrap().push((at, zdict.clone()));
        Ok(Some(zdict))
    }

    pub fn event_block(&self, b: usize) -> Result<Arc<EventBlock>> {
        let off = self.ix.block_off[b];
        self.blocks.get_or(&off, || {
            let where_ = format!("{}: events block at offset {off}", self.name);
            let block = EventBlock::decode(&self.read_raw(off, EVENTS)?, &self.ix.schema, &where_)?;
            let end = self
                .ix
                .block_seq
                .get(b + 1)
                .copied()
                .unwrap_or(self.ix.count);
            if block.first_seq != self.ix.block_seq[b]
                || block.first_seq + block.len() as i64 != end
            {
                return Err(Error::Trace(format!(
                    "{}: events block at offset {off} holds seqs {}..{}, the index says {}..{}",
                    self.name,
                    block.first_seq,
                    block.first_seq + block.len() as i64 - 1,
                    self.ix.block_seq[b],
                    end - 1
                )));
            }
            Ok(Arc::new(block))
        })
    }

    /// The block holding `seq` and the event's position in it.
    pub fn locate(&self, seq: i64) -> Result<(Arc<EventBlock>, usize)> {
        let b = self
            .ix
            .block_seq
            .partition_point(|s| *s <= seq)
            .saturating_sub(1);
        let block = self.event_block(b)?;
        let i = (seq - block.first_seq) as usize;
        Ok((block, i))
    }

    fn chunk(&self, offset: i64) -> Result<Arc<Vec<i64>>> {
        self.chunks.get_or(&offset, || {
            let where_ = format!("{}: change list at offset {offset}", self.name);
            Ok(Arc::new(decode_chunk(
                &self.read(offset, POSTINGS)?,
                &where_,
            )?))
        })
    }

    fn change_index(&self) -> Result<Arc<ChangeListIndex>> {
        let mut g = self.changes.lock().unwrap();
        if let Some(c) = &*g {
            return Ok(c.clone());
        }
        let where_ = format!(
            "{}: change-list directory at offset {}",
            self.name, self.ix.directory
        );
        let c = Arc::new(ChangeListIndex::decode(
            &self.read(self.ix.directory, DIRECTORY)?,
            &where_,
        )?);
        *g = Some(c.clone());
        Ok(c)
    }
}

/// Read, check and decode one block through `read(offset, len)`: `(type, payload, next offset)`.
pub fn read_block_with(
    name: &str,
    offset: i64,
    end: u64,
    expect: Option<u8>,
    dict: Option<&[u8]>,
    read: impl Fn(u64, usize) -> Result<Vec<u8>>,
) -> Result<(u8, Value, i64)> {
    let (kind, raw, stop) = read_raw_with(name, offset, end, expect, dict, read)?;
    let label = block_name(kind).unwrap_or("?");
    let value = unpack(&raw).map_err(|e| {
        Error::Trace(format!(
            "{name}: {label} block at offset {offset}: malformed payload ({})",
            e.0
        ))
    })?;
    Ok((kind, value, stop))
}

/// Read and check one block through `read(offset, len)`: `(type, inflated payload, next offset)`.
pub fn read_raw_with(
    name: &str,
    offset: i64,
    end: u64,
    expect: Option<u8>,
    dict: Option<&[u8]>,
    read: impl Fn(u64, usize) -> Result<Vec<u8>>,
) -> Result<(u8, Vec<u8>, i64)> {
    if offset < HEADER_SIZE as i64 || offset as u64 + BLOCK_HEAD as u64 > end {
        return Err(Error::Trace(format!(
            "{name}: block offset {offset} lies outside the file's {end} bytes"
        )));
    }
    let head = read(offset as u64, BLOCK_HEAD)?;
    let kind = head[0];
    let length = u32::from_le_bytes(head[1..5].try_into().unwrap()) as u64;
    let stored = u32::from_le_bytes(head[5..9].try_into().unwrap());
    let label = block_name(kind).map_or_else(|| format!("type-{kind}"), str::to_string);
    let where_ = format!("{name}: {label} block at offset {offset}");
    if block_name(kind).is_none() {
        return Err(Error::Trace(format!("{where_}: unknown block type {kind}")));
    }
    if let Some(e) = expect {
        if kind != e {
            return Err(Error::Trace(format!(
                "{where_}: expected a {} block",
                block_name(e).unwrap()
            )));
        }
    }
    let stop = offset as u64 + BLOCK_HEAD as u64 + length;
    if length > MAX_PAYLOAD as u64 || stop > end {
        return Err(Error::Trace(format!(
            "{where_}: declared length {length} runs past the end of the file"
        )));
    }
    let payload = read(offset as u64 + BLOCK_HEAD as u64, length as usize)?;
    if crc(&[&head[..5], &payload]) != stored {
        return Err(Error::Trace(format!(
            "{where_}: CRC mismatch (the block is damaged)"
        )));
    }
    let payload = if uncompressed(kind) {
        payload
    } else {
        decompress(&payload, &where_, dict)?
    };
    Ok((kind, payload, stop as i64))
}

impl Trace {
    pub fn open(path: impl AsRef<Path>) -> Result<Trace> {
        let path = path.as_ref().to_path_buf();
        let name = path.to_string_lossy().into_owned();
        let file =
            File::open(&path).map_err(|e| Error::Trace(format!("{name}: cannot open ({e})")))?;
        let size = file.metadata()?.len();
        if size < HEADER_SIZE as u64 {
            return Err(Error::Trace(format!(
                "{name}: not an oomtrace file ({size} bytes)"
            )));
        }
        let read = |at: u64, n: usize| -> Result<Vec<u8>> {
            let mut buf = vec![0u8; n];
            file.read_exact_at(&mut buf, at)?;
            Ok(buf)
        };
        let version = check_header(&read(0, HEADER_SIZE)?, &name)?;
        let trailer = if size >= (HEADER_SIZE + TRAILER_SIZE) as u64 {
            read(size - TRAILER_SIZE as u64, TRAILER_SIZE)?
        } else {
            vec![]
        };
        if trailer.len() < TRAILER_SIZE || &trailer[..8] != TRAILER_MAGIC {
            return Err(Error::Truncated(format!(
                "{name}: no trailer; the file was not finished (truncated at {size} bytes)"
            )));
        }
        if crc(&[&trailer[..20]]) != u32::from_le_bytes(trailer[20..24].try_into().unwrap()) {
            return Err(Error::Trace(format!(
                "{name}: trailer at offset {} is damaged (CRC mismatch)",
                size - TRAILER_SIZE as u64
            )));
        }
        let end = size - TRAILER_SIZE as u64;
        let index_at = u64::from_le_bytes(trailer[8..16].try_into().unwrap()) as i64;
        let (_, index, _) = read_block_with(&name, index_at, end, Some(INDEX), None, read)?;
        let where_ = format!("{name}: index block at offset {index_at}");
        let ix = parse_index(&index, version)
            .map_err(|e| Error::Trace(format!("{where_}: bad index ({e})")))?;
        if !consistent(&ix) {
            return Err(Error::Trace(format!(
                "{where_}: the index contradicts itself (event count, block or keyframe order)"
            )));
        }
        let inner = Inner {
            name,
            file,
            end,
            ix,
            zdicts: Mutex::new(Vec::new()),
            blocks: Lru::new(16),
            // bounded and small: the states in use hold their own pages
            pages: Lru::new(256),
            pieces: Lru::new(256),
            page_blocks: Lru::new(256),
            kf_groups: Lru::new(8),
            keyframes: Lru::new(32),
            chunks: Lru::new(256),
            source_cache: Lru::new(32),
            changes: Mutex::new(None),
            overview: Mutex::new(None),
            last: Mutex::new(None),
        };
        Ok(Trace {
            path,
            inner: Arc::new(inner),
        })
    }

    pub fn len(&self) -> i64 {
        self.inner.ix.count
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn index(&self) -> &Index {
        &self.inner.ix
    }

    pub fn size(&self) -> u64 {
        self.inner.end + TRAILER_SIZE as u64
    }

    pub fn check_seq(&self, seq: i64) -> Result<i64> {
        if !(-1..self.len()).contains(&seq) {
            return Err(Error::Value(format!(
                "seq {seq} is outside 0..{}",
                self.len() - 1
            )));
        }
        Ok(seq)
    }

    pub fn event(&self, seq: i64) -> Result<Event> {
        self.check_seq(seq)?;
        if seq < 0 {
            return Err(Error::Value(
                "seq -1 is the empty state before the first event, not an event".into(),
            ));
        }
        let (block, i) = self.inner.locate(seq)?;
        Ok(block.event(i))
    }

    /// Events with `start <= seq < stop`.
    pub fn events(&self, start: i64, stop: i64) -> Result<Vec<Event>> {
        let stop = stop.min(self.len());
        let mut seq = start.max(0);
        let mut out = Vec::with_capacity((stop - seq).max(0) as usize);
        while seq < stop {
            let (block, i) = self.inner.locate(seq)?;
            let last = block.len().min((stop - block.first_seq) as usize);
            out.extend((i..last).map(|j| block.event(j)));
            seq = block.first_seq + block.len() as i64;
        }
        Ok(out)
    }

    /// The last event at or before `ts_ns`; None when the trace starts later.
    pub fn seq_at(&self, ts_ns: i64) -> Result<Option<i64>> {
        let b = self.inner.ix.block_ts.partition_point(|t| *t <= ts_ns);
        if b == 0 {
            return Ok(None);
        }
        let block = self.inner.event_block(b - 1)?;
        Ok(Some(
            block.first_seq + block.ts.partition_point(|t| *t <= ts_ns) as i64 - 1,
        ))
    }

    /// The first seq after `edge` (forward) or the last before it matching every group of keys (each group a union).
    pub fn find(&self, edge: i64, groups: &[Vec<ListKey>], forward: bool) -> Result<Option<i64>> {
        let n = self.len();
        if groups.is_empty() {
            return Ok(if forward {
                let c = (edge + 1).max(0);
                (c < n).then_some(c)
            } else {
                let c = (edge - 1).min(n - 1);
                (c >= 0).then_some(c)
            });
        }
        let idx = self.inner.change_index()?;
        let load = |o: i64| self.inner.chunk(o);
        let first_of = |group: &[ListKey], bound: i64| -> Result<Option<i64>> {
            let mut best: Option<i64> = None;
            for key in group {
                let hit = if forward {
                    idx.next(key, bound, &load)?
                } else {
                    idx.prev(key, bound, &load)?
                };
                if let Some(h) = hit {
                    best = Some(match best {
                        None => h,
                        Some(b) if forward => b.min(h),
                        Some(b) => b.max(h),
                    });
                }
            }
            Ok(best)
        };
        // leapfrog: move the candidate to each group's first hit at or beyond it until all groups agree
        let mut cand = first_of(&groups[0], edge)?;
        'outer: while let Some(c) = cand {
            for group in groups {
                match first_of(group, if forward { c - 1 } else { c + 1 })? {
                    None => return Ok(None),
                    Some(hit) if hit != c => {
                        cand = Some(hit);
                        continue 'outer;
                    }
                    Some(_) => {}
                }
            }
            return Ok(Some(c));
        }
        Ok(None)
    }

    /// Lines `first..=last` (1-based) of source `file`, clipped to what exists.
    pub fn source_lines(&self, first: i64, last: i64, file: i64) -> Result<Vec<String>> {
        let Some((_, count, firsts, offsets)) = usize::try_from(file)
            .ok()
            .and_then(|f| self.inner.ix.sources.get(f))
        else {
            return Ok(Vec::new());
        };
        let (first, last) = (first.max(1), last.min(*count));
        let mut out = Vec::new();
        let mut line = first;
        while line <= last {
            let c = firsts.partition_point(|f| *f <= line);
            if c == 0 {
                break;
            }
            let chunk_first = firsts[c - 1];
            let lines = self.source_chunk(offsets[c - 1])?;
            let from = (line - chunk_first) as usize;
            let to = ((last - chunk_first + 1) as usize).min(lines.len());
            if from >= to {
                break;
            }
            out.extend(lines[from..to].iter().cloned());
            line += (to - from) as i64;
        }
        Ok(out)
    }

    fn source_chunk(&self, offset: i64) -> Result<Arc<Vec<String>>> {
        self.inner.source_cache.get_or(&offset, || {
            let payload = self.inner.read(offset, SOURCE)?;
            match payload.as_list() {
                Some([_, _, Value::Str(text), ..]) => {
                    Ok(Arc::new(text.split('\n').map(str::to_string).collect()))
                }
                _ => Err(Error::Trace(format!(
                    "{}: source text block at offset {offset}: bad payload",
                    self.inner.name
                ))),
            }
        })
    }

    pub fn overview(&self, t0: i64, t1: i64, buckets: usize) -> Result<Vec<Bucket>> {
        let ov = {
            let mut g = self.inner.overview.lock().unwrap();
            match &*g {
                Some(o) => o.clone(),
                None => {
                    let at = self.inner.ix.overview;
                    let where_ = format!("{}: overview at offset {at}", self.inner.name);
                    let o = Arc::new(Overview::decode(&self.inner.read(at, OVERVIEW)?, &where_)?);
                    *g = Some(o.clone());
                    o
                }
            }
        };
        Ok(ov.query(t0, t1, buckets))
    }

    pub fn overview_kinds(&self) -> Result<Vec<String>> {
        self.overview(0, 0, 0)?;
        Ok(self
            .inner
            .overview
            .lock()
            .unwrap()
            .as_ref()
            .map(|o| o.kinds.clone())
            .unwrap_or_default())
    }
}

fn parse_index(index: &Value, version: u16) -> Result<Index> {
    let bad = |m: &str| Error::Value(m.to_string());
    let Value::Map(m) = index else {
        return Err(bad("not a map"));
    };
    let get = |name: &str| field(m, name).ok_or_else(|| Error::Value(format!("no {name}")));
    let opt_int = |name: &str| -> Result<Option<i64>> {
        match get(name)? {
            Value::Nil => Ok(None),
            Value::Int(i) => Ok(Some(*i)),
            _ => Err(Error::Value(format!("{name} is no integer"))),
        }
    };
    let int =
        |name: &str| opt_int(name)?.ok_or_else(|| Error::Value(format!("{name} is no integer")));
    let list = |name: &str| {
        get(name)?
            .as_list()
            .ok_or_else(|| Error::Value(format!("{name} is no list")))
    };
    let schema = Schema::from_payload(get("schema")?)?;
    let names: Vec<String> = match field(m, "tables") {
        Some(t) => t
            .as_list()
            .ok_or_else(|| bad("tables"))?
            .iter()
            .map(|x| x.to_string())
            .collect(),
        None => LEGACY_TABLES.iter().map(|s| s.to_string()).collect(),
    };
    let mut tables = Vec::new();
    for n in &names {
        let t = TABLES
            .iter()
            .position(|(x, _, _)| x == n)
            .ok_or_else(|| Error::Trace(format!("state tables this version does not know: {n}")))?;
        if tables.contains(&t) {
            return Err(Error::Trace(
                "state tables this version does not know: a table twice".into(),
            ));
        }
        tables.push(t);
    }
    let cols = |name: &str, n: usize| -> Result<Vec<Vec<i64>>> {
        let l = list(name)?;
        if l.len() < n {
            return Err(Error::Value(format!("{name} has {} columns", l.len())));
        }
        l[..n].iter().map(bytes_of).collect()
    };
    let blocks = cols("blocks", 3)?;
    let keyframes = cols("keyframes", 4)?;
    let pages = list("pages")?;
    if pages.len() != 2 {
        return Err(bad("pages"));
    }
    let mut dictionaries = Vec::new();
    for d in list("dictionaries")? {
        match d.as_list() {
            Some([Value::Int(at), kinds]) => {
                dictionaries.push((*at, ints(kinds)?.into_iter().map(|k| k as u8).collect()));
            }
            _ => return Err(bad("dictionaries")),
        }
    }
    let mut sources = Vec::new();
    for s in list("sources")? {
        match s.as_list() {
            Some([name, Value::Int(n), firsts, offsets]) => {
                sources.push((name.to_string(), *n, bytes_of(firsts)?, bytes_of(offsets)?));
            }
            _ => return Err(bad("sources")),
        }
    }
    let [block_off, block_seq, block_ts]: [Vec<i64>; 3] = blocks.try_into().unwrap();
    let [kf_seq, kf_off, kf_workset, kf_first_block]: [Vec<i64>; 4] = keyframes.try_into().unwrap();
    Ok(Index {
        version,
        meta: get("meta")?.clone(),
        summary: get("summary")?.clone(),
        schema,
        tables,
        count: int("count")?,
        first_ts: opt_int("first_ts")?,
        last_ts: opt_int("last_ts")?,
        block_off,
        block_seq,
        block_ts,
        kf_seq,
        kf_off,
        kf_workset,
        kf_first_block,
        page_block_off: bytes_of(&pages[0])?,
        pages_per_block: pages[1].as_int().ok_or_else(|| bad("pages per block"))?,
        dictionaries,
        sources,
        directory: int("directory")?,
        overview: int("overview")?,
    })
}

/// Cheap checks (O(blocks)) that keep a self-contradicting index from turning into wrong answers later.
fn consistent(ix: &Index) -> bool {
    let n = ix.count;
    let (bo, bs, bt) = (&ix.block_off, &ix.block_seq, &ix.block_ts);
    if n < 0 || bo.len() != bs.len() || bs.len() != bt.len() {
        return false;
    }
    let k = ix.kf_seq.len();
    if ix.kf_off.len() != k || ix.kf_workset.len() != k || ix.kf_first_block.len() != k {
        return false;
    }
    let pages = ix.page_block_off.len() as i64;
    if ix.pages_per_block < 1 {
        return false;
    }
    let firsts = &ix.kf_first_block;
    for (i, a) in firsts.iter().enumerate() {
        let b = firsts.get(i + 1).copied().unwrap_or(pages);
        if !(0 <= *a && *a <= b && b <= pages) {
            return false;
        }
    }
    if (n == 0) != bs.is_empty() || (!bs.is_empty() && (bs[0] != 0 || *bs.last().unwrap() >= n)) {
        return false;
    }
    bs.windows(2).all(|w| w[0] < w[1])
        && ix.kf_seq.windows(2).all(|w| w[0] < w[1])
        && bt.windows(2).all(|w| w[0] <= w[1])
        && ix.kf_seq.last().is_none_or(|k| (-1..n).contains(k))
}
