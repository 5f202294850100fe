//! State payloads: a page (or a patch of one) as sorted rows, a keyframe interval's working set, a keyframe's
//! pieces, and the full page map of a keyframe group; and `MapIndex`, which answers where a page is at one
//! keyframe without building the map of the pages nobody asks for.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use super::msgpack::{pack, pack_array_len, pack_int, pack_map_len, pack_str};
use crate::error::{Error, Result};
use crate::model::state::{RecordType, TABLES};
use crate::model::table::{Key, Page, PageRef, Paging, Rec};
use crate::model::value::{Str, Value};

/// One row of a patch: the record deleted, the record whole (new), or the fields that changed by index.
#[derive(Clone, Debug, PartialEq)]
pub enum Patch {
    Deleted,
    Whole(Rec),
    Fields(Vec<(usize, Value)>),
}

/// A patch entry: nothing for a deleted record, the record for a new one, else the fields that changed (a task's
/// state change patches two small fields, not fourteen).
pub fn record_diff(old: Option<&Rec>, new: Option<&Rec>) -> Patch {
    match (old, new) {
        (_, None) => Patch::Deleted,
        (None, Some(n)) => Patch::Whole(n.clone()),
        (Some(o), Some(n)) => Patch::Fields(
            o.iter()
                .zip(n.iter())
                .enumerate()
                .filter(|(_, (a, b))| a != b)
                .map(|(i, (_, b))| (i, b.clone()))
                .collect(),
        ),
    }
}

pub fn pack_key(k: &Key, out: &mut Vec<u8>) {
    match k {
        Key::Int(i) => pack_int(*i, out),
        Key::Str(s) => pack_str(s, out),
        Key::Zone(n, z) => {
            pack_array_len(2, out);
            pack_int(*n, out);
            pack_str(z, out);
        }
    }
}

fn pack_rec(r: &[Value], out: &mut Vec<u8>) {
    pack_array_len(r.len(), out);
    for v in r {
        pack(v, out);
    }
}

/// `[table, page_no, [[key, record], …]]`, rows in key order.
pub fn page_payload(table: usize, page_no: i64, page: &Page, out: &mut Vec<u8>) {
    pack_array_len(3, out);
    pack_str(TABLES[table].0, out);
    pack_int(page_no, out);
    pack_array_len(page.len(), out);
    for (k, r) in page {
        pack_array_len(2, out);
        pack_key(k, out);
        pack_rec(r, out);
    }
}

pub fn patch_payload(table: usize, page_no: i64, rows: &BTreeMap<Key, Patch>, out: &mut Vec<u8>) {
    pack_array_len(3, out);
    pack_str(TABLES[table].0, out);
    pack_int(page_no, out);
    pack_array_len(rows.len(), out);
    for (k, p) in rows {
        pack_array_len(2, out);
        pack_key(k, out);
        match p {
            Patch::Deleted => out.push(0xc0),
            Patch::Whole(r) => pack_rec(r, out),
            Patch::Fields(fs) => {
                pack_map_len(fs.len(), out);
                for (i, v) in fs {
                    pack_int(*i as i64, out);
                    pack(v, out);
                }
            }
        }
    }
}

fn deltas(values: &[i64]) -> Vec<i64> {
    let mut last = 0;
    values
        .iter()
        .map(|v| {
            let d = v - last;
            last = *v;
            d
        })
        .collect()
}

fn pack_ints(values: &[i64], out: &mut Vec<u8>) {
    pack_array_len(values.len(), out);
    for v in values {
        pack_int(*v, out);
    }
}

/// A keyframe interval's working set: per table, the pages (as differences), how many records of each, and the
/// sorted rows of each record's value at the keyframe (nil: absent then), page after page.
pub fn workset_payload(known: &[BTreeMap<i64, BTreeMap<Key, Option<Rec>>>], out: &mut Vec<u8>) {
    let tables: Vec<usize> = (0..known.len())
        .filter(|t| known[*t].values().any(|p| !p.is_empty()))
        .collect();
    pack_array_len(tables.len(), out);
    for t in tables {
        let pages: Vec<i64> = known[t].keys().copied().collect();
        pack_array_len(4, out);
        pack_str(TABLES[t].0, out);
        pack_ints(&deltas(&pages), out);
        pack_ints(
            &known[t]
                .values()
                .map(|p| p.len() as i64)
                .collect::<Vec<_>>(),
            out,
        );
        pack_array_len(known[t].values().map(|p| p.len()).sum(), out);
        for rows in known[t].values() {
            for (k, r) in rows {
                pack_array_len(2, out);
                pack_key(k, out);
                match r {
                    Some(r) => pack_rec(r, out),
                    None => out.push(0xc0),
                }
            }
        }
    }
}

