//! A map split into fixed pages, shared between states until one of them writes.
//!
//! This is what makes both halves of the store cheap: `apply` can stay pure (copying a state copies a page table,
//! not 10,000 tasks), a keyframe only has to write the pages that changed since the previous one, and the reader
//! shares decoded pages between every state that contains them.
//!
//! A page may also be lazy: a reference the table resolves through its `PageSource` on first use, so a state read
//! from a trace costs only the pages someone looks at, with some of its records possibly already known (what a
//! keyframe's working set says), so that a replay touching only those never loads the page. The references
//! themselves may come from an `UnreadIndex`, asked for a page only when that page is first wanted: a seek never
//! builds the map of the pages it does not touch.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::digest;
use super::reads::{Access, Log};
use crate::error::Result;

mod page;
#[cfg(test)]
mod tests;
mod whole;

pub use page::{Key, Lazy, Page, PageRef, PageSource, Paging, Rec, UnreadIndex};

#[derive(Clone, Debug)]
pub enum Slot {
    Loaded(Arc<Page>),
    Lazy(Arc<Lazy>),
    /// A page the unread index still maps, deleted since: the index must not bring it back.
    Gone,
}

#[derive(Clone)]
pub struct Table {
    paging: Paging,
    /// shared between copies until one writes (a state copied per search branch copies nine pointers)
    pages: Arc<BTreeMap<i64, Slot>>,
    len: usize,
    source: Option<Arc<dyn PageSource>>,
    unread: Option<Arc<dyn UnreadIndex>>,
    /// The writer's tables: for every key written since the last keyframe, its value at that keyframe (None:
    /// absent then). Exactly what the keyframe's working set stores, so the writer never copies its state.
    pub dirty: Option<HashMap<Key, Option<Rec>>>,
    /// The explorer's tables: the wrapping sum of every entry's hash (`digest::entry`), kept up to date by `set`
    /// and `delete`, so a state's fingerprint costs nothing to take. None in every other table.
    digest: Option<u64>,
    /// The explorer's read log, with this table's number in its state: on while a move is first worked out.
    log: Option<(usize, Arc<Log>)>,
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Table({} entries in {} pages)",
            self.len,
            self.pages.len()
        )
    }
}

impl Table {
    pub fn new(paging: Paging) -> Table {
        Table {
            paging,
            pages: Arc::new(BTreeMap::new()),
            len: 0,
            source: None,
            unread: None,
            dirty: None,
            digest: None,
            log: None,
        }
    }

    /// A table that keeps its digest (see `digest`): the explorer's, which fingerprints every state it reaches.
    pub fn hashed(paging: Paging) -> Table {
        Table {
            digest: Some(0),
            ..Table::new(paging)
        }
    }

    /// The wrapping sum of every entry's hash: kept by a `hashed` table, computed from the records otherwise.
    pub fn digest(&self) -> Result<u64> {
        if let Some(d) = self.digest {
            return Ok(d);
        }
        Ok(self
            .items()?
            .iter()
            .fold(0u64, |d, (k, r)| d.wrapping_add(digest::entry(k, r))))
    }

    /// The writer's table (`dirty` kept).
    pub fn writer(paging: Paging) -> Table {
        Table {
            dirty: Some(HashMap::new()),
            ..Table::new(paging)
        }
    }

    /// Load this lazy table's pages through `source` from now on (the same pages, another handle on the reader).
    pub fn set_source(&mut self, source: Arc<dyn PageSource>) {
        if self.source.is_some() {
            self.source = Some(source);
        }
    }

    /// A table whose pages are all still in the file: `unread` says where each is, `source` loads them.
    pub fn lazy(
        paging: Paging,
        len: usize,
        source: Arc<dyn PageSource>,
        unread: Arc<dyn UnreadIndex>,
    ) -> Table {
        Table {
            paging,
            pages: Arc::new(BTreeMap::new()),
            len,
            source: Some(source),
            unread: Some(unread),
            dirty: None,
            digest: None,
            log: None,
        }
    }

    /// Note every read and write in `log` from now on, as table number `table` of its state.
    pub fn log_to(&mut self, table: usize, log: Arc<Log>) {
        self.log = Some((table, log));
    }

