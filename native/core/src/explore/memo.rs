//! The moves already worked out, so that the model runs once per distinct move rather than once per state.
//!
//! A move's result is a function of what it reads: its actor's position, the reaper when it reads it (the
//! reaper's own moves, a kill), and the records its code and `apply` look at, which the read log
//! (`model::reads`) sees. So a move is first made on its state's `Node` with the log on; the cells it read (and
//! the tables it read whole) are kept with the effect, and every later state that agrees on all of them gets
//! that effect without the model: there the move's code would follow the very same path. What a move reads
//! depends on the state (the OOM killer reads more when there are victims), so each position keeps the read
//! sets met, each with the effects seen per content of those cells.

use rustc_hash::FxHashMap;

use super::moves::{perform, Who};
use super::node::pcw;
use super::packed::{Cells, Effect, Packed};
use super::program::{Op, Program};
use crate::error::Result;
use crate::model::reads::{Access, Log};

/// A move as the search needs it: its effect, what the witness and the reduction know of it.
pub struct Move {
    pub effect: Effect,
    pub step: Option<usize>,
    pub victim: Option<i64>,
    /// the move recorded an anomaly
    pub anomaly: bool,
}

/// One set of cells some move read, and the move (None: none enabled) per content of those cells.
struct Reads {
    cells: Box<[u32]>,
    whole: Box<[usize]>,
    results: FxHashMap<Box<[u32]>, Option<u32>>,
}

#[derive(Default)]
pub struct Memo {
    /// per (who, its position, the reaper when the move reads it): the read sets met
    slots: FxHashMap<(u32, u32, u32), Vec<Reads>>,
    pub moves: Vec<Move>,
    key: Vec<u32>,
}

/// What the state holds in the cells and whole tables read, as one key.
fn key_of(key: &mut Vec<u32>, reads: (&[u32], &[usize]), cells: &Cells, p: &Packed) {
    let n = cells.actors();
    key.clear();
    key.extend(reads.0.iter().map(|&c| p.cell(n, c)));
    for &t in reads.1 {
        for &c in &cells.of_table[t] {
            let id = p.cell(n, c);
            if id != 0 {
                key.extend([c, id]);
            }
        }
        key.push(u32::MAX);
    }
}

impl Memo {
    /// `who`'s move from `p` (an index into `moves`), or None when it has none. `p` has not panicked.
    pub fn get(
        &mut self,
        prog: &Program,
        cells: &mut Cells,
        p: &Packed,
        who: Who,
    ) -> Result<Option<u32>> {
        let (who_word, at, reads_reaper) = match who {
            Who::Reaper => (u32::MAX, 0, true),
            Who::Actor(i) => {
                let step = prog.actors[i].steps.get(p.pc(i));
                let kill = step.is_some_and(|s| matches!(s.op, Op::Kill { .. }));
                (i as u32, p.pcw(i), kill)
            }
        };
        let slot = (who_word, at, if reads_reaper { p.reaper } else { u32::MAX });
        if let Some(list) = self.slots.get(&slot) {
            for r in list {
                key_of(&mut self.key, (&r.cells, &r.whole), cells, p);
                if let Some(&m) = r.results.get(&self.key[..]) {
                    return Ok(m);
                }
            }
        }
        let (reads, m) = self.work_out(prog, cells, p, who, reads_reaper)?;
        key_of(&mut self.key, (&reads.0, &reads.1), cells, p);
        let list = self.slots.entry(slot).or_default();
        let at = match list
            .iter()
            .position(|r| (&r.cells, &r.whole) == (&reads.0, &reads.1))
        {
            Some(at) => at,
            None => {
                list.push(Reads {
                    cells: reads.0,
                    whole: reads.1,
                    results: FxHashMap::default(),
                });
                list.len() - 1
            }
        };
        list[at].results.insert(self.key.as_slice().into(), m);
        Ok(m)
    }

    /// Make the move on `p`'s node with the read log on: what it read, and the move.
    #[allow(clippy::type_complexity)]
    fn work_out(
        &mut self,
        prog: &Program,
        cells: &mut Cells,
        p: &Packed,
        who: Who,
        reads_reaper: bool,
    ) -> Result<((Box<[u32]>, Box<[usize]>), Option<u32>)> {
        let mut node = cells.node(p)?;
        let log = Log::new();
        node.model.log_to(&log);
        let moved = perform(prog, &node, who, false)?;
        let (mut read, mut whole, mut wrote) = (Vec::new(), Vec::new(), Vec::new());
        for (t, a) in log.take() {
            match a {
                Access::Read(k) => read.push(cells.cell(t, &k)),
                Access::Whole => whole.push(t),
                Access::Wrote(k) => wrote.push((cells.cell(t, &k), t, k)),
            }
        }
        read.sort_unstable();
        read.dedup();
        whole.sort_unstable();
        whole.dedup();
        wrote.sort_by_key(|w| w.0);
        wrote.dedup_by_key(|w| w.0);
        let reads = (read.into_boxed_slice(), whole.into_boxed_slice());
        let Some(m) = moved else {
            return Ok((reads, None));
        };
        let mut writes = Vec::with_capacity(wrote.len());
        for (c, t, k) in wrote {
            let rec = m.node.model.tables[t].get(&k)?;
            writes.push((c, cells.record(c, rec)));
        }
        // only the reaper's moves and kills touch the reaper (`moves`), so only theirs key on it
        assert!(reads_reaper || m.node.reaper == node.reaper);
        let effect = Effect {
            writes: writes.into(),
            actor: match who {
                Who::Actor(i) => Some((i, pcw(m.node.pcs[i], m.node.waiting[i]))),
                Who::Reaper => None,
            },
            reaper: reads_reaper.then(|| cells.reaper_id(&m.node.reaper)),
            kills: m.node.kills - node.kills,
            needless: m.node.needless - node.needless,
            panicked: m.node.panicked,
        };
        self.moves.push(Move {
            effect,
            step: m.step,
            victim: m.victim,
            anomaly: m.node.anomalies() > node.anomalies(),
        });
        Ok((reads, Some(self.moves.len() as u32 - 1)))
    }
}