fn bad(e: impl std::fmt::Display) -> Error {
    Error::Value(e.to_string())
}

pub fn table_of(name: &Value) -> Result<usize> {
    TABLES
        .iter()
        .position(|(n, _, _)| Some(*n) == name.as_str())
        .ok_or_else(|| bad(format!("an unknown table {name}")))
}

pub fn key_of(paging: Paging, v: &Value) -> Result<Key> {
    match (paging, v) {
        (Paging::Int, Value::Int(i)) => Ok(Key::Int(*i)),
        (Paging::Str, Value::Str(s)) => Ok(Key::Str(s.clone())),
        (Paging::Tuple, Value::List(l)) if l.len() == 2 => match (&l[0], &l[1]) {
            (Value::Int(n), Value::Str(z)) => Ok(Key::Zone(*n, z.clone())),
            _ => Err(bad("a zone key that is not (node, name)")),
        },
        _ => Err(bad(format!("a key {v} of the wrong type"))),
    }
}

/// A record read back: padded with the defaults of fields added after it was written.
fn record_of(rt: &RecordType, v: &Value) -> Result<Rec> {
    let vals = v
        .as_list()
        .ok_or_else(|| bad(format!("a {} record that is no list", rt.name)))?;
    if vals.len() > rt.fields.len() || vals.len() < rt.required {
        return Err(bad(format!(
            "a {} record with {} fields",
            rt.name,
            vals.len()
        )));
    }
    let mut out = vals.to_vec();
    for i in vals.len()..rt.fields.len() {
        out.push(rt.default_of(i));
    }
    Ok(Arc::from(out))
}

/// The rows of a page or patch: `(key, patch)`; a working set's rows are never field patches.
fn rows(table: usize, entries: &Value, patches: bool) -> Result<Vec<(Key, Patch)>> {
    let (_, rt, paging) = TABLES[table];
    let entries = entries
        .as_list()
        .ok_or_else(|| bad("rows that are no list"))?;
    let mut out = Vec::with_capacity(entries.len());
    for row in entries {
        let pair = row
            .as_list()
            .filter(|p| p.len() == 2)
            .ok_or_else(|| bad("a row that is not [key, record]"))?;
        let key = key_of(paging, &pair[0])?;
        let p = match &pair[1] {
            Value::Nil => Patch::Deleted,
            Value::Map(m) if patches => {
                let mut fs = Vec::with_capacity(m.len());
                for (i, v) in m.iter() {
                    match i.as_int() {
                        Some(i) if (0..rt.fields.len() as i64).contains(&i) => {
                            fs.push((i as usize, v.clone()))
                        }
                        _ => return Err(bad("a field index outside the record")),
                    }
                }
                Patch::Fields(fs)
            }
            v => Patch::Whole(record_of(rt, v)?),
        };
        out.push((key, p));
    }
    Ok(out)
}

/// A page or patch: `(table, page number, rows)`.
pub fn decode_page(payload: &Value, where_: &str) -> Result<(usize, i64, Vec<(Key, Patch)>)> {
    let inner = || -> Result<_> {
        let parts = payload
            .as_list()
            .filter(|p| p.len() == 3)
            .ok_or_else(|| bad("not [table, page, rows]"))?;
        let t = table_of(&parts[0])?;
        let p = parts[1]
            .as_int()
            .ok_or_else(|| bad("a page number that is no integer"))?;
        Ok((t, p, rows(t, &parts[2], true)?))
    };
    inner().map_err(|e| Error::Trace(format!("{where_}: bad state page ({e})")))
}

