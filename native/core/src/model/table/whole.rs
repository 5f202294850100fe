//! A table read whole (its slots, records, keys) and compared with another (`same`, `changed_keys`): what
//! keyframes, digests and the reader's change lists need, beside the key-by-key work of the table itself.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Key, Lazy, Page, Paging, Rec, Slot, Table};
use crate::error::Result;
use crate::model::reads::Access;

impl Table {
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
