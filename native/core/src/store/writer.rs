//! `TraceWriter`: append events (and source text), get a complete, indexed `.oomtrace` on close.
//!
//! The writer keeps only what the next blocks need: one block of events, the pending change lists and the
//! fixed-size overview here, the current state in the tracker (on a thread of its own when `parallel`), so memory
//! does not grow with the input. It writes to a hidden temporary name beside the target and renames it into place
//! only once the trailer is on disk: a crash, a kill or an error never leaves a file under the final name.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use super::changelists::{ChangeListWriter, ListKey};
use super::codec::{block_payload, kind_names, Schema};
use super::compressor::{BlockCompressor, BLOCK_LEVEL};
use super::format::*;
use super::msgpack::{
    pack, pack_array_len, pack_bin, pack_int, pack_map_len, pack_opt_int, pack_str,
};
use super::overview::OverviewWriter;
use super::tracker::{StateTracker, Tracked};
use super::tuning::Tuning;
use crate::error::{Error, Result};
use crate::model::schema::{kind, KINDS};
use crate::model::state::TABLES;
use crate::model::table::Key;
use crate::model::value::{Str, Value};
use crate::model::zone_key;
use crate::model::Event;

const DICTIONARY_SHARES: &[(u8, usize)] = &[(EVENTS, 128 << 10), (POSTINGS, 32 << 10)];
const SOURCE_CHUNK_LINES: usize = 1024;
/// zstd's fastest level for the source text: on the corpus's logs as small as level 5, four times as fast.
const SOURCE_LEVEL: i32 = 1;

struct Source {
    name: Str,
    lines: i64,
    pending: Vec<Str>,
    firsts: Vec<i64>,
    offsets: Vec<i64>,
}

type TrackerResult = Result<(Tracked, BufWriter<File>)>;

enum Tracker {
    Local(StateTracker<BufWriter<File>>),
    Thread {
        tx: Option<SyncSender<(i64, Vec<Event>)>>,
        handle: Option<JoinHandle<TrackerResult>>,
    },
    Done,
}

impl Tracker {
    fn thread(sink: BufWriter<File>, tuning: Tuning) -> Result<Tracker> {
        let mut tracker = StateTracker::new(sink, tuning)?;
        // a few blocks in flight: the bounded channel is the back-pressure when the state machine is the slower
        let (tx, rx): (SyncSender<(i64, Vec<Event>)>, Receiver<(i64, Vec<Event>)>) =
            sync_channel(4);
        let handle = std::thread::Builder::new()
            .name("oomreplay-tracker".into())
            .spawn(move || {
                for (first, events) in rx {
                    tracker.feed(first, &events)?;
                }
                tracker.finish()
            })?;
        Ok(Tracker::Thread {
            tx: Some(tx),
            handle: Some(handle),
        })
    }

    fn feed(&mut self, first: i64, events: Vec<Event>) -> Result<()> {
        match self {
            Tracker::Local(t) => t.feed(first, &events),
            Tracker::Thread { tx, handle } => {
                if tx
                    .as_ref()
                    .is_some_and(|tx| tx.send((first, events)).is_ok())
                {
                    return Ok(());
                }
                // the thread stopped: its error says why
                tx.take();
                Err(join(handle.take())
                    .err()
                    .unwrap_or_else(|| Error::Value("the state tracker stopped".into())))
            }
            Tracker::Done => Err(Error::Value("the writer is closed".into())),
        }
    }

    fn finish(&mut self) -> TrackerResult {
        match std::mem::replace(self, Tracker::Done) {
            Tracker::Local(t) => t.finish(),
            Tracker::Thread { tx, handle } => {
                drop(tx);
                join(handle)
            }
            Tracker::Done => Err(Error::Value("the writer is closed".into())),
        }
    }
}

fn join(handle: Option<JoinHandle<TrackerResult>>) -> TrackerResult {
    match handle.map(JoinHandle::join) {
        Some(Ok(r)) => r,
        Some(Err(_)) => Err(Error::Value(
            "the trace writer's state tracker failed".into(),
        )),
        None => Err(Error::Value(
            "the trace writer's state tracker is gone".into(),
        )),
    }
}

