//! `verify` and `repair`: walk a trace block by block, trusting only what checks out.
//!
//! Repair keeps every whole event block and every whole piece of source text and writes them through a fresh
//! `TraceWriter`, so the keyframes, change lists, overview and index of the result come from the one code path
//! that writes every trace; there is no second, repair-only way of building an index.

use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::codec::{EventBlock, Schema};
use super::format::*;
use super::msgpack::unpack;
use super::pages::{decode_page, decode_workset};
use super::reader::{read_raw_with, Trace};
use super::writer::TraceWriter;
use crate::error::{Error, Result};
use crate::model::value::{Str, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub offset: i64,
    pub message: String,
}

/// What a walk over the blocks found: the good parts, and every problem with its offset.
#[derive(Debug, Default)]
pub struct Scan {
    pub size: u64,
    pub blocks: usize,
    pub events: i64,
    pub meta: Value,
    pub problems: Vec<Problem>,
    /// Where the walk had to stop, if before the trailer.
    pub truncated_at: Option<i64>,
    /// What repair put right, one line each (blocks out of place, dropped events, lost sources).
    pub fixed: Vec<String>,
}

struct Walk {
    file: File,
    size: u64,
    name: String,
}

impl Walk {
    fn open(path: &Path) -> Result<Walk> {
        let name = path.to_string_lossy().into_owned();
        let file =
            File::open(path).map_err(|e| Error::Trace(format!("{name}: cannot open ({e})")))?;
        let size = file.metadata()?.len();
        Ok(Walk { file, size, name })
    }

    fn read(&self, at: u64, n: usize) -> Result<Vec<u8>> {
        let mut buf = vec![0u8; n];
        self.file.read_exact_at(&mut buf, at)?;
        Ok(buf)
    }

    /// A damaged header is one more problem (the blocks behind it may be whole); a newer version is a refusal.
    fn header(&self, scan: &mut Scan) -> Result<()> {
        if self.size < HEADER_SIZE as u64 {
            return Err(Error::Trace(format!(
                "{}: not an oomtrace file ({} bytes)",
                self.name, self.size
            )));
        }
        match check_header(&self.read(0, HEADER_SIZE)?, &self.name) {
            Err(Error::Version(m)) => Err(Error::Version(m)),
            Err(e) => {
                let m = e.to_string();
                scan.problems.push(Problem {
                    offset: 0,
                    message: format!("damaged header: {}", strip(&m, &self.name)),
                });
                Ok(())
            }
            Ok(_) => Ok(()),
        }
    }

    /// Every block that checks out as `(offset, type, inflated payload)`, noting the rest in `scan`. A block is
    /// inflated with the last compression dictionary before it that serves its kind.
    fn blocks(&self, scan: &mut Scan) -> Result<Vec<(i64, u8, Vec<u8>)>> {
        let mut end = self.size;
        if self.size >= (HEADER_SIZE + TRAILER_SIZE) as u64 {
            let trailer = self.read(self.size - TRAILER_SIZE as u64, TRAILER_SIZE)?;
            if &trailer[..8] == TRAILER_MAGIC {
                end = self.size - TRAILER_SIZE as u64;
                if crc(&[&trailer[..20]]) != u32::from_le_bytes(trailer[20..24].try_into().unwrap())
                {
                    scan.problems.push(Problem {
                        offset: end as i64,
                        message: "trailer: CRC mismatch (the trailer is damaged)".into(),
                    });
                }
            }
        }
        if end == self.size {
            scan.problems.push(Problem {
                offset: self.size as i64,
                message: "no trailer: the file was not finished or was cut short".into(),
            });
        }
        let mut out = Vec::new();
        let mut zdicts: BTreeMap<u8, Vec<u8>> = BTreeMap::new();
        let mut seen: Vec<Vec<u8>> = Vec::new();
        let mut retry: Vec<(i64, usize)> = Vec::new();
        let mut offset = HEADER_SIZE as i64;
        while (offset as u64) < end {
            if offset as u64 + BLOCK_HEAD as u64 > end {
                scan.truncated_at = Some(offset);
                let stray = end - offset as u64;
                scan.problems.push(Problem {
                    offset,
                    message: format!("{stray} stray bytes: a block header cut short"),
                });
                break;
            }
            let head = self.read(offset as u64, BLOCK_HEAD)?;
            let (kind, length) = (
                head[0],
                u32::from_le_bytes(head[1..5].try_into().unwrap()) as u64,
            );
            if block_name(kind).is_none() || offset as u64 + BLOCK_HEAD as u64 + length > end {
                scan.truncated_at = Some(offset);
                let label = block_name(kind).unwrap_or("block");
                let what = if block_name(kind).is_some() {
                    "cut short".to_string()
                } else {
                    format!("unknown block type {kind}")
                };
                scan.problems.push(Problem {
                    offset,
                    message: format!(
                        "{label} block: {what}; nothing after this offset can be read"
                    ),
                });
                break;
            }
            let next = offset + BLOCK_HEAD as i64 + length as i64;
            match read_raw_with(
                &self.name,
                offset,
                end,
                None,
                zdicts.get(&kind).map(Vec::as_slice),
                |a, n| self.read(a, n),
            ) {
                Ok((kind, raw, _)) => {
                    if kind == DICTIONARY {
                        match unpack(&raw).ok().as_ref().and_then(Value::as_list) {
                            Some([kinds, Value::Bin(zd)]) => {
                                seen.push(zd.to_vec());
                                for k in kinds.as_list().unwrap_or(&[]) {
                                    if let Some(k) = k.as_int() {
                                        zdicts.insert(k as u8, zd.to_vec());
                                    }
                                }
                            }
                            _ => scan.problems.push(Problem {
                                offset,
                                message: "compression dictionary block: bad compression dictionary"
                                    .into(),
                            }),
                        }
                    }
                    scan.blocks += 1;
                    out.push((offset, kind, raw));
                }
                Err(e) => {
                    if !uncompressed(kind) {
                        retry.push((offset, scan.problems.len()));
                    }
                    scan.problems.push(Problem {
                        offset,
                        message: strip(&e.to_string(), &self.name),
                    })
                }
            }
            offset = next;
        }
        // a block moved before the dictionary it was compressed with: tried again with every dictionary met
        let mut recovered = Vec::new();
        for (at, problem) in retry {
            let found = seen.iter().find_map(|zd| {
                read_raw_with(&self.name, at, end, None, Some(zd), |a, n| self.read(a, n)).ok()
            });
            if let Some((kind, raw, _)) = found {
                scan.blocks += 1;
                out.push((at, kind, raw));
                recovered.push(problem);
            }
        }
        for i in recovered.into_iter().rev() {
            let p = scan.problems.remove(i);
            scan.fixed.push(format!(
                "the block at offset {} lay before its compression dictionary",
                p.offset
            ));
        }
        out.sort_by_key(|(at, _, _)| *at);
        Ok(out)
    }
}

