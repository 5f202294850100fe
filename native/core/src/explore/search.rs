//! The search: breadth first over the interleavings program order and lock blocking allow, every state
//! fingerprinted (`packed`: the fingerprint its `Node` would have) so a state reached twice is expanded once,
//! with or without the reduction (`reduce`), each move made by the model once and replayed from the `memo`. Breadth first makes the first path found to each outcome class a shortest one: that is its
//! witness, replayed from the start once the search is over to collect its events.
//!
//! The graph is acyclic, so the number of interleavings (complete paths) reaching each class is counted over
//! the explored graph in topological order at the end (with the reduction: the interleavings it kept).

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use rustc_hash::FxHashMap;

use super::memo::Memo;
use super::moves::{perform, Who};
use super::node::Node;
use super::outcome::{outcome_of, Outcome};
use super::packed::{Cells, Packed};
use super::program::Program;
use super::reduce::Independence;
use crate::error::Result;
use crate::model::Event;

/// One move of a witness, with the events it applied.
#[derive(Clone, Debug)]
pub struct WitnessStep {
    pub who: Who,
    /// take, wait, release, run, alloc, kill, wait_victim, no_killable, skip, done; the reaper's wake, drop,
    /// try, done
    pub what: &'static str,
    pub step: Option<usize>,
    pub victim: Option<i64>,
    pub events: Vec<Event>,
}

#[derive(Clone, Debug)]
pub struct Class {
    pub outcome: Outcome,
    pub anomaly: Option<String>,
    /// distinct final states in the class
    pub terminals: u64,
    /// complete interleavings reaching it (saturating)
    pub paths: u64,
    pub witness: Vec<WitnessStep>,
}

#[derive(Clone, Debug)]
pub struct Report {
    /// distinct states (fingerprints) reached
    pub states: u64,
    /// moves made (each one `apply` of its events and a fingerprint)
    pub transitions: u64,
    pub paths: u64,
    /// false when `max_states` stopped the search: some classes may be missing
    pub exhaustive: bool,
    pub classes: Vec<Class>,
    pub seconds: f64,
}

/// The moves to follow from `p` (indexes into the memo's moves): one alone when the reduction finds a
/// persistent one, else every move. A panicked kernel moves no more.
fn expand(
    prog: &Program,
    ind: Option<&Independence>,
    (memo, cells): (&mut Memo, &mut Cells),
    p: &Packed,
    out: &mut Vec<(Who, u32)>,
) -> Result<()> {
    out.clear();
    if p.panicked {
        return Ok(());
    }
    let who_all = (0..prog.actors.len()).map(Who::Actor).chain([Who::Reaper]);
    for who in who_all {
        let Some(m) = memo.get(prog, cells, p, who)? else {
            continue;
        };
        if let Some(ind) = ind {
            let mv = &memo.moves[m as usize];
            let fp = ind.of_move(who, mv.step, mv.victim, mv.effect.panicked, mv.anomaly);
            if ind.alone(who, &fp, |j| p.pc(j), cells.reaper(p.reaper).busy()) {
                out.clear();
                out.push((who, m));
                return Ok(());
            }
        }
        out.push((who, m));
    }
    Ok(())
}

