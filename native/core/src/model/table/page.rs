//! What a table's pages are: records and keys, how keys group into pages, where a keyframe keeps a page and
//! how a page not loaded yet is loaded (`PageSource`, `UnreadIndex`, `Lazy`).

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use crate::error::Result;
use crate::model::value::{Str, Value};

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
    pub(super) fn new(r: PageRef, known: BTreeMap<Key, Option<Rec>>) -> Lazy {
        Lazy {
            r,
            known,
            whole: OnceLock::new(),
        }
    }

    /// The whole page: the loaded one with what is known laid over it.
    pub(super) fn resolve(&self, source: &dyn PageSource) -> Result<&Arc<Page>> {
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
