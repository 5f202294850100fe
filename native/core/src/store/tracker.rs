//! The writer's state machine: applies each finished block of events and takes the keyframes.
//!
//! It writes its pages, working sets and keyframes to a side file with offsets relative to that file's start; on
//! close the writer appends the side file to the trace and records where it begins. That separation is what lets
//! the tracker run on a thread of its own beside the encoder with the same output bytes.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::sync::Arc;

use super::compressor::{BlockCompressor, BLOCK_LEVEL};
use super::format::{frame, DICTIONARY, KEYFRAME, PAGE, WORKSET};
use super::msgpack::{pack_array_len, pack_bin, pack_int, pack_map_len, pack_opt_int, pack_str};
use super::pages::{
    full_map_payload, page_payload, patch_payload, pieces_payload, record_diff, workset_payload,
    Patch,
};
use super::tuning::Tuning;
use crate::error::Result;
use crate::model::schema::SCENE_CUTS;
use crate::model::state::{f, N_TABLES, TABLES, T_VICTIMS};
use crate::model::table::{Key, Page, PageRef, Rec};
use crate::model::{apply_only, Ev, Event, State};

/// How the page and working-set blocks share their compression dictionary.
const DICTIONARY_SHARES: &[(u8, usize)] = &[(PAGE, 64 << 10), (WORKSET, 64 << 10)];

/// What the tracker says at the end: where the keyframes are and what the final state holds.
#[derive(Debug, Default, Clone)]
pub struct Tracked {
    pub keyframe_seqs: Vec<i64>,
    pub keyframe_offsets: Vec<i64>,
    pub keyframe_worksets: Vec<i64>,
    pub keyframe_first_blocks: Vec<i64>,
    pub page_blocks: Vec<i64>,
    pub dictionary: Option<(i64, Vec<u8>)>,
    pub size: i64,
    /// (tasks, locks, ooms, victims, reaper outcomes in order of first appearance, anomalies)
    pub tasks: usize,
    pub locks: usize,
    pub ooms: usize,
    pub victims: usize,
    pub reaper_outcomes: Vec<(String, i64)>,
    pub anomalies: usize,
}

pub struct StateTracker<W: Write> {
    sink: W,
    offset: i64,
    pub state: State,
    n: usize,
    kf_at: usize,
    out: Tracked,
    kf_pages: Option<Vec<BTreeSet<i64>>>,
    page_map: Vec<BTreeMap<i64, PageRef>>,
    group: Vec<Vec<u8>>,
    group_full: Vec<u8>,
    since_whole: Vec<HashMap<i64, BTreeSet<Key>>>,
    whole: Vec<HashMap<i64, Arc<Page>>>,
    compressor: BlockCompressor,
    tuning: Tuning,
}

impl<W: Write> StateTracker<W> {
    pub fn new(sink: W, tuning: Tuning) -> Result<StateTracker<W>> {
        Ok(StateTracker {
            sink,
            offset: 0,
            state: State::writer(),
            n: 0,
            kf_at: 0,
            out: Tracked::default(),
            kf_pages: None,
            page_map: vec![BTreeMap::new(); N_TABLES],
            group: Vec::new(),
            group_full: Vec::new(),
            since_whole: vec![HashMap::new(); N_TABLES],
            whole: vec![HashMap::new(); N_TABLES],
            compressor: BlockCompressor::new(DICTIONARY_SHARES, BLOCK_LEVEL)?,
            tuning,
        })
    }

    fn emit(&mut self, kind: u8, raw: &[u8]) -> Result<i64> {
        let at = self.offset;
        let payload = self.compressor.compress(kind, raw)?;
        let mut framed = Vec::with_capacity(payload.len() + 9);
        frame(kind, &payload, &mut framed);
        self.sink.write_all(&framed)?;
        self.offset += framed.len() as i64;
        Ok(at)
    }

    /// Apply a block's events in place, taking a keyframe at the block's end and after each scene cut at least
    /// `Tuning::scene_cut_min_gap` away from the last keyframe and from the block's end: a seek then replays from its
    /// keyframe within one event block.
    pub fn feed(&mut self, first_seq: i64, events: &[Event]) -> Result<()> {
        let n = events.len();
        let base = self.n;
        let mut i = 0;
        while i < n {
            let cut_from =
                i.max((self.kf_at + self.tuning.scene_cut_min_gap).saturating_sub(1 + base));
            let cut_to = n.saturating_sub(self.tuning.scene_cut_min_gap);
            let cut = (cut_from < cut_to)
                .then(|| (cut_from..cut_to).find(|&j| SCENE_CUTS.contains(&events[j].kind)))
                .flatten();
            let end = cut.map_or(n, |c| c + 1);
            for (j, e) in events.iter().enumerate().take(end).skip(i) {
                let ev = Ev {
                    seq: Some(first_seq + j as i64),
                    ..Ev::of(e)
                };
                apply_only(&mut self.state, &ev)?;
            }
            self.state.seq = Some(first_seq + end as i64 - 1);
            self.state.ts_ns = Some(events[end - 1].ts_ns);
            self.n = base + end;
            i = end;
            self.keyframe()?;
        }
        Ok(())
    }

