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
use std::sync::{Arc, OnceLock};

use super::digest;
use super::reads::{Access, Log};
use super::value::{Str, Value};
use crate::error::Result;

/// A record: its fields by position, as the store writes it.
pub type Rec = Arc<[Value]>;
pub type Page = BTreeMap<Key, Rec>;

/// A table's key: a pid or an index, a name, or a (node, zone) pair.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    Int(i64),
    Str(Str),
    Zone(i64, Str),
}

impl Key {
    pub fn value(&self) -> Value {
        match self {
            Key::Int(i) => Value::Int(*i),
            Key::Str(s) => Value::Str(s.clone()),
            Key::Zone(n, z) => Value::list(vec![Value::Int(*n), Value::Str(z.clone())]),
        }
    }
}

/// How a table groups its keys into pages; the numbers are part of the file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paging {
    /// Pids and indexes: neighbouring keys (threads of one process, forked together) share a page of 16.
    Int,
    /// Names: a stable hash (CRC32 of the UTF-8), 16 pages; these tables hold only what is live.
    Str,
    /// (node, zone): the CRC32 of the pair as Python's `repr` writes it, 16 pages.
    Tuple,
}

impl Paging {
    pub fn page_of(self, key: &Key) -> i64 {
        match (self, key) {
            (Paging::Int, Key::Int(i)) => i >> 4,
            (_, Key::Str(s)) => (crc32fast::hash(s.as_bytes()) & 0xF) as i64,
            (_, Key::Zone(..)) => {
                (crc32fast::hash(key.value().to_string().as_bytes()) & 0xF) as i64
            }
            (_, Key::Int(i)) => (crc32fast::hash(i.to_string().as_bytes()) & 0xF) as i64,
        }
    }
}

/// Where a page of a keyframe is: its whole version and its patch, each as (keyframe number, slot among that
/// keyframe's pieces).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PageRef {
    pub k: i64,
    pub slot: i64,
    pub patch: Option<(i64, i64)>,
}

/// Loads a page from its reference (the reader, with its caches).
pub trait PageSource: Send + Sync {
    fn load(&self, r: &PageRef) -> Result<Arc<Page>>;
}

/// A keyframe's page map, asked page by page.
pub trait UnreadIndex: Send + Sync {
    fn get(&self, page: i64) -> Result<Option<PageRef>>;
    fn all(&self) -> Result<Vec<(i64, PageRef)>>;
}

/// A page not loaded yet, and what is already known of it: each known key's record, or None when the key is
/// known to be absent. Shared between the states copied from one another; loaded once for all of them.
#[derive(Debug)]
pub struct Lazy {
    pub r: PageRef,
    pub known: BTreeMap<Key, Option<Rec>>,
    whole: OnceLock<Arc<Page>>,
}

impl Lazy {
    fn new(r: PageRef, known: BTreeMap<Key, Option<Rec>>) -> Lazy {
        Lazy {
            r,
            known,
            whole: OnceLock::new(),
        }
    }

    /// The whole page: the loaded one with what is known laid over it.
    fn resolve(&self, source: &dyn PageSource) -> Result<&Arc<Page>> {
        if let Some(p) = self.whole.get() {
            return Ok(p);
        }
        let loaded = source.load(&self.r)?;
        let page = if self.known.is_empty() {
            loaded
        } else {
            let mut whole = (*loaded).clone();
            for (k, v) in &self.known {
                match v {
                    Some(rec) => whole.insert(k.clone(), rec.clone()),
                    None => whole.remove(k),
                };
            }
            Arc::new(whole)
        };
        Ok(self.whole.get_or_init(|| page))
    }

