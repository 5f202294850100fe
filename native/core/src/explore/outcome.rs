//! How a path ends, read from its last node: each victim's end, how many kills, whether one was made while
//! memory was above a high watermark, who is blocked forever, whether an invariant broke, a panic. Two paths
//! with the same `Outcome` are one outcome class.

use super::kernel::status;
use super::node::Node;
use super::program::Program;
use crate::error::Result;
use crate::model::state::{f, T_ANOMALIES};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Outcome {
    /// (pid, reaped / unable / skipped / exited / pending) for every victim, by pid
    pub victims: Vec<(i64, &'static str)>,
    pub kills: u32,
    /// a kill was made while some zone's free memory was at or above its high watermark
    pub needless: bool,
    /// the actors that never finished: each is queued on a lock nobody will release
    pub blocked: Vec<usize>,
    /// the reaper still had work: it sleeps on `oom_lock` forever
    pub reaper_stuck: bool,
    /// the model recorded an anomaly (an invariant broke)
    pub anomaly: bool,
    pub panic: bool,
}

/// The outcome of a terminal node, and the first anomaly's message when there is one.
pub fn outcome_of(prog: &Program, node: &Node) -> Result<(Outcome, Option<String>)> {
    let mut victims = Vec::new();
    for v in node.victims()? {
        let pid = v[f::victim::PID].as_int().unwrap_or(-1);
        victims.push((pid, status(node, prog, pid)?));
    }
    victims.sort();
    let blocked = if node.panicked {
        Vec::new()
    } else {
        (0..prog.actors.len())
            .filter(|&i| (node.pcs[i] as usize) < prog.actors[i].steps.len())
            .collect()
    };
    let first = node.model.tables[T_ANOMALIES]
        .values()?
        .first()
        .map(|a| a[2].to_string());
    Ok((
        Outcome {
            victims,
            kills: node.kills,
            needless: node.needless > 0,
            blocked,
            reaper_stuck: !node.panicked && node.reaper.busy(),
            anomaly: first.is_some(),
            panic: node.panicked,
        },
        first,
    ))
}