/// The patched record: `old` with a patch's changed fields.
pub fn apply_diff(old: &Rec, fields: &[(usize, Value)]) -> Rec {
    let mut v = old.to_vec();
    for (i, x) in fields {
        if *i < v.len() {
            v[*i] = x.clone();
        }
    }
    Arc::from(v)
}

pub type Workset = Vec<(usize, BTreeMap<i64, BTreeMap<Key, Option<Rec>>>)>;

/// `(table, {page: {key: record or None}})` of a working set.
pub fn decode_workset(payload: &Value, where_: &str) -> Result<Workset> {
    let inner = || -> Result<Workset> {
        let mut out = Vec::new();
        for t in payload.as_list().ok_or_else(|| bad("not a list"))? {
            let parts = t
                .as_list()
                .filter(|p| p.len() == 4)
                .ok_or_else(|| bad("not [table, pages, counts, rows]"))?;
            let table = table_of(&parts[0])?;
            let pages = ints(&parts[1])?;
            let counts = ints(&parts[2])?;
            let entries = rows(table, &parts[3], false)?;
            if pages.len() != counts.len()
                || counts.iter().sum::<i64>() != entries.len() as i64
                || counts.iter().any(|c| *c < 1)
            {
                return Err(bad("page counts that do not add up"));
            }
            let mut by_page = BTreeMap::new();
            let (mut page, mut at) = (0i64, 0usize);
            for (d, c) in pages.iter().zip(counts.iter()) {
                page += d;
                let mut known = BTreeMap::new();
                for (k, p) in &entries[at..at + *c as usize] {
                    let r = match p {
                        Patch::Deleted => None,
                        Patch::Whole(r) => Some(r.clone()),
                        Patch::Fields(_) => unreachable!("no patches in a working set"),
                    };
                    if known.insert(k.clone(), r).is_some() {
                        return Err(bad("a record twice"));
                    }
                }
                at += *c as usize;
                by_page.insert(page, known);
            }
            out.push((table, by_page));
        }
        Ok(out)
    };
    inner().map_err(|e| Error::Trace(format!("{where_}: bad working set ({e})")))
}

pub fn ints(v: &Value) -> Result<Vec<i64>> {
    v.as_list()
        .ok_or_else(|| bad("numbers that are no list"))?
        .iter()
        .map(|x| x.as_int().ok_or_else(|| bad("something that is no number")))
        .collect()
}

/// A keyframe's own pieces, per table in slot order: page numbers (as differences) and whether each is whole.
pub fn pieces_payload(pieces: &[Vec<(i64, bool)>], out: &mut Vec<u8>) {
    let tables: Vec<usize> = (0..pieces.len())
        .filter(|t| !pieces[*t].is_empty())
        .collect();
    pack_map_len(tables.len(), out);
    for t in tables {
        pack_str(TABLES[t].0, out);
        pack_array_len(2, out);
        pack_ints(
            &deltas(&pieces[t].iter().map(|(p, _)| *p).collect::<Vec<_>>()),
            out,
        );
        pack_array_len(pieces[t].len(), out);
        for (_, whole) in &pieces[t] {
            out.push(if *whole { 0xc3 } else { 0xc2 });
        }
    }
}

pub fn decode_pieces(v: &Value) -> Result<Vec<Vec<(i64, bool)>>> {
    let mut out = vec![Vec::new(); TABLES.len()];
    let Value::Map(m) = v else {
        return Err(bad("pieces that are no map"));
    };
    for (t, cols) in m.iter() {
        let t = table_of(t)?;
        let cols = cols
            .as_list()
            .filter(|c| c.len() == 2)
            .ok_or_else(|| bad("pieces that are not [pages, wholes]"))?;
        let pages = ints(&cols[0])?;
        let wholes = cols[1]
            .as_list()
            .ok_or_else(|| bad("wholes that are no list"))?;
        if pages.len() != wholes.len() {
            return Err(bad("a piece list of columns of different lengths"));
        }
        let mut page = 0;
        out[t] = pages
            .iter()
            .zip(wholes.iter())
            .map(|(d, w)| {
                page += d;
                (page, w.truthy())
            })
            .collect();
    }
    Ok(out)
}