    pub fn loaded(&self) -> Option<&Arc<Page>> {
        self.whole.get()
    }
}

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

    /// Every page's slot (the unread index's included), in page order: for what reads the table whole.
    pub fn slots(&self) -> Result<BTreeMap<i64, Slot>> {
        self.note(|| Access::Whole);
        let mut out = BTreeMap::new();
        if let Some(u) = &self.unread {
            for (p, r) in u.all()? {
                out.insert(p, Slot::Lazy(Arc::new(Lazy::new(r, BTreeMap::new()))));
            }
        }
        for (p, s) in self.pages.iter() {
            match s {
                Slot::Gone => {
                    out.remove(p);
                }
                s => {
                    out.insert(*p, s.clone());
                }
            }
        }
        Ok(out)
    }

    /// Every record, when the table holds them all in memory (nothing still in a file), without building the
    /// page map `slots` builds: for the explorer, which reads whole small tables at every move. Pages in page
    /// order (key order for pids). None for a table read lazily from a trace.
    pub fn resident(&self) -> Option<impl Iterator<Item = (&Key, &Rec)>> {
        self.note(|| Access::Whole);
        let lazy = self.unread.is_some()
            || self
                .pages
                .values()
                .any(|s| matches!(s, Slot::Lazy(l) if l.loaded().is_none()));
        if lazy {
            return None;
        }
        Some(
            self.pages
                .values()
                .filter_map(|s| match s {
                    Slot::Loaded(p) => Some(p.as_ref()),
                    Slot::Lazy(l) => l.loaded().map(|p| p.as_ref()),
                    Slot::Gone => None,
                })
                .flat_map(|p| p.iter()),
        )
    }

    /// The page map itself, for the writer's keyframes (its tables have only plain pages).
    pub fn plain_pages(&self) -> impl Iterator<Item = (i64, &Arc<Page>)> {
        self.pages.iter().filter_map(|(p, s)| match s {
            Slot::Loaded(page) => Some((*p, page)),
            _ => None,
        })
    }

    pub fn plain_page(&self, p: i64) -> Option<&Arc<Page>> {
        match self.pages.get(&p) {
            Some(Slot::Loaded(page)) => Some(page),
            _ => None,
        }
    }

    pub fn page_numbers(&self) -> Vec<i64> {
        self.pages.keys().copied().collect()
    }

    /// A slot's page, loading it if need be.
    pub fn page_in(&self, slot: &Slot) -> Result<Arc<Page>> {
        Ok(match slot {
            Slot::Loaded(p) => p.clone(),
            Slot::Lazy(l) => l.resolve(self.source())?.clone(),
            Slot::Gone => Arc::new(Page::new()),
        })
    }

    /// Every record in key order.
    pub fn items(&self) -> Result<Vec<(Key, Rec)>> {
        let mut out = Vec::with_capacity(self.len);
        for slot in self.slots()?.values() {
            out.extend(
                self.page_in(slot)?
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone())),
            );
        }
        if self.paging != Paging::Int {
            out.sort_by(|a, b| a.0.cmp(&b.0));
        }
        Ok(out)
    }

    pub fn values(&self) -> Result<Vec<Rec>> {
        Ok(self.items()?.into_iter().map(|(_, v)| v).collect())
    }

    pub fn keys(&self) -> Result<Vec<Key>> {
        Ok(self.items()?.into_iter().map(|(k, _)| k).collect())
    }

    /// Whether two tables hold the same records.
    pub fn same(&self, other: &Table) -> Result<bool> {
        if self.len != other.len {
            return Ok(false);
        }
        Ok(self.items()? == other.items()?)
    }

    /// The keys whose records differ between two states of one trace, found by page identity: copy-on-write
    /// shares every page a replay did not write, so a step compares a page or two, not 10,000 records. None when
    /// a page that differs is not loaded on both sides (a state built from another keyframe): rebuild then.
    pub fn changed_keys(&self, new: &Table) -> Result<Option<Vec<Key>>> {
        let (a, b) = (self.slots()?, new.slots()?);
        let mut out = Vec::new();
        let mut numbers: Vec<i64> = a.keys().chain(b.keys()).copied().collect();
        numbers.sort_unstable();
        numbers.dedup();
        for p in numbers {
            let (x, y) = (a.get(&p), b.get(&p));
            if same_slot(x, y) {
                continue;
            }
            let (Some(x), Some(y)) = (loaded(x), loaded(y)) else {
                return Ok(None);
            };
            let empty = Page::new();
            let (x, y) = (
                x.as_deref().unwrap_or(&empty),
                y.as_deref().unwrap_or(&empty),
            );
            for k in x.keys().chain(y.keys()) {
                if x.get(k) != y.get(k) && !out.contains(k) {
                    out.push(k.clone());
                }
            }
        }
        out.sort();
        Ok(Some(out))
    }
}

fn same_slot(x: Option<&Slot>, y: Option<&Slot>) -> bool {
    match (x, y) {
        (None, None) => true,
        (Some(Slot::Loaded(a)), Some(Slot::Loaded(b))) => Arc::ptr_eq(a, b),
        (Some(Slot::Lazy(a)), Some(Slot::Lazy(b))) => {
            Arc::ptr_eq(a, b) || (a.r == b.r && a.known.is_empty() && b.known.is_empty())
        }
        _ => false,
    }
}