fn strip(message: &str, name: &str) -> String {
    message
        .strip_prefix(&format!("{name}: "))
        .unwrap_or(message)
        .to_string()
}

fn meta_and_schema(raw: &[u8]) -> Result<(Value, Schema)> {
    let v = unpack(raw).map_err(|e| Error::Value(e.0))?;
    let Value::Map(m) = &v else {
        return Err(Error::Value("not a map".into()));
    };
    let get = |n: &str| {
        m.iter()
            .find(|(k, _)| k.as_str() == Some(n))
            .map(|(_, v)| v.clone())
    };
    let meta = get("meta").ok_or_else(|| Error::Value("no meta".into()))?;
    let schema =
        Schema::from_payload(&get("schema").ok_or_else(|| Error::Value("no schema".into()))?)?;
    Ok((meta, schema))
}

fn check_payload(kind: u8, raw: &[u8], where_: &str, schema: &Schema) -> Result<()> {
    let bad = |e: String| Error::Trace(format!("{where_}: {e}"));
    match kind {
        EVENTS => {
            EventBlock::decode(raw, schema, where_)?;
        }
        META => {
            meta_and_schema(raw).map_err(|e| bad(format!("bad metadata ({e})")))?;
        }
        PAGE => {
            let v = unpack(raw).map_err(|e| bad(format!("malformed payload ({})", e.0)))?;
            for (slot, blob) in v.as_list().unwrap_or(&[]).iter().enumerate() {
                let w = format!("{where_}, page {slot}");
                let Value::Bin(b) = blob else {
                    return Err(bad(format!("page {slot} is not bytes")));
                };
                decode_page(
                    &unpack(b)
                        .map_err(|e| Error::Trace(format!("{w}: malformed payload ({})", e.0)))?,
                    &w,
                )?;
            }
        }
        WORKSET => {
            decode_workset(
                &unpack(raw).map_err(|e| bad(format!("malformed payload ({})", e.0)))?,
                where_,
            )?;
        }
        _ => {
            unpack(raw).map_err(|e| bad(format!("malformed payload ({})", e.0)))?;
        }
    }
    Ok(())
}

fn require_blocks(scan: &Scan, name: &str) -> Result<()> {
    if scan.blocks == 0 && scan.problems.iter().any(|p| p.offset == 0) {
        return Err(Error::Trace(format!(
            "{name}: not an oomtrace file (no header and no readable block)"
        )));
    }
    Ok(())
}