    #[inline]
    fn note(&self, a: impl FnOnce() -> Access) {
        if let Some((t, log)) = &self.log {
            log.note(*t, a());
        }
    }

    pub fn paging(&self) -> Paging {
        self.paging
    }

    pub fn len(&self) -> usize {
        self.note(|| Access::Whole);
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn page_of(&self, key: &Key) -> i64 {
        self.paging.page_of(key)
    }

    /// A page's slot, from the page map or else the unread index (not kept: see `slot_mut`).
    fn slot(&self, p: i64) -> Result<Option<Slot>> {
        if let Some(s) = self.pages.get(&p) {
            return Ok(Some(s.clone()));
        }
        Ok(match &self.unread {
            Some(u) => u
                .get(p)?
                .map(|r| Slot::Lazy(Arc::new(Lazy::new(r, BTreeMap::new())))),
            None => None,
        })
    }

    /// Page `p`'s slot, taken from the unread index into the page map if need be.
    fn slot_mut(&mut self, p: i64) -> Result<Option<&mut Slot>> {
        if !self.pages.contains_key(&p) {
            let r = match &self.unread {
                Some(u) => u.get(p)?,
                None => None,
            };
            match r {
                Some(r) => {
                    Arc::make_mut(&mut self.pages)
                        .insert(p, Slot::Lazy(Arc::new(Lazy::new(r, BTreeMap::new()))));
                }
                None => return Ok(None),
            }
        }
        Ok(Arc::make_mut(&mut self.pages)
            .get_mut(&p)
            .filter(|s| !matches!(s, Slot::Gone)))
    }

    fn source(&self) -> &dyn PageSource {
        self.source
            .as_deref()
            .expect("a lazy page in a table with no page source")
    }

    pub fn get(&self, key: &Key) -> Result<Option<Rec>> {
        self.note(|| Access::Read(key.clone()));
        let p = self.paging.page_of(key);
        if let Some(slot) = self.pages.get(&p) {
            return self.get_in(slot, key);
        }
        match self.slot(p)? {
            Some(slot) => self.get_in(&slot, key),
            None => Ok(None),
        }
    }

    fn get_in(&self, slot: &Slot, key: &Key) -> Result<Option<Rec>> {
        match slot {
            Slot::Loaded(page) => Ok(page.get(key).cloned()),
            Slot::Gone => Ok(None),
            Slot::Lazy(lazy) => {
                if let Some(v) = lazy.known.get(key) {
                    return Ok(v.clone());
                }
                Ok(lazy.resolve(self.source())?.get(key).cloned())
            }
        }
    }

    pub fn contains(&self, key: &Key) -> Result<bool> {
        Ok(self.get(key)?.is_some())
    }

    /// Lay records of page `p` whose values are known (None: known to be absent) over the page if it is not
    /// loaded yet, without loading it. The caller vouches for them, as nothing checks a loaded page either.
    pub fn know(&mut self, p: i64, known: BTreeMap<Key, Option<Rec>>) -> Result<()> {
        let Some(slot) = self.slot_mut(p)? else {
            return Ok(());
        };
        if let Slot::Lazy(lazy) = slot {
            if lazy.loaded().is_some() {
                return Ok(());
            }
            let mut all = lazy.known.clone();
            all.extend(known);
            *slot = Slot::Lazy(Arc::new(Lazy::new(lazy.r, all)));
        }
        Ok(())
    }

    pub fn set(&mut self, key: Key, rec: Rec) -> Result<()> {
        self.note(|| Access::Wrote(key.clone()));
        if let Some(d) = self.digest {
            let old = self.get(&key)?.map_or(0, |o| digest::entry(&key, &o));
            self.digest = Some(d.wrapping_sub(old).wrapping_add(digest::entry(&key, &rec)));
        }
        let p = self.paging.page_of(&key);
        if let Some(dirty) = &self.dirty {
            // the writer's tables hold only plain pages
            let old = match self.pages.get(&p) {
                Some(Slot::Loaded(page)) => page.get(&key).cloned(),
                _ => None,
            };
            if !dirty.contains_key(&key) {
                self.dirty
                    .as_mut()
                    .unwrap()
                    .insert(key.clone(), old.clone());
            }
            if old.is_none() {
                self.len += 1;
            }
            let slot = Arc::make_mut(&mut self.pages)
                .entry(p)
                .or_insert_with(|| Slot::Loaded(Arc::new(Page::new())));
            if let Slot::Loaded(page) = slot {
                Arc::make_mut(page).insert(key, rec);
            }
            return Ok(());
        }
        let source = self.source.clone();
        let grew = match self.slot_mut(p)? {
            None => {
                Arc::make_mut(&mut self.pages)
                    .insert(p, Slot::Loaded(Arc::new(Page::from([(key, rec)]))));
                true
            }
            Some(slot) => Self::set_in(slot, source.as_deref(), key, rec)?,
        };
        if grew {
            self.len += 1;
        }
        Ok(())
    }

    /// Set `key` in a slot this table owns from now on; whether the table grew.
    fn set_in(
        slot: &mut Slot,
        source: Option<&dyn PageSource>,
        key: Key,
        rec: Rec,
    ) -> Result<bool> {
        if let Slot::Lazy(lazy) = slot {
            if lazy.loaded().is_none() {
                if let Some(known) = lazy.known.get(&key) {
                    let grew = known.is_none();
                    match Arc::get_mut(lazy) {
                        // only this table holds it: no copy (the replay's common case, after its first write)
                        Some(own) => {
                            own.known.insert(key, Some(rec));
                        }
                        None => {
                            let mut all = lazy.known.clone();
                            all.insert(key, Some(rec));
                            *slot = Slot::Lazy(Arc::new(Lazy::new(lazy.r, all)));
                        }
                    }
                    return Ok(grew);
                }
            }
            let page = lazy
                .resolve(source.expect("a lazy page with no source"))?
                .clone();
            *slot = Slot::Loaded(page);
        }
        match slot {
            Slot::Loaded(page) => Ok(Arc::make_mut(page).insert(key, rec).is_none()),
            Slot::Gone => {
                *slot = Slot::Loaded(Arc::new(Page::from([(key, rec)])));
                Ok(true)
            }
            Slot::Lazy(_) => unreachable!("resolved above"),
        }
    }

    pub fn delete(&mut self, key: &Key) -> Result<()> {
        self.note(|| Access::Wrote(key.clone()));
        if let Some(d) = self.digest {
            if let Some(old) = self.get(key)? {
                self.digest = Some(d.wrapping_sub(digest::entry(key, &old)));
            }
        }
        let p = self.paging.page_of(key);
        if self.dirty.is_some() {
            let Some(Slot::Loaded(page)) = Arc::make_mut(&mut self.pages).get_mut(&p) else {
                return Ok(());
            };
            let Some(old) = Arc::make_mut(page).remove(key) else {
                return Ok(());
            };
            let empty = page.is_empty();
            let dirty = self.dirty.as_mut().unwrap();
            dirty.entry(key.clone()).or_insert(Some(old));
            self.len -= 1;
            if empty {
                Arc::make_mut(&mut self.pages).remove(&p);
            }
            return Ok(());
        }
        if !self.contains(key)? {
            return Ok(());
        }
        let source = self.source.clone();
        let unread = self.unread.is_some();
        let Some(slot) = self.slot_mut(p)? else {
            return Ok(());
        };
        let mut now_empty = false;
        if let Slot::Lazy(lazy) = slot {
            if lazy.loaded().is_none() && lazy.known.contains_key(key) {
                let mut all = lazy.known.clone();
                all.insert(key.clone(), None);
                *slot = Slot::Lazy(Arc::new(Lazy::new(lazy.r, all)));
                self.len -= 1;
                return Ok(());
            }
            let page = lazy
                .resolve(source.as_deref().expect("a lazy page with no source"))?
                .clone();
            *slot = Slot::Loaded(page);
        }
        if let Slot::Loaded(page) = slot {
            let page = Arc::make_mut(page);
            page.remove(key);
            if page.is_empty() {
                now_empty = true;
                if unread {
                    *slot = Slot::Gone; // so the unread index cannot bring the page back
                }
            }
        }
        self.len -= 1;
        if now_empty && !unread {
            Arc::make_mut(&mut self.pages).remove(&p);
        }
        Ok(())
    }
}
