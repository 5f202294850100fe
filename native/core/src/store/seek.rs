//! Seeking: the keyframe at or before a seq, its state with every page still in the file, and a replay within
//! one event block.
//!
//! A keyframe's state has its pages as references (resolved through its group's page map, `MapIndex`, only for
//! the pages asked for) with its working set laid over them, so a replay into the keyframe's interval mostly
//! decodes no page at all. The first seek into an interval gets that state to replay onto; from the second on
//! (stepping back through an interval asks for one keyframe again and again) it is kept, and each seek gets a copy
//! that shares its pages.

use std::collections::BTreeMap;
use std::sync::{Arc, Weak};

use super::format::{KEYFRAME, PAGE, WORKSET};
use super::msgpack::{unpack, Malformed, Reader};
use super::pages::{
    decode_page, decode_pieces, decode_workset, ints, read_full_map, table_of, FullMap, MapIndex,
    Patch,
};
use super::reader::{Inner, Trace};
use crate::error::{Error, Result};
use crate::model::apply_only;
use crate::model::state::{State, N_TABLES, TABLES};
use crate::model::table::{Key, Page, PageRef, PageSource, Table, UnreadIndex};
use crate::model::value::Value;

/// One keyframe block: the first keyframe's number, its full page map, and each keyframe's seq, time, table
/// lengths, and (as stored) its pieces and pages gone.
pub struct Group {
    first: i64,
    full: Vec<Option<Arc<FullMap>>>,
    records: Vec<(Option<i64>, Option<i64>, [usize; N_TABLES], Value, Value)>,
}

/// The reader as the cached keyframe states reach it: without keeping it alive.
struct Detached(Weak<Inner>);

impl PageSource for Detached {
    fn load(&self, r: &PageRef) -> Result<Arc<Page>> {
        match self.0.upgrade() {
            Some(inner) => inner.load(r),
            None => Err(crate::error::Error::Trace("the trace is closed".into())),
        }
    }
}

impl PageSource for Inner {
    fn load(&self, r: &PageRef) -> Result<Arc<Page>> {
        self.pages.get_or(r, || {
            let mut page: Page = match &*self.piece(r.k, r.slot)? {
                rows => rows
                    .iter()
                    .filter_map(|(k, p)| match p {
                        Patch::Whole(rec) => Some((k.clone(), rec.clone())),
                        _ => None,
                    })
                    .collect(),
            };
            if let Some((pk, ps)) = r.patch {
                for (key, p) in self.piece(pk, ps)?.iter() {
                    match p {
                        Patch::Deleted => {
                            page.remove(key);
                        }
                        Patch::Whole(rec) => {
                            page.insert(key.clone(), rec.clone());
                        }
                        Patch::Fields(fs) => {
                            let Some(old) = page.get(key) else {
                                return Err(Error::Trace(format!(
                                    "{}: state page {ps} of keyframe {pk}: patches a record its page does not have",
                                    self.name
                                )));
                            };
                            let new = super::pages::apply_diff(old, fs);
                            page.insert(key.clone(), new);
                        }
                    }
                }
            }
            Ok(Arc::new(page))
        })
    }
}

impl Inner {
    /// A whole page or a patch: piece `slot` of keyframe `k`, in one of that keyframe's page blocks.
    fn piece(&self, k: i64, slot: i64) -> Result<Arc<Vec<(Key, Patch)>>> {
        self.pieces.get_or(&(k, slot), || {
            let ix = &self.ix;
            let where_ = format!("{}: state page {slot} of keyframe {k}", self.name);
            let no_page = || Error::Trace(format!("{where_}: no such page"));
            let ku = usize::try_from(k)
                .ok()
                .filter(|k| *k < ix.kf_first_block.len())
                .ok_or_else(no_page)?;
            if slot < 0 {
                return Err(no_page());
            }
            let b = ix.kf_first_block[ku] + slot / ix.pages_per_block;
            let last = ix
                .kf_first_block
                .get(ku + 1)
                .copied()
                .unwrap_or(ix.page_block_off.len() as i64);
            if !(0..last).contains(&b) {
                return Err(no_page());
            }
            let offset = ix.page_block_off[b as usize];
            let i = (slot % ix.pages_per_block) as usize;
            let blobs = self
                .page_blocks
                .get_or(&offset, || match self.read(offset, PAGE)? {
                    Value::List(l) => Ok(Arc::new(l.to_vec())),
                    _ => Err(Error::Trace(format!(
                        "{}: state page block at offset {offset}: not a list",
                        self.name
                    ))),
                })?;
            let where_ = format!(
                "{}: state page {i} of the block at offset {offset}",
                self.name
            );
            let Some(Value::Bin(blob)) = blobs.get(i) else {
                return Err(Error::Trace(format!("{where_}: no such page")));
            };
            let payload = unpack(blob)
                .map_err(|e| Error::Trace(format!("{where_}: malformed payload ({})", e.0)))?;
            Ok(Arc::new(decode_page(&payload, &where_)?.2))
        })
    }