/// Every outcome class reachable from the program's start, each with a shortest witness.
pub fn explore(prog: &Program, max_states: usize, reduce: bool) -> Result<Report> {
    let t0 = Instant::now();
    let root = Node::start(&prog.init, prog.actors.len())?;
    let ind = if reduce {
        Some(Independence::new(prog, &root)?)
    } else {
        None
    };
    let mut cells = Cells::new(prog.actors.len());
    let mut memo = Memo::default();
    let start = cells.pack(&root)?;
    let mut seen: FxHashMap<u64, u32> = FxHashMap::default();
    seen.insert(cells.fingerprint(&start), 0);
    // per state: the state it was first reached from, and by whom
    let mut parent: Vec<(u32, Who)> = vec![(u32::MAX, Who::Reaper)];
    let mut edges: Vec<(u32, u32)> = Vec::new();
    let mut classes: Vec<(Outcome, Option<String>, u32, u64)> = Vec::new();
    let mut class_of: HashMap<Outcome, usize> = HashMap::new();
    let mut terminal: Vec<(u32, usize)> = Vec::new();
    let mut queue = VecDeque::from([(0u32, start)]);
    let mut next = Vec::new();
    let (mut transitions, mut exhaustive) = (0u64, true);
    while let Some((i, p)) = queue.pop_front() {
        expand(prog, ind.as_ref(), (&mut memo, &mut cells), &p, &mut next)?;
        if next.is_empty() {
            let (outcome, anomaly) = outcome_of(prog, &cells.node(&p)?)?;
            let c = *class_of.entry(outcome.clone()).or_insert_with(|| {
                classes.push((outcome, anomaly, i, 0));
                classes.len() - 1
            });
            classes[c].3 += 1;
            terminal.push((i, c));
            continue;
        }
        for &(who, m) in &next {
            transitions += 1;
            let effect = &memo.moves[m as usize].effect;
            let fp = cells.fingerprint_after(&p, effect);
            if let Some(&j) = seen.get(&fp) {
                edges.push((i, j));
                continue;
            }
            if seen.len() >= max_states {
                exhaustive = false;
                continue;
            }
            let j = parent.len() as u32;
            seen.insert(fp, j);
            parent.push((i, who));
            edges.push((i, j));
            queue.push_back((j, cells.after(&p, effect)));
        }
    }
    let counts = paths(parent.len(), &edges);
    let mut per_class = vec![0u64; classes.len()];
    for &(t, c) in &terminal {
        per_class[c] = per_class[c].saturating_add(counts[t as usize]);
    }
    let mut out = Vec::new();
    for (c, (outcome, anomaly, at, terminals)) in classes.into_iter().enumerate() {
        out.push(Class {
            outcome,
            anomaly,
            terminals,
            paths: per_class[c],
            witness: witness(prog, &root, &parent, at)?,
        });
    }
    Ok(Report {
        states: parent.len() as u64,
        transitions,
        paths: per_class.iter().fold(0u64, |a, b| a.saturating_add(*b)),
        exhaustive,
        classes: out,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// How many paths lead from the start to each state, in topological order (Kahn's algorithm).
fn paths(n: usize, edges: &[(u32, u32)]) -> Vec<u64> {
    let mut indeg = vec![0u32; n];
    let mut first = vec![0usize; n + 1];
    for &(a, b) in edges {
        indeg[b as usize] += 1;
        first[a as usize + 1] += 1;
    }
    for i in 0..n {
        first[i + 1] += first[i];
    }
    let mut out = vec![0u32; edges.len()];
    let mut fill = first.clone();
    for &(a, b) in edges {
        out[fill[a as usize]] = b;
        fill[a as usize] += 1;
    }
    let mut count = vec![0u64; n];
    if n > 0 {
        count[0] = 1;
    }
    let mut ready: Vec<usize> = (0..n).filter(|&i| indeg[i] == 0).collect();
    while let Some(a) = ready.pop() {
        for &b in &out[first[a]..first[a + 1]] {
            let b = b as usize;
            count[b] = count[b].saturating_add(count[a]);
            indeg[b] -= 1;
            if indeg[b] == 0 {
                ready.push(b);
            }
        }
    }
    count
}

/// The moves from the start to state `at`, made again to collect their events.
fn witness(
    prog: &Program,
    root: &Node,
    parent: &[(u32, Who)],
    at: u32,
) -> Result<Vec<WitnessStep>> {
    let mut chain = Vec::new();
    let mut i = at;
    while i != 0 {
        let (p, who) = parent[i as usize];
        chain.push(who);
        i = p;
    }
    chain.reverse();
    let mut node = root.clone();
    let mut out = Vec::new();
    for who in chain {
        let m = perform(prog, &node, who, true)?
            .ok_or_else(|| crate::Error::Value("a witness move is no longer enabled".into()))?;
        out.push(WitnessStep {
            who,
            what: m.what,
            step: m.step,
            victim: m.victim,
            events: m.events.unwrap_or_default(),
        });
        node = m.node;
    }
    Ok(out)
}