/// Check every block's frame, CRC and payload, then that the index opens and that each of its entries points at a
/// block of the type (and, for event blocks, the first seq) it says: a swapped or misplaced block is found.
pub fn verify(path: &Path) -> Result<Scan> {
    let walk = Walk::open(path)?;
    let mut scan = Scan {
        size: walk.size,
        ..Scan::default()
    };
    walk.header(&mut scan)?;
    let mut schema = Schema::current();
    let mut types: BTreeMap<i64, (u8, Option<i64>)> = BTreeMap::new();
    let mut first_block = true;
    for (offset, kind, raw) in walk.blocks(&mut scan)? {
        let where_ = format!("{} block at offset {offset}", block_name(kind).unwrap());
        if first_block && offset == HEADER_SIZE as i64 && kind != META {
            scan.problems.push(Problem {
                offset,
                message: format!("{where_}: the first block is not the meta block"),
            });
        }
        first_block = false;
        if let Err(e) = check_payload(kind, &raw, &where_, &schema) {
            scan.problems.push(Problem {
                offset,
                message: e.to_string(),
            });
            continue;
        }
        if kind == META {
            schema = meta_and_schema(&raw)?.1;
        }
        let first_seq = if kind == EVENTS {
            let b = EventBlock::decode(&raw, &schema, &where_)?;
            scan.events += b.len() as i64;
            Some(b.first_seq)
        } else {
            None
        };
        types.insert(offset, (kind, first_seq));
    }
    require_blocks(&scan, &walk.name)?;
    // the index against the blocks even when something else is wrong (a meta block swapped with an events
    // block is found first as "not the meta block"; where each entry points is the rest of the story); a
    // damaged block is reported once, not again by every entry pointing at it
    let damaged: Vec<i64> = scan.problems.iter().map(|p| p.offset).collect();
    match Trace::open(path) {
        Ok(t) => {
            let mut found = Scan::default();
            index_points_right(&t, &types, scan.events, &mut found);
            scan.problems.extend(
                found
                    .problems
                    .into_iter()
                    .filter(|p| !damaged.contains(&p.offset)),
            );
        }
        Err(e) if scan.problems.is_empty() => scan.problems.push(Problem {
            offset: scan.size as i64,
            message: strip(&e.to_string(), &walk.name),
        }),
        Err(_) => {}
    }
    Ok(scan)
}

/// "an events block", "a meta block".
fn a_block(kind: u8) -> String {
    let name = block_name(kind).unwrap_or("unknown");
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {name} block")
}

/// Each index entry against the block at its offset.
fn index_points_right(
    t: &Trace,
    types: &BTreeMap<i64, (u8, Option<i64>)>,
    events: i64,
    scan: &mut Scan,
) {
    let ix = t.index();
    let event_blocks = types.values().filter(|(k, _)| *k == EVENTS).count();
    if t.len() != events || ix.block_off.len() != event_blocks {
        scan.problems.push(Problem {
            offset: t.inner.end as i64,
            message: format!(
                "index lists {} events in {} blocks; the file holds {events} in {event_blocks}",
                t.len(),
                ix.block_off.len()
            ),
        });
    }
    let mut expect = |offset: i64, kind: u8, what: &str, seq: Option<i64>| match types.get(&offset)
    {
        Some((k, s)) if *k == kind && (seq.is_none() || *s == seq) => {}
        Some((k, s)) => {
            let found = match s {
                Some(s) if *k == kind => {
                    format!("{} starting at seq {s}", a_block(*k))
                }
                _ => a_block(*k),
            };
            let wanted = seq.map_or(String::new(), |s| format!(" starting at seq {s}"));
            scan.problems.push(Problem {
                offset,
                message: format!(
                    "the index's {what} points at {found}, not {}{wanted}",
                    a_block(kind)
                ),
            });
        }
        None => scan.problems.push(Problem {
            offset,
            message: format!("the index's {what} points at no block"),
        }),
    };
    for (i, (off, seq)) in ix.block_off.iter().zip(ix.block_seq.iter()).enumerate() {
        expect(*off, EVENTS, &format!("events block {i}"), Some(*seq));
    }
    for (i, off) in ix.kf_off.iter().enumerate() {
        expect(*off, KEYFRAME, &format!("keyframe {i}"), None);
    }
    for (i, off) in ix.kf_workset.iter().enumerate().filter(|(_, o)| **o >= 0) {
        expect(*off, WORKSET, &format!("working set {i}"), None);
    }
    for (i, off) in ix.page_block_off.iter().enumerate() {
        expect(*off, PAGE, &format!("page block {i}"), None);
    }
    for (i, (off, _)) in ix.dictionaries.iter().enumerate() {
        expect(*off, DICTIONARY, &format!("dictionary {i}"), None);
    }
    for (f, (_, _, _, offsets)) in ix.sources.iter().enumerate() {
        for off in offsets {
            expect(*off, SOURCE, &format!("source {f} text"), None);
        }
    }
    expect(ix.directory, DIRECTORY, "change-list directory", None);
    expect(ix.overview, OVERVIEW, "overview", None);
}