    /// Write the working set of the interval that ends here and the pages changed in it, and note which pieces this
    /// keyframe wrote; every `Tuning::full_map_every` keyframes the full page map and the notes of the keyframes since go
    /// out as one block.
    fn keyframe(&mut self) -> Result<()> {
        let k = self.out.keyframe_seqs.len();
        self.working_set()?;
        let (blobs, mut pieces, mut gone) = self.changed_pages(k as i64);
        self.out
            .keyframe_first_blocks
            .push(self.out.page_blocks.len() as i64);
        // pages go out in small blocks, so reading one page never inflates a whole keyframe's worth
        for chunk in blobs.chunks(self.tuning.pages_per_block) {
            let mut raw = Vec::new();
            pack_array_len(chunk.len(), &mut raw);
            for b in chunk {
                pack_bin(b, &mut raw);
            }
            let at = self.emit(PAGE, &raw)?;
            self.out.page_blocks.push(at);
        }
        if k % self.tuning.full_map_every == 0 {
            self.flush_group()?;
            self.group_full.clear();
            full_map_payload(k as i64, &self.page_map, &mut self.group_full);
            pieces = vec![Vec::new(); N_TABLES];
            gone = vec![Vec::new(); N_TABLES];
        }
        let s = &self.state;
        let mut entry = Vec::new();
        pack_array_len(5, &mut entry);
        pack_opt_int(s.seq, &mut entry);
        pack_opt_int(s.ts_ns, &mut entry);
        pack_array_len(N_TABLES, &mut entry);
        for t in &s.tables {
            pack_int(t.len() as i64, &mut entry);
        }
        pieces_payload(&pieces, &mut entry);
        let tables: Vec<usize> = (0..N_TABLES).filter(|t| !gone[*t].is_empty()).collect();
        pack_map_len(tables.len(), &mut entry);
        for t in tables {
            pack_str(TABLES[t].0, &mut entry);
            pack_array_len(gone[t].len(), &mut entry);
            for p in &gone[t] {
                pack_int(*p, &mut entry);
            }
        }
        self.group.push(entry);
        self.out.keyframe_seqs.push(s.seq.unwrap_or(-1));
        self.out.keyframe_worksets.push(-1);
        self.kf_pages = Some(
            s.tables
                .iter()
                .map(|t| t.page_numbers().into_iter().collect())
                .collect(),
        );
        self.kf_at = self.n;
        if k + 1 == self.tuning.state_dictionary_at {
            if let Some(zdict) = self.compressor.dictionary()?.map(|d| d.to_vec()) {
                let mut raw = Vec::new();
                let kinds = self.compressor.kinds();
                dictionary_payload(&kinds, &zdict, &mut raw);
                let at = self.emit(DICTIONARY, &raw)?;
                self.out.dictionary = Some((at, kinds));
            }
        }
        Ok(())
    }

    /// Write the pending keyframes as one block: the full page map of the first, then each one's seq, time, table
    /// lengths, pieces and pages gone.
    fn flush_group(&mut self) -> Result<()> {
        if self.group.is_empty() {
            return Ok(());
        }
        let first = self.out.keyframe_seqs.len() - self.group.len();
        let mut raw = Vec::new();
        pack_array_len(3, &mut raw);
        pack_int(first as i64, &mut raw);
        raw.extend_from_slice(&self.group_full);
        pack_array_len(self.group.len(), &mut raw);
        for e in &self.group {
            raw.extend_from_slice(e);
        }
        let at = self.emit(KEYFRAME, &raw)?;
        let n = self.group.len();
        self.out.keyframe_offsets.extend(std::iter::repeat_n(at, n));
        self.group.clear();
        Ok(())
    }