/// Every page of keyframe `k` as columns: page numbers as differences, each piece as how many keyframes back it
/// was written and its slot there; a patch 0 keyframes back is written as 1, so that 0 says "no patch".
pub fn full_map_payload(k: i64, page_map: &[BTreeMap<i64, PageRef>], out: &mut Vec<u8>) {
    let tables: Vec<usize> = (0..page_map.len())
        .filter(|t| !page_map[*t].is_empty())
        .collect();
    pack_map_len(tables.len(), out);
    for t in tables {
        let m = &page_map[t];
        let pages: Vec<i64> = m.keys().copied().collect();
        pack_str(TABLES[t].0, out);
        pack_array_len(5, out);
        pack_ints(&deltas(&pages), out);
        pack_ints(&m.values().map(|r| k - r.k).collect::<Vec<_>>(), out);
        pack_ints(&m.values().map(|r| r.slot).collect::<Vec<_>>(), out);
        pack_ints(
            &m.values()
                .map(|r| r.patch.map_or(0, |(pk, _)| k - pk + 1))
                .collect::<Vec<_>>(),
            out,
        );
        pack_ints(
            &m.values()
                .map(|r| r.patch.map_or(0, |(_, s)| s))
                .collect::<Vec<_>>(),
            out,
        );
    }
}

/// A full map as stored: page numbers (increasing) and the four columns, per table.
#[derive(Clone, Debug, Default)]
pub struct FullMap {
    pub pages: Vec<i64>,
    pub cols: [Vec<i64>; 4],
}

/// A full map read straight from its bytes (it is the largest part of a keyframe block).
pub fn read_full_map(r: &mut super::msgpack::Reader) -> Result<Vec<Option<Arc<FullMap>>>> {
    let m = |e: super::msgpack::Malformed| bad(e.0);
    let mut out = vec![None; TABLES.len()];
    for _ in 0..r.map_len().map_err(m)? {
        let t = table_of(&Value::str(r.str().map_err(m)?))?;
        if r.array_len().map_err(m)? != 5 {
            return Err(bad("a map of other than five columns"));
        }
        let mut pages = r.ints().map_err(m)?;
        let c: Vec<Vec<i64>> = (0..4).map(|_| r.ints().map_err(m)).collect::<Result<_>>()?;
        if c.iter().any(|x| x.len() != pages.len()) {
            return Err(bad("a map of columns of different lengths"));
        }
        if pages.len() > 1 && pages[1..].iter().any(|d| *d <= 0) {
            return Err(bad("page numbers that do not increase"));
        }
        let mut acc = 0i64;
        for p in pages.iter_mut() {
            acc = acc
                .checked_add(*p)
                .ok_or_else(|| bad("page numbers out of range"))?;
            *p = acc;
        }
        let [a, b, cc, d]: [Vec<i64>; 4] = c.try_into().unwrap();
        out[t] = Some(Arc::new(FullMap {
            pages,
            cols: [a, b, cc, d],
        }));
    }
    Ok(out)
}

pub fn decode_full_map(v: &Value) -> Result<Vec<Option<Arc<FullMap>>>> {
    let mut out = vec![None; TABLES.len()];
    let Value::Map(m) = v else {
        return Err(bad("a full map that is no map"));
    };
    for (t, cols) in m.iter() {
        let t = table_of(t)?;
        let cols = cols
            .as_list()
            .filter(|c| c.len() == 5)
            .ok_or_else(|| bad("a map of other than five columns"))?;
        let mut pages = ints(&cols[0])?;
        let c: Vec<Vec<i64>> = cols[1..].iter().map(ints).collect::<Result<_>>()?;
        if c.iter().any(|x| x.len() != pages.len()) {
            return Err(bad("a map of columns of different lengths"));
        }
        if pages.len() > 1 && pages[1..].iter().any(|d| *d <= 0) {
            return Err(bad("page numbers that do not increase"));
        }
        let mut acc = 0;
        for p in pages.iter_mut() {
            acc += *p;
            *p = acc;
        }
        let [a, b, cc, d]: [Vec<i64>; 4] = c.try_into().unwrap();
        out[t] = Some(Arc::new(FullMap {
            pages,
            cols: [a, b, cc, d],
        }));
    }
    Ok(out)
}

