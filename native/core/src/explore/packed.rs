//! The search's own form of a node: every record of the model interned once per cell (a table and a key), so a
//! state is a few words, the actors' positions and one record id per cell, with its tables' digests kept beside.
//! Its fingerprint is the one its `Node` would have (`node::fingerprint_of` over the same digests), so the search
//! counts the very same distinct states. A `Node` is rebuilt from it only where the model has to run: a move
//! not met before (`memo`), how a path ends, a witness.

use rustc_hash::FxHashMap;

use super::node::{fingerprint_of, pcw, Node, Reaper};
use crate::error::Result;
use crate::model::digest;
use crate::model::state::{State, N_TABLES};
use crate::model::table::{Key, Rec};

/// One state of the search, packed.
#[derive(Clone, Debug)]
pub struct Packed {
    /// per actor its position (`node::pcw`), then per cell its record id (0: absent, as is a cell past the end)
    words: Box<[u32]>,
    /// each table's digest, the wrapping sum of its records' shares (`digest::entry`)
    digests: [u64; N_TABLES],
    /// the reaper, interned
    pub reaper: u32,
    pub kills: u32,
    pub needless: u32,
    pub panicked: bool,
}

/// What a move changes of a packed state: record ids by cell, one actor's position, the reaper, the counts.
#[derive(Clone, Debug)]
pub struct Effect {
    pub writes: Box<[(u32, u32)]>,
    pub actor: Option<(usize, u32)>,
    /// the reaper after the move, when the move may change it
    pub reaper: Option<u32>,
    pub kills: u32,
    pub needless: u32,
    pub panicked: bool,
}

/// The cells, records and reapers met so far.
pub struct Cells {
    actors: usize,
    cells: Vec<(usize, Key)>,
    cell_of: FxHashMap<(usize, Key), u32>,
    /// per table, its cells as numbered
    pub of_table: [Vec<u32>; N_TABLES],
    /// per record id: its cell, the record, its share of the table's digest (id 0: nothing)
    recs: Vec<(u32, Option<Rec>, u64)>,
    rec_of: FxHashMap<(u32, u64), Vec<u32>>,
    reapers: Vec<Reaper>,
    reaper_of: FxHashMap<Reaper, u32>,
}

impl Packed {
    pub fn pcw(&self, actor: usize) -> u32 {
        self.words[actor]
    }

    pub fn pc(&self, actor: usize) -> usize {
        (self.words[actor] >> 1) as usize
    }

    /// The record id in cell `c`.
    #[inline]
    pub fn cell(&self, actors: usize, c: u32) -> u32 {
        self.words.get(actors + c as usize).copied().unwrap_or(0)
    }
}

impl Cells {
    pub fn new(actors: usize) -> Cells {
        Cells {
            actors,
            cells: Vec::new(),
            cell_of: FxHashMap::default(),
            of_table: Default::default(),
            recs: vec![(u32::MAX, None, 0)],
            rec_of: FxHashMap::default(),
            reapers: Vec::new(),
            reaper_of: FxHashMap::default(),
        }
    }

    pub fn actors(&self) -> usize {
        self.actors
    }

    pub fn cell(&mut self, table: usize, key: &Key) -> u32 {
        if let Some(&c) = self.cell_of.get(&(table, key.clone())) {
            return c;
        }
        let c = self.cells.len() as u32;
        self.cells.push((table, key.clone()));
        self.cell_of.insert((table, key.clone()), c);
        self.of_table[table].push(c);
        c
    }

    pub fn table_of(&self, c: u32) -> usize {
        self.cells[c as usize].0
    }

    /// The id of record `rec` in cell `c` (0 for none); records equal by the model's `==` share one.
    pub fn record(&mut self, c: u32, rec: Option<Rec>) -> u32 {
        let Some(rec) = rec else { return 0 };
        let share = digest::entry(&self.cells[c as usize].1, &rec);
        let ids = self.rec_of.entry((c, share)).or_default();
        if let Some(&id) = ids
            .iter()
            .find(|&&id| self.recs[id as usize].1.as_deref() == Some(&*rec))
        {
            return id;
        }
        let id = self.recs.len() as u32;
        ids.push(id);
        self.recs.push((c, Some(rec), share));
        id
    }