    fn group(&self, k: usize) -> Result<Arc<Group>> {
        let offset = self.ix.kf_off[k];
        let group = self.kf_groups.get_or(&offset, || {
            let bad = |e: String| {
                Error::Trace(format!(
                    "{}: keyframe at offset {offset}: bad keyframe ({e})",
                    self.name
                ))
            };
            let raw = self.read_raw(offset, KEYFRAME)?;
            let mut r = Reader::new(&raw);
            let m = |e: Malformed| bad(e.0);
            if r.array_len().map_err(m)? != 3 {
                return Err(bad("not [first, map, keyframes]".into()));
            }
            let first = r.int().map_err(m)?;
            let full = read_full_map(&mut r).map_err(|e| bad(e.to_string()))?;
            let mut records = Vec::new();
            for _ in 0..r.array_len().map_err(m)? {
                if r.array_len().map_err(m)? != 5 {
                    return Err(bad("a keyframe of other than 5 fields".into()));
                }
                let (seq, ts) = (r.opt_int().map_err(m)?, r.opt_int().map_err(m)?);
                let lengths = r.ints().map_err(m)?;
                if lengths.len() != self.ix.tables.len() {
                    return Err(bad(format!("{} table lengths", lengths.len())));
                }
                let mut by_table = [0usize; N_TABLES];
                for (t, n) in self.ix.tables.iter().zip(lengths) {
                    by_table[*t] =
                        usize::try_from(n).map_err(|_| bad("a negative length".into()))?;
                }
                let (pieces, gone) = (r.value().map_err(m)?, r.value().map_err(m)?);
                records.push((seq, ts, by_table, pieces, gone));
            }
            Ok(Arc::new(Group {
                first,
                full,
                records,
            }))
        })?;
        let at = k as i64 - group.first;
        if !(0..group.records.len() as i64).contains(&at) {
            return Err(Error::Trace(format!(
                "{}: keyframe at offset {offset}: holds keyframes {}..{}, the index says it holds keyframe {k}",
                self.name,
                group.first,
                group.first + group.records.len() as i64 - 1
            )));
        }
        Ok(group)
    }

    /// Where every page of keyframe `k` is: its group's full map, with the pieces and the pages gone of every
    /// keyframe since laid over it.
    fn page_map(&self, k: usize, group: &Group) -> Result<Vec<MapIndex>> {
        let where_ = format!("{}: keyframe at offset {}", self.name, self.ix.kf_off[k]);
        let mut maps: Vec<MapIndex> = (0..N_TABLES)
            .map(|t| {
                MapIndex::new(
                    group.first,
                    group.full[t].clone(),
                    &format!("{where_}, table {}", TABLES[t].0),
                )
            })
            .collect();
        for j in group.first + 1..=k as i64 {
            let rec = &group.records[(j - group.first) as usize];
            let bad = |e: Error| Error::Trace(format!("{where_}: bad keyframe ({e})"));
            let pieces = decode_pieces(&rec.3).map_err(bad)?;
            let mut gone = vec![Vec::new(); N_TABLES];
            if let Value::Map(m) = &rec.4 {
                for (t, pages) in m.iter() {
                    gone[table_of(t).map_err(bad)?] = ints(pages).map_err(bad)?;
                }
            }
            let mut slot = 0;
            for &t in &self.ix.tables {
                slot = maps[t].lay(j, slot, &pieces[t], &gone[t])?;
            }
        }
        Ok(maps)
    }