pub struct TraceWriter {
    path: PathBuf,
    tmp: PathBuf,
    side: PathBuf,
    file: Option<BufWriter<File>>,
    offset: i64,
    n: i64,
    last_ts: Option<i64>,
    pending: Vec<Event>,
    blocks: [Vec<i64>; 3],
    kinds: Vec<(u8, i64)>,
    changes: ChangeListWriter,
    overview: OverviewWriter,
    free_by_zone: HashMap<Key, i64>,
    free_total: i64,
    sources: Vec<Source>,
    compressor: BlockCompressor,
    zdict_offset: i64,
    tracker: Tracker,
    closed: bool,
    tuning: Tuning,
}

/// Compress and frame a change-list chunk and write it at the end of the file; its offset.
fn emit_postings(
    file: &mut Option<BufWriter<File>>,
    offset: &mut i64,
    compressor: &mut BlockCompressor,
    raw: &[u8],
) -> Result<i64> {
    let z = compressor.compress(POSTINGS, raw)?;
    let mut framed = Vec::with_capacity(z.len() + BLOCK_HEAD);
    frame(POSTINGS, &z, &mut framed);
    let at = *offset;
    file.as_mut()
        .ok_or_else(|| Error::Value("the writer is closed".into()))?
        .write_all(&framed)?;
    *offset += framed.len() as i64;
    Ok(at)
}

fn partial(path: &Path, what: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}{what}.partial", std::process::id()))
}

impl TraceWriter {
    /// `parallel`: the state machine on a thread of its own (worth it from about 10^5 events on).
    pub fn create(path: impl AsRef<Path>, meta: &Value, parallel: bool) -> Result<TraceWriter> {
        TraceWriter::create_tuned(path, meta, parallel, Tuning::default())
    }