/// Write to `out` a trace holding every whole event block and source chunk of `path`, in seq order.
pub fn repair(path: &Path, out: &Path) -> Result<Scan> {
    let walk = Walk::open(path)?;
    let mut scan = Scan {
        size: walk.size,
        ..Scan::default()
    };
    walk.header(&mut scan)?;
    let mut meta: Option<Value> = None;
    let mut schema = Schema::current();
    let mut sources: BTreeMap<i64, String> = BTreeMap::new();
    let mut chunks: BTreeMap<i64, Vec<(i64, Vec<Str>)>> = BTreeMap::new();
    let mut blocks: Vec<(i64, EventBlock)> = Vec::new();
    for (offset, kind, raw) in walk.blocks(&mut scan)? {
        let label = block_name(kind).unwrap();
        if kind == META && offset != HEADER_SIZE as i64 && meta.is_none() {
            scan.fixed.push(format!(
                "the meta block was at offset {offset}, not first: it was put back in front"
            ));
        }
        let done: Result<()> = (|| {
            let v = || unpack(&raw).map_err(|e| Error::Value(e.0));
            match kind {
                META if meta.is_none() => {
                    let (m, s) = meta_and_schema(&raw)?;
                    meta = Some(m);
                    schema = s;
                }
                INDEX => {
                    if let Value::Map(m) = v()? {
                        if let Some((_, m)) = m.iter().find(|(k, _)| k.as_str() == Some("meta")) {
                            meta = Some(m.clone()); // the final metadata, when the index survived
                        }
                    }
                }
                SOURCE_FILE => match v()?.as_list() {
                    Some([Value::Int(id), name]) => {
                        sources.insert(*id, name.to_string());
                    }
                    _ => return Err(Error::Value("not [id, name]".into())),
                },
                SOURCE => match v()?.as_list() {
                    Some([Value::Int(id), Value::Int(first), Value::Str(text)]) => {
                        chunks
                            .entry(*id)
                            .or_default()
                            .push((*first, text.split('\n').map(Str::from).collect()));
                    }
                    _ => return Err(Error::Value("not [id, first line, text]".into())),
                },
                EVENTS => blocks.push((
                    offset,
                    EventBlock::decode(&raw, &schema, &format!("events block at offset {offset}"))?,
                )),
                _ => {}
            }
            Ok(())
        })();
        if let Err(e) = done {
            scan.problems.push(Problem {
                offset,
                message: format!("{label} block: unusable ({e})"),
            });
        }
    }
    require_blocks(&scan, &walk.name)?;
    scan.meta = meta.unwrap_or(Value::Map(std::sync::Arc::from(Vec::new())));
    let in_file_order: Vec<i64> = blocks.iter().map(|(_, b)| b.first_seq).collect();
    blocks.sort_by_key(|(_, b)| b.first_seq);
    if in_file_order.windows(2).any(|w| w[0] > w[1]) {
        scan.fixed
            .push("event blocks out of order in the file were put back in seq order".into());
    }
    let mut w = TraceWriter::create(out, &scan.meta, false)?;
    let last_source = sources
        .keys()
        .chain(chunks.keys())
        .max()
        .copied()
        .unwrap_or(-1);
    for id in 0..=last_source {
        let name = sources.get(&id).cloned().unwrap_or_else(|| {
            scan.fixed.push(format!("source {id} had lost its name"));
            format!("(lost source {id})")
        });
        w.add_source(&name)?;
        let mut expected = 1;
        let mut cs = chunks.remove(&id).unwrap_or_default();
        cs.sort_by_key(|(f, _)| *f);
        for (first, lines) in cs {
            if first > expected {
                // keep later line numbers right
                w.add_source_lines(
                    id,
                    std::iter::repeat_n(Str::from(""), (first - expected) as usize),
                )?;
                scan.fixed.push(format!(
                    "source {id}: lines {expected}..{} were lost",
                    first - 1
                ));
            }
            expected = first + lines.len() as i64;
            w.add_source_lines(id, lines)?;
        }
    }
    let mut last_ts: Option<i64> = None;
    let mut dropped = 0;
    for (_, block) in &blocks {
        for i in 0..block.len() {
            let mut ev = block.event(i);
            if last_ts.is_some_and(|l| ev.ts_ns < l) {
                dropped += 1;
                continue; // a stray block from before a damaged region; keep time monotonic
            }
            last_ts = Some(ev.ts_ns);
            ev.seq = None;
            w.append(ev)?;
            scan.events += 1;
        }
    }
    if dropped > 0 {
        scan.fixed.push(format!(
            "{dropped} events earlier than the ones before them were dropped"
        ));
    }
    w.close(&scan.meta)?;
    Ok(scan)
}