    /// The pieces of keyframe `k` (packed, in slot order), what each is, and the pages gone since the last
    /// keyframe; the page map is updated to match. A page is stored whole the first time, then as a patch holding
    /// every record changed since it was last stored whole, each as only the fields that differ; once the patch
    /// would cover half the page, whole again. A keyframe costs at most about twice what changed, and a reader
    /// needs at most two pieces per page.
    fn changed_pages(&mut self, k: i64) -> (Vec<Vec<u8>>, Vec<Vec<(i64, bool)>>, Vec<Vec<i64>>) {
        let mut blobs: Vec<Vec<u8>> = Vec::new();
        let mut pieces = vec![Vec::new(); N_TABLES];
        let mut gone = vec![Vec::new(); N_TABLES];
        for t in 0..N_TABLES {
            let table = &mut self.state.tables[t];
            let dirty = table
                .dirty
                .as_mut()
                .expect("the tracker's tables are writer tables");
            if dirty.is_empty() {
                continue;
            }
            let mut by_page: BTreeMap<i64, Vec<Key>> = BTreeMap::new();
            for key in dirty.keys() {
                by_page
                    .entry(TABLES[t].2.page_of(key))
                    .or_default()
                    .push(key.clone());
            }
            dirty.clear();
            let table = &self.state.tables[t];
            for (p, keys) in by_page {
                let page = table.plain_page(p).filter(|pg| !pg.is_empty());
                let Some(page) = page else {
                    if self.page_map[t].remove(&p).is_some() {
                        gone[t].push(p);
                    }
                    self.whole[t].remove(&p);
                    self.since_whole[t].remove(&p);
                    continue;
                };
                let changed = self.since_whole[t].entry(p).or_default();
                changed.extend(keys);
                let whole = !self.page_map[t].contains_key(&p) || 2 * changed.len() > page.len();
                pieces[t].push((p, whole));
                let mut blob = Vec::new();
                if whole {
                    page_payload(t, p, page, &mut blob);
                    self.whole[t].insert(p, page.clone());
                    changed.clear();
                    blobs.push(blob);
                    self.page_map[t].insert(
                        p,
                        PageRef {
                            k,
                            slot: blobs.len() as i64 - 1,
                            patch: None,
                        },
                    );
                } else {
                    let base = &self.whole[t][&p];
                    let rows: BTreeMap<Key, Patch> = changed
                        .iter()
                        .map(|key| (key.clone(), record_diff(base.get(key), page.get(key))))
                        .collect();
                    patch_payload(t, p, &rows, &mut blob);
                    blobs.push(blob);
                    let r = self.page_map[t].get_mut(&p).unwrap();
                    r.patch = Some((k, blobs.len() as i64 - 1));
                }
            }
        }
        (blobs, pieces, gone)
    }

    /// Write the working set of the interval ending now: the value at its keyframe of every record written since
    /// (None: absent then), on pages the keyframe had, so a reader replaying into the interval needs no page.
    fn working_set(&mut self) -> Result<()> {
        let Some(before) = &self.kf_pages else {
            return Ok(());
        };
        let mut known: Vec<BTreeMap<i64, BTreeMap<Key, Option<Rec>>>> =
            vec![BTreeMap::new(); N_TABLES];
        for (t, table) in self.state.tables.iter().enumerate() {
            for (key, old) in table.dirty.as_ref().expect("writer tables") {
                let p = TABLES[t].2.page_of(key);
                if before[t].contains(&p) {
                    known[t]
                        .entry(p)
                        .or_default()
                        .insert(key.clone(), old.clone());
                }
            }
        }
        if known.iter().all(|m| m.is_empty()) {
            return Ok(());
        }
        let mut raw = Vec::new();
        workset_payload(&known, &mut raw);
        let at = self.emit(WORKSET, &raw)?;
        *self
            .out
            .keyframe_worksets
            .last_mut()
            .expect("a keyframe before this one") = at;
        Ok(())
    }

    /// Take the last keyframe and say where the keyframes are and what the final state holds.
    pub fn finish(mut self) -> Result<(Tracked, W)> {
        if self.n > 0 && self.kf_at != self.n {
            self.keyframe()?;
        }
        self.flush_group()?;
        self.sink.flush()?;
        let s = &self.state;
        let mut outcomes: Vec<(String, i64)> = Vec::new();
        for v in s.tables[T_VICTIMS].values()? {
            let o = v[f::victim::OUTCOME]
                .as_str()
                .filter(|o| !o.is_empty())
                .unwrap_or("pending")
                .to_string();
            match outcomes.iter_mut().find(|(name, _)| *name == o) {
                Some(slot) => slot.1 += 1,
                None => outcomes.push((o, 1)),
            }
        }
        let mut out = self.out;
        out.size = self.offset;
        out.tasks = s.tables[0].len();
        out.locks = s.tables[2].len();
        out.ooms = s.tables[6].len();
        out.victims = s.tables[T_VICTIMS].len();
        out.anomalies = s.tables[8].len();
        out.reaper_outcomes = outcomes;
        Ok((out, self.sink))
    }
}

/// `[kinds, dictionary bytes]`.
pub fn dictionary_payload(kinds: &[u8], zdict: &[u8], out: &mut Vec<u8>) {
    pack_array_len(2, out);
    pack_array_len(kinds.len(), out);
    for k in kinds {
        pack_int(*k as i64, out);
    }
    pack_bin(zdict, out);
}