    /// `create` with other sizes (tests: small blocks and keyframes, early dictionaries).
    pub fn create_tuned(
        path: impl AsRef<Path>,
        meta: &Value,
        parallel: bool,
        tuning: Tuning,
    ) -> Result<TraceWriter> {
        let tuning = tuning.checked().map_err(Error::Value)?;
        let path = path.as_ref().to_path_buf();
        // a writer of this target killed before now left its temporaries: they go (see `partials`)
        super::partials::remove_stale(&path);
        let (tmp, side) = (partial(&path, ""), partial(&path, ".state"));
        let file = BufWriter::with_capacity(1 << 20, File::create(&tmp)?);
        let mut w = TraceWriter {
            path,
            tmp,
            side,
            file: Some(file),
            offset: 0,
            n: 0,
            last_ts: None,
            pending: Vec::with_capacity(tuning.block_events),
            blocks: [Vec::new(), Vec::new(), Vec::new()],
            kinds: Vec::new(),
            changes: ChangeListWriter::new(tuning.chunk),
            overview: OverviewWriter::default(),
            free_by_zone: HashMap::new(),
            free_total: 0,
            sources: Vec::new(),
            compressor: BlockCompressor::new(DICTIONARY_SHARES, BLOCK_LEVEL)?,
            zdict_offset: -1,
            tracker: Tracker::Done,
            closed: false,
            tuning,
        };
        let started = (|| -> Result<()> {
            let sink = BufWriter::with_capacity(1 << 20, File::create(&w.side)?);
            w.tracker = if parallel {
                Tracker::thread(sink, tuning)?
            } else {
                Tracker::Local(StateTracker::new(sink, tuning)?)
            };
            w.write(&header_bytes(FORMAT_VERSION))?;
            let mut raw = Vec::new();
            pack_map_len(2, &mut raw);
            pack_str("meta", &mut raw);
            pack(meta, &mut raw);
            pack_str("schema", &mut raw);
            pack(&Schema::current().payload(), &mut raw);
            w.emit_plain(META, &raw)?;
            Ok(())
        })();
        if let Err(e) = started {
            w.abort();
            return Err(e);
        }
        Ok(w)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write(&mut self, data: &[u8]) -> Result<i64> {
        let at = self.offset;
        self.file
            .as_mut()
            .ok_or_else(|| Error::Value("the writer is closed".into()))?
            .write_all(data)?;
        self.offset += data.len() as i64;
        Ok(at)
    }

    fn emit_plain(&mut self, kind: u8, payload: &[u8]) -> Result<i64> {
        let mut framed = Vec::with_capacity(payload.len() + BLOCK_HEAD);
        frame(kind, payload, &mut framed);
        self.write(&framed)
    }

    fn emit(&mut self, kind: u8, raw: &[u8]) -> Result<i64> {
        let z = self.compressor.compress(kind, raw)?;
        self.emit_plain(kind, &z)
    }

    pub fn len(&self) -> i64 {
        self.n + self.pending.len() as i64
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Store `ev` as the next event and return its seq. Times must not go backwards.
    pub fn append(&mut self, ev: Event) -> Result<i64> {
        if let Some(last) = self.last_ts {
            if ev.ts_ns < last {
                return Err(Error::Value(format!(
                    "event {} ({}) at {} ns is earlier than the previous one ({last} ns); sort or clamp before writing",
                    self.len(),
                    KINDS[ev.kind as usize].0,
                    ev.ts_ns
                )));
            }
        }
        self.last_ts = Some(ev.ts_ns);
        self.pending.push(ev);
        let seq = self.len() - 1;
        if self.pending.len() >= self.tuning.block_events {
            self.flush_events()?;
        }
        Ok(seq)
    }

    /// A `log` event (no pid) for each of the consecutive lines of source `file_id` from `first_line`.
    pub fn append_logs(
        &mut self,
        ts: &[i64],
        texts: Vec<Str>,
        file_id: i64,
        first_line: i64,
    ) -> Result<()> {
        if ts.len() != texts.len() {
            return Err(Error::Value(format!(
                "{} times for {} lines",
                ts.len(),
                texts.len()
            )));
        }
        if ts.is_empty() {
            return Ok(());
        }
        if self.last_ts.is_some_and(|l| ts[0] < l) || ts.windows(2).any(|w| w[0] > w[1]) {
            return Err(Error::Value(format!(
                "log lines from {first_line} go back in time; sort or clamp before writing"
            )));
        }
        for (i, (t, text)) in ts.iter().zip(texts).enumerate() {
            let mut e = Event::new(*t, kind::LOG, None);
            e.values[0] = Value::Str(text);
            e.src = Some((file_id, first_line + i as i64));
            self.last_ts = Some(*t);
            self.pending.push(e);
            if self.pending.len() >= self.tuning.block_events {
                self.flush_events()?;
            }
        }
        Ok(())
    }

    fn flush_events(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let first = self.n;
        let events = std::mem::replace(
            &mut self.pending,
            Vec::with_capacity(self.tuning.block_events),
        );
        let mut raw = Vec::with_capacity(events.len() * 32);
        block_payload(first, &events, &mut raw);
        let offset = self.emit(EVENTS, &raw)?;
        self.blocks[0].push(offset);
        self.blocks[1].push(first);
        self.blocks[2].push(events[0].ts_ns);
        self.n = first + events.len() as i64;
        self.index_block(first, &events)?;
        self.tracker.feed(first, events)?;
        if self.blocks[0].len() == self.tuning.dictionary_at {
            if let Some(zdict) = self.compressor.dictionary()?.map(|d| d.to_vec()) {
                let mut raw = Vec::new();
                super::tracker::dictionary_payload(&self.compressor.kinds(), &zdict, &mut raw);
                self.zdict_offset = self.emit(DICTIONARY, &raw)?;
            }
        }
        Ok(())
    }

    /// Change lists, overview and counts for a whole block: keys in order of first appearance in the block
    /// (kinds, then pids, then entities), as the reader's directory lists them.
    fn index_block(&mut self, first: i64, events: &[Event]) -> Result<()> {
        // the overview's origin is the first event's time; then its resolution for the whole block, before any of it
        self.overview.t0.get_or_insert(events[0].ts_ns);
        self.overview.fit(events.last().unwrap().ts_ns);
        let names = kind_names();
        let mut items: Vec<(ListKey, Vec<i64>)> = Vec::new();
        let mut kinds_at: HashMap<u8, usize> = HashMap::new();
        let mut pids: Vec<(ListKey, Vec<i64>)> = Vec::new();
        let mut pids_at: HashMap<i64, usize> = HashMap::new();
        let mut entities: Vec<(ListKey, Vec<i64>)> = Vec::new();
        let mut entities_at: HashMap<Str, usize> = HashMap::new();
        for (i, e) in events.iter().enumerate() {
            let seq = first + i as i64;
            let at = *kinds_at.entry(e.kind).or_insert_with(|| {
                items.push((ListKey::Kind(names[e.kind as usize].clone()), Vec::new()));
                items.len() - 1
            });
            items[at].1.push(seq);
            match self.kinds.iter_mut().find(|(k, _)| *k == e.kind) {
                Some(c) => c.1 += 1,
                None => self.kinds.push((e.kind, 1)),
            }
            if let Some(pid) = e.pid {
                let at = *pids_at.entry(pid).or_insert_with(|| {
                    pids.push((ListKey::Pid(pid), Vec::new()));
                    pids.len() - 1
                });
                pids[at].1.push(seq);
            }
            if let Some(name) = self.entity(e) {
                let at = *entities_at.entry(name.clone()).or_insert_with(|| {
                    entities.push((ListKey::Entity(name), Vec::new()));
                    entities.len() - 1
                });
                entities[at].1.push(seq);
            }
            self.overview.add(e.ts_ns, e.kind);
        }
        items.extend(pids);
        items.extend(entities);
        let (file, offset, compressor) = (&mut self.file, &mut self.offset, &mut self.compressor);
        let mut emit = |raw: &[u8]| emit_postings(file, offset, compressor, raw);
        self.changes.extend_many(items, &mut emit)
    }

    /// The non-task entity an event is about (a lock, a zone, a memcg), and the zones' free memory on the way.
    fn entity(&mut self, e: &Event) -> Option<Str> {
        match e.kind {
            kind::LOCK_ACQUIRE | kind::LOCK_CONTENDED | kind::LOCK_RELEASE | kind::LOCK_HELD => {
                let v = &e.values[0];
                v.truthy().then(|| Str::from(format!("lock:{v}")))
            }
            kind::ZONE => {
                let key = zone_key(&e.values[0], &e.values[1]);
                let Key::Zone(node, zone) = &key else {
                    unreachable!()
                };
                let name = Str::from(format!("zone:{node}:{zone}"));
                if let Some(free) = e.values[2].as_int() {
                    self.free_total += free - self.free_by_zone.get(&key).copied().unwrap_or(0);
                    self.free_by_zone.insert(key, free);
                    self.overview.free(e.ts_ns, self.free_total);
                }
                Some(name)
            }
            kind::MEMCG => Some(Str::from(format!(
                "memcg:{}",
                e.values[0].or(&Value::str("/"))
            ))),
            _ => None,
        }
    }

    /// Declare a source file (a log, a recording); returns the id events use in `src`.
    pub fn add_source(&mut self, name: &str) -> Result<i64> {
        let id = self.sources.len() as i64;
        self.sources.push(Source {
            name: Str::from(name),
            lines: 0,
            pending: Vec::new(),
            firsts: Vec::new(),
            offsets: Vec::new(),
        });
        let mut raw = Vec::new();
        pack_array_len(2, &mut raw);
        pack_int(id, &mut raw);
        pack_str(name, &mut raw);
        self.emit_plain(SOURCE_FILE, &raw)?;
        Ok(id)
    }

    /// Append lines (without their newlines) to a source; they are numbered from 1 in order.
    pub fn add_source_lines(
        &mut self,
        file_id: i64,
        lines: impl IntoIterator<Item = Str>,
    ) -> Result<()> {
        let i = self.source_index(file_id)?;
        for line in lines {
            self.sources[i].pending.push(line);
            if self.sources[i].pending.len() >= SOURCE_CHUNK_LINES {
                self.flush_source(i)?;
            }
        }
        Ok(())
    }

    fn source_index(&self, file_id: i64) -> Result<usize> {
        usize::try_from(file_id)
            .ok()
            .filter(|i| *i < self.sources.len())
            .ok_or_else(|| Error::Value(format!("no source {file_id}")))
    }

    fn flush_source(&mut self, i: usize) -> Result<()> {
        let src = &mut self.sources[i];
        if src.pending.is_empty() {
            return Ok(());
        }
        let first = src.lines + 1;
        let text = src.pending.join("\n");
        src.lines += src.pending.len() as i64;
        src.pending.clear();
        let mut raw = Vec::with_capacity(text.len() + 16);
        pack_array_len(3, &mut raw);
        pack_int(i as i64, &mut raw);
        pack_int(first, &mut raw);
        pack_str(&text, &mut raw);
        let z = Compressor::new(SOURCE_LEVEL, None)?.compress(&raw)?;
        let at = self.emit_plain(SOURCE, &z)?;
        self.sources[i].firsts.push(first);
        self.sources[i].offsets.push(at);
        Ok(())
    }

    /// Finish the file under the final metadata and move it to its final name.
    pub fn close(&mut self, meta: &Value) -> Result<PathBuf> {
        if self.closed {
            return Ok(self.path.clone());
        }
        let done = self.finish(meta);
        if done.is_err() {
            self.abort();
        }
        self.closed = true;
        done.map(|_| self.path.clone())
    }

    fn finish(&mut self, meta: &Value) -> Result<()> {
        self.flush_events()?;
        for i in 0..self.sources.len() {
            self.flush_source(i)?;
        }
        let (file, offset, compressor) = (&mut self.file, &mut self.offset, &mut self.compressor);
        let mut emit = |raw: &[u8]| emit_postings(file, offset, compressor, raw);
        self.changes.flush_all(&mut emit)?;
        let mut raw = Vec::new();
        self.changes.directory_payload(&mut raw);
        let directory = self.emit(DIRECTORY, &raw)?;
        raw.clear();
        self.overview.payload(&mut raw);
        let overview = self.emit(OVERVIEW, &raw)?;
        let (tracked, side) = self.tracker.finish()?;
        drop(side);
        let state_base = self.offset;
        let file = self.file.as_mut().unwrap();
        std::io::copy(&mut File::open(&self.side)?, file)?;
        self.offset += tracked.size;
        let moved = |v: &[i64]| -> Vec<i64> {
            v.iter()
                .map(|o| if *o < 0 { *o } else { state_base + o })
                .collect()
        };
        let mut raw = Vec::new();
        pack_map_len(15, &mut raw);
        pack_str("version", &mut raw);
        pack_int(FORMAT_VERSION as i64, &mut raw);
        pack_str("meta", &mut raw);
        pack(meta, &mut raw);
        pack_str("schema", &mut raw);
        pack(&Schema::current().payload(), &mut raw);
        pack_str("tables", &mut raw);
        pack_array_len(TABLES.len(), &mut raw);
        for (t, _, _) in TABLES {
            pack_str(t, &mut raw);
        }
        pack_str("count", &mut raw);
        pack_int(self.n, &mut raw);
        pack_str("first_ts", &mut raw);
        pack_opt_int(self.blocks[2].first().copied(), &mut raw);
        pack_str("last_ts", &mut raw);
        pack_opt_int(self.last_ts, &mut raw);
        pack_str("blocks", &mut raw);
        pack_array_len(3, &mut raw);
        for col in &self.blocks {
            pack_bin(&ints_to_bytes(col), &mut raw);
        }
        pack_str("keyframes", &mut raw);
        pack_array_len(4, &mut raw);
        pack_bin(&ints_to_bytes(&tracked.keyframe_seqs), &mut raw);
        pack_bin(&ints_to_bytes(&moved(&tracked.keyframe_offsets)), &mut raw);
        pack_bin(&ints_to_bytes(&moved(&tracked.keyframe_worksets)), &mut raw);
        pack_bin(&ints_to_bytes(&tracked.keyframe_first_blocks), &mut raw);
        pack_str("pages", &mut raw);
        pack_array_len(2, &mut raw);
        pack_bin(&ints_to_bytes(&moved(&tracked.page_blocks)), &mut raw);
        pack_int(self.tuning.pages_per_block as i64, &mut raw);
        pack_str("dictionaries", &mut raw);
        let mut dicts = Vec::new();
        if self.zdict_offset >= 0 {
            dicts.push((self.zdict_offset, self.compressor.kinds()));
        }
        if let Some((at, kinds)) = &tracked.dictionary {
            dicts.push((state_base + at, kinds.clone()));
        }
        pack_array_len(dicts.len(), &mut raw);
        for (at, kinds) in dicts {
            pack_array_len(2, &mut raw);
            pack_int(at, &mut raw);
            pack_array_len(kinds.len(), &mut raw);
            for k in kinds {
                pack_int(k as i64, &mut raw);
            }
        }
        pack_str("sources", &mut raw);
        pack_array_len(self.sources.len(), &mut raw);
        for s in &self.sources {
            pack_array_len(4, &mut raw);
            pack_str(&s.name, &mut raw);
            pack_int(s.lines, &mut raw);
            pack_bin(&ints_to_bytes(&s.firsts), &mut raw);
            pack_bin(&ints_to_bytes(&s.offsets), &mut raw);
        }
        pack_str("directory", &mut raw);
        pack_int(directory, &mut raw);
        pack_str("overview", &mut raw);
        pack_int(overview, &mut raw);
        pack_str("summary", &mut raw);
        self.summary_payload(&tracked, &mut raw);
        let at = self.emit(INDEX, &raw)?;
        self.write(&trailer_bytes(at as u64, FORMAT_VERSION))?;
        let mut file = self
            .file
            .take()
            .unwrap()
            .into_inner()
            .map_err(|e| Error::Io(e.into_error()))?;
        file.flush()?;
        file.sync_all()?;
        drop(file);
        let _ = std::fs::remove_file(&self.side);
        std::fs::rename(&self.tmp, &self.path)?;
        Ok(())
    }

    fn summary_payload(&self, t: &Tracked, raw: &mut Vec<u8>) {
        pack_map_len(9, raw);
        pack_str("events", raw);
        pack_int(self.n, raw);
        pack_str("kinds", raw);
        pack_map_len(self.kinds.len(), raw);
        for (k, n) in &self.kinds {
            pack_str(KINDS[*k as usize].0, raw);
            pack_int(*n, raw);
        }
        pack_str("kills", raw);
        pack_int(
            self.kinds
                .iter()
                .find(|(k, _)| *k == kind::OOM_KILL)
                .map_or(0, |(_, n)| *n),
            raw,
        );
        for (name, n) in [
            ("tasks", t.tasks),
            ("locks", t.locks),
            ("ooms", t.ooms),
            ("victims", t.victims),
        ] {
            pack_str(name, raw);
            pack_int(n as i64, raw);
        }
        pack_str("reaper_outcomes", raw);
        pack_map_len(t.reaper_outcomes.len(), raw);
        for (o, n) in &t.reaper_outcomes {
            pack_str(o, raw);
            pack_int(*n, raw);
        }
        pack_str("anomalies", raw);
        pack_int(t.anomalies as i64, raw);
    }

    /// Drop the partial files; the final name is never touched.
    pub fn abort(&mut self) {
        self.closed = true;
        if let Tracker::Thread { tx, .. } = &mut self.tracker {
            tx.take();
        }
        let _ = self.tracker.finish();
        self.file.take();
        let _ = std::fs::remove_file(&self.tmp);
        let _ = std::fs::remove_file(&self.side);
    }
}

impl Drop for TraceWriter {
    fn drop(&mut self) {
        if !self.closed {
            self.abort();
        }
    }
}