/// A slot's page if it is loaded (Some(None): no page); None when it is not.
fn loaded(s: Option<&Slot>) -> Option<Option<Arc<Page>>> {
    match s {
        None | Some(Slot::Gone) => Some(None),
        Some(Slot::Loaded(p)) => Some(Some(p.clone())),
        Some(Slot::Lazy(l)) => l.loaded().map(|p| Some(p.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn rec(s: &str) -> Rec {
        Arc::from(vec![Value::str(s)])
    }

    struct Pages(BTreeMap<i64, Page>, Mutex<Vec<i64>>);

    impl PageSource for Pages {
        fn load(&self, r: &PageRef) -> Result<Arc<Page>> {
            self.1.lock().unwrap().push(r.k);
            Ok(Arc::new(self.0[&r.k].clone()))
        }
    }

    struct Index(Vec<i64>);

    impl UnreadIndex for Index {
        fn get(&self, page: i64) -> Result<Option<PageRef>> {
            Ok(self.0.contains(&page).then_some(PageRef {
                k: page,
                slot: 0,
                patch: None,
            }))
        }
        fn all(&self) -> Result<Vec<(i64, PageRef)>> {
            Ok(self
                .0
                .iter()
                .map(|p| {
                    (
                        *p,
                        PageRef {
                            k: *p,
                            slot: 0,
                            patch: None,
                        },
                    )
                })
                .collect())
        }
    }

    fn lazy_table() -> (Table, Arc<Pages>) {
        let mut pages = BTreeMap::new();
        pages.insert(
            0,
            Page::from([(Key::Int(1), rec("a")), (Key::Int(2), rec("b"))]),
        );
        pages.insert(1, Page::from([(Key::Int(16), rec("p"))]));
        let source = Arc::new(Pages(pages, Mutex::new(vec![])));
        (
            Table::lazy(Paging::Int, 3, source.clone(), Arc::new(Index(vec![0, 1]))),
            source,
        )
    }

    #[test]
    fn known_records_need_no_page() {
        let (mut t, source) = lazy_table();
        t.know(
            0,
            BTreeMap::from([(Key::Int(1), Some(rec("A"))), (Key::Int(4), None)]),
        )
        .unwrap();
        assert_eq!(t.get(&Key::Int(1)).unwrap(), Some(rec("A")));
        assert_eq!(t.get(&Key::Int(4)).unwrap(), None);
        t.set(Key::Int(4), rec("d")).unwrap();
        assert_eq!(t.len(), 4);
        assert!(source.1.lock().unwrap().is_empty());
        assert_eq!(t.get(&Key::Int(2)).unwrap(), Some(rec("b")));
        assert_eq!(*source.1.lock().unwrap(), vec![0]);
        let keys: Vec<Key> = t.keys().unwrap();
        assert_eq!(
            keys,
            vec![Key::Int(1), Key::Int(2), Key::Int(4), Key::Int(16)]
        );
    }

    #[test]
    fn copies_share_until_written() {
        let mut a = Table::new(Paging::Int);
        a.set(Key::Int(1), rec("a")).unwrap();
        a.set(Key::Int(40), rec("x")).unwrap();
        let mut b = a.clone();
        b.set(Key::Int(1), rec("b")).unwrap();
        assert_eq!(a.get(&Key::Int(1)).unwrap(), Some(rec("a")));
        assert_eq!(a.changed_keys(&b).unwrap(), Some(vec![Key::Int(1)]));
        b.delete(&Key::Int(40)).unwrap();
        assert_eq!(b.len(), 1);
        assert_eq!(
            a.changed_keys(&b).unwrap(),
            Some(vec![Key::Int(1), Key::Int(40)])
        );
    }

    #[test]
    fn a_kept_digest_is_the_computed_one_whatever_the_order() {
        let mut a = Table::hashed(Paging::Int);
        a.set(Key::Int(1), rec("a")).unwrap();
        a.set(Key::Int(40), rec("x")).unwrap();
        a.set(Key::Int(1), rec("b")).unwrap();
        let mut b = Table::hashed(Paging::Int);
        b.set(Key::Int(7), rec("z")).unwrap();
        b.set(Key::Int(40), rec("x")).unwrap();
        b.set(Key::Int(1), rec("b")).unwrap();
        b.delete(&Key::Int(7)).unwrap();
        let mut plain = Table::new(Paging::Int);
        plain.set(Key::Int(40), rec("x")).unwrap();
        plain.set(Key::Int(1), rec("b")).unwrap();
        assert_eq!(a.digest().unwrap(), b.digest().unwrap());
        assert_eq!(a.digest().unwrap(), plain.digest().unwrap());
        b.set(Key::Int(1), rec("c")).unwrap();
        assert_ne!(a.digest().unwrap(), b.digest().unwrap());
    }

    #[test]
    fn a_deleted_page_stays_gone() {
        let (mut t, _) = lazy_table();
        t.delete(&Key::Int(16)).unwrap();
        assert_eq!(t.get(&Key::Int(16)).unwrap(), None);
        assert_eq!(t.len(), 2);
        assert_eq!(t.keys().unwrap(), vec![Key::Int(1), Key::Int(2)]);
    }

    #[test]
    fn writer_tables_remember_the_old_values() {
        let mut t = Table::writer(Paging::Int);
        t.set(Key::Int(1), rec("a")).unwrap();
        t.dirty.as_mut().unwrap().clear();
        t.set(Key::Int(1), rec("b")).unwrap();
        t.set(Key::Int(1), rec("c")).unwrap();
        t.set(Key::Int(2), rec("x")).unwrap();
        t.delete(&Key::Int(2)).unwrap();
        let dirty = t.dirty.as_ref().unwrap();
        assert_eq!(dirty[&Key::Int(1)], Some(rec("a")));
        assert_eq!(dirty[&Key::Int(2)], None);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn string_pages_match_python() {
        // zlib.crc32(b"mmap_lock") & 0xF, and of repr((0, 'Normal')), computed by CPython
        assert_eq!(
            Paging::Str.page_of(&Key::Str(Str::from("mmap_lock"))),
            (crc32fast::hash(b"mmap_lock") & 15) as i64
        );
        assert_eq!(
            Paging::Tuple.page_of(&Key::Zone(0, Str::from("Normal"))),
            (crc32fast::hash(b"(0, 'Normal')") & 15) as i64
        );
    }
}