    pub fn reaper_id(&mut self, r: &Reaper) -> u32 {
        if let Some(&id) = self.reaper_of.get(r) {
            return id;
        }
        let id = self.reapers.len() as u32;
        self.reapers.push(r.clone());
        self.reaper_of.insert(r.clone(), id);
        id
    }

    pub fn reaper(&self, id: u32) -> &Reaper {
        &self.reapers[id as usize]
    }

    /// A node packed: its tables' records interned cell by cell.
    pub fn pack(&mut self, node: &Node) -> Result<Packed> {
        let mut words: Vec<u32> = (0..self.actors)
            .map(|i| pcw(node.pcs[i], node.waiting[i]))
            .collect();
        let mut digests = [0u64; N_TABLES];
        for (t, d) in digests.iter_mut().enumerate() {
            for (k, r) in node.model.tables[t].items()? {
                let c = self.cell(t, &k);
                let id = self.record(c, Some(r));
                let at = self.actors + c as usize;
                if words.len() <= at {
                    words.resize(at + 1, 0);
                }
                words[at] = id;
                *d = d.wrapping_add(self.recs[id as usize].2);
            }
        }
        Ok(Packed {
            words: words.into(),
            digests,
            reaper: self.reaper_id(&node.reaper),
            kills: node.kills,
            needless: node.needless,
            panicked: node.panicked,
        })
    }

    /// The node a packed state stands for.
    pub fn node(&self, p: &Packed) -> Result<Node> {
        let mut model = State::hashed();
        for (c, (t, k)) in self.cells.iter().enumerate() {
            if let (_, Some(rec), _) = &self.recs[p.cell(self.actors, c as u32) as usize] {
                model.tables[*t].set(k.clone(), rec.clone())?;
            }
        }
        Ok(Node {
            model,
            pcs: (0..self.actors).map(|i| p.pcw(i) >> 1).collect(),
            waiting: (0..self.actors).map(|i| p.pcw(i) & 1 == 1).collect(),
            reaper: self.reaper(p.reaper).clone(),
            kills: p.kills,
            needless: p.needless,
            panicked: p.panicked,
        })
    }

    pub fn fingerprint(&self, p: &Packed) -> u64 {
        self.print(
            p,
            &p.digests,
            None,
            p.reaper,
            [p.kills, p.needless],
            p.panicked,
        )
    }

    fn print(
        &self,
        p: &Packed,
        digests: &[u64; N_TABLES],
        actor: Option<(usize, u32)>,
        reaper: u32,
        counts: [u32; 2],
        panicked: bool,
    ) -> u64 {
        let pcws = (0..self.actors).map(|i| match actor {
            Some((a, w)) if a == i => w,
            _ => p.pcw(i),
        });
        let model = State::digest_of(digests);
        fingerprint_of(model, pcws, self.reaper(reaper), counts, panicked)
    }

    /// The fingerprint of the state `e` leads to from `p`, without making that state.
    pub fn fingerprint_after(&self, p: &Packed, e: &Effect) -> u64 {
        let mut digests = p.digests;
        for &(c, id) in e.writes.iter() {
            let d = &mut digests[self.table_of(c)];
            let old = self.recs[p.cell(self.actors, c) as usize].2;
            *d = d.wrapping_sub(old).wrapping_add(self.recs[id as usize].2);
        }
        let counts = [p.kills + e.kills, p.needless + e.needless];
        self.print(
            p,
            &digests,
            e.actor,
            e.reaper.unwrap_or(p.reaper),
            counts,
            e.panicked,
        )
    }

    /// The state `e` leads to from `p`.
    pub fn after(&self, p: &Packed, e: &Effect) -> Packed {
        let mut words = p.words.to_vec();
        let mut digests = p.digests;
        for &(c, id) in e.writes.iter() {
            let at = self.actors + c as usize;
            if words.len() <= at {
                words.resize(at + 1, 0);
            }
            let d = &mut digests[self.table_of(c)];
            *d = d
                .wrapping_sub(self.recs[words[at] as usize].2)
                .wrapping_add(self.recs[id as usize].2);
            words[at] = id;
        }
        if let Some((a, w)) = e.actor {
            words[a] = w;
        }
        Packed {
            words: words.into(),
            digests,
            reaper: e.reaper.unwrap_or(p.reaper),
            kills: p.kills + e.kills,
            needless: p.needless + e.needless,
            panicked: e.panicked,
        }
    }
}