    /// Keyframe `k`'s state, its pages loaded through a weak handle on the reader (it may be cached).
    fn build_keyframe_state(self: &Arc<Self>, k: usize) -> Result<State> {
        let group = self.group(k)?;
        let (seq, ts, lengths, _, _) = &group.records[k - group.first as usize];
        let mut s = State::new();
        s.seq = *seq;
        s.ts_ns = *ts;
        let source = self.detached();
        for (t, index) in self.page_map(k, &group)?.into_iter().enumerate() {
            let unread: Arc<dyn UnreadIndex> = Arc::new(index);
            s.tables[t] = Table::lazy(TABLES[t].2, lengths[t], source.clone(), unread);
        }
        let at = self.ix.kf_workset[k];
        if at >= 0 {
            let where_ = format!("{}: working set at offset {at}", self.name);
            for (t, pages) in decode_workset(&self.read(at, WORKSET)?, &where_)? {
                for (p, known) in pages {
                    s.tables[t].know(p, known)?;
                }
            }
        }
        Ok(s)
    }

    /// Keyframe `k`'s state for a caller, holding the reader so its pages stay loadable while the state lives.
    fn keyframe_state(self: &Arc<Self>, k: usize) -> Result<State> {
        let mut s = match self.keyframes.get(&(k as i64)) {
            None => {
                self.keyframes.put(k as i64, None);
                self.build_keyframe_state(k)?
            }
            Some(None) => {
                let s = self.build_keyframe_state(k)?;
                self.keyframes.put(k as i64, Some(Arc::new(s.clone())));
                s
            }
            Some(Some(s)) => (*s).clone(),
        };
        let source: Arc<dyn PageSource> = self.clone();
        with_source(&mut s, &source);
        Ok(s)
    }

    /// The reader as the states it keeps (cached keyframes, the last state read) reach it: a strong handle would
    /// make a cycle (reader → cache → state → reader) that outlives the trace.
    fn detached(self: &Arc<Self>) -> Arc<dyn PageSource> {
        Arc::new(Detached(Arc::downgrade(self)))
    }

    fn replay(&self, state: &mut State, start: i64, last: i64) -> Result<()> {
        let mut seq = start;
        while seq <= last {
            let (block, i) = self.locate(seq)?;
            let stop = block.len().min((last + 1 - block.first_seq) as usize);
            for j in i..stop {
                apply_only(state, &block.ev(j))?;
            }
            if stop > i {
                state.seq = Some(block.first_seq + stop as i64 - 1);
                state.ts_ns = Some(block.ts[stop - 1]);
            }
            seq = block.first_seq + block.len() as i64;
        }
        Ok(())
    }
}

impl Trace {
    /// The state after the event `seq` (`-1`: before the first event).
    pub fn state_at(&self, seq: i64) -> Result<State> {
        let seq = self.check_seq(seq)?;
        let inner = &self.inner;
        let k = inner.ix.kf_seq.partition_point(|s| *s <= seq) as i64 - 1;
        let kf_seq = if k >= 0 {
            inner.ix.kf_seq[k as usize]
        } else {
            -1
        };
        let last = inner.last.lock().unwrap().clone();
        let (mut state, start) = match last {
            Some(l) if l.seq.is_some_and(|ls| kf_seq <= ls && ls <= seq) => {
                let start = l.seq.unwrap() + 1;
                (l, start)
            }
            _ if k >= 0 => (inner.keyframe_state(k as usize)?, kf_seq + 1),
            _ => (State::new(), 0),
        };
        let source: Arc<dyn PageSource> = inner.clone();
        with_source(&mut state, &source);
        inner.replay(&mut state, start, seq)?;
        let mut kept = state.clone();
        with_source(&mut kept, &inner.detached());
        *inner.last.lock().unwrap() = Some(kept);
        Ok(state)
    }
}

/// Every lazy table of `s` loads its pages through `source` from now on.
fn with_source(s: &mut State, source: &Arc<dyn PageSource>) {
    for t in &mut s.tables {
        t.set_source(source.clone());
    }
}

/// For tests: every page a table's keyframe map knows, loaded.
pub fn loaded_pages(t: &Table) -> Result<BTreeMap<i64, Arc<Page>>> {
    t.slots()?
        .iter()
        .map(|(p, s)| Ok((*p, t.page_in(s)?)))
        .collect()
}