fn full_ref(k: i64, back: i64, slot: i64, patch_back: i64, patch_slot: i64) -> PageRef {
    PageRef {
        k: k - back,
        slot,
        patch: (patch_back != 0).then_some((k + 1 - patch_back, patch_slot)),
    }
}

/// What a later keyframe laid over the full map for one page.
#[derive(Clone, Copy, Debug)]
enum Over {
    Gone,
    Ref(PageRef),
    /// A patch of the page's whole version in the full map (looked up only if the page is).
    PatchOfFull(i64, i64),
}

/// Where each page of one table is at one keyframe: the full map of its group (bisected), with what the
/// keyframes since wrote laid over it. A page gets one answer however often it is asked.
pub struct MapIndex {
    first: i64,
    full: Option<Arc<FullMap>>,
    over: HashMap<i64, Over>,
    given: Mutex<HashMap<i64, Option<PageRef>>>,
    where_: Str,
}

impl MapIndex {
    pub fn new(first: i64, full: Option<Arc<FullMap>>, where_: &str) -> MapIndex {
        MapIndex {
            first,
            full,
            over: HashMap::new(),
            given: Mutex::new(HashMap::new()),
            where_: Str::from(where_),
        }
    }

    /// Lay what keyframe `k` wrote of this table: the pages gone, then its pieces numbered from `slot`; returns
    /// the next slot.
    pub fn lay(
        &mut self,
        k: i64,
        mut slot: i64,
        pieces: &[(i64, bool)],
        gone: &[i64],
    ) -> Result<i64> {
        for p in gone {
            self.over.insert(*p, Over::Gone);
        }
        for (p, whole) in pieces {
            let base = self.over.get(p).copied();
            let new = if *whole {
                Over::Ref(PageRef {
                    k,
                    slot,
                    patch: None,
                })
            } else {
                match base {
                    Some(Over::Gone) => {
                        return Err(Error::Trace(format!(
                            "{}: keyframe {k} patches page {p}, which is gone",
                            self.where_
                        )))
                    }
                    None | Some(Over::PatchOfFull(..)) => Over::PatchOfFull(k, slot),
                    Some(Over::Ref(r)) => Over::Ref(PageRef {
                        k: r.k,
                        slot: r.slot,
                        patch: Some((k, slot)),
                    }),
                }
            };
            self.over.insert(*p, new);
            slot += 1;
        }
        Ok(slot)
    }

    fn full(&self, page: i64) -> Option<PageRef> {
        let m = self.full.as_ref()?;
        let i = m.pages.binary_search(&page).ok()?;
        Some(full_ref(
            self.first,
            m.cols[0][i],
            m.cols[1][i],
            m.cols[2][i],
            m.cols[3][i],
        ))
    }

    fn resolve(&self, page: i64) -> Result<Option<PageRef>> {
        Ok(match self.over.get(&page) {
            None => self.full(page),
            Some(Over::Gone) => None,
            Some(Over::Ref(r)) => Some(*r),
            Some(Over::PatchOfFull(k, slot)) => match self.full(page) {
                Some(base) => Some(PageRef {
                    k: base.k,
                    slot: base.slot,
                    patch: Some((*k, *slot)),
                }),
                None => {
                    return Err(Error::Trace(format!(
                    "{}: keyframe {k} patches page {page}, which no earlier keyframe wrote whole",
                    self.where_
                )))
                }
            },
        })
    }
}

impl crate::model::table::UnreadIndex for MapIndex {
    fn get(&self, page: i64) -> Result<Option<PageRef>> {
        if let Some(r) = self.given.lock().unwrap().get(&page) {
            return Ok(*r);
        }
        let r = self.resolve(page)?;
        self.given.lock().unwrap().insert(page, r);
        Ok(r)
    }

    fn all(&self) -> Result<Vec<(i64, PageRef)>> {
        let mut pages: Vec<i64> = self
            .full
            .as_ref()
            .map(|m| m.pages.clone())
            .unwrap_or_default();
        pages.extend(self.over.keys().copied());
        pages.sort_unstable();
        pages.dedup();
        let mut out = Vec::with_capacity(pages.len());
        for p in pages {
            if let Some(r) = self.get(p)? {
                out.push((p, r));
            }
        }
        Ok(out)
    }
}
