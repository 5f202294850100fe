//! `oomreplay explore`: every interleaving of a scenario's actors, run through the model's one `apply`, each
//! distinct outcome reported with the shortest interleaving that reaches it.
//!
//! `program` is what the search is given (the Python side parses and checks the scenario), `node` one point of
//! the search (the model's `State` and the actors' positions), `kernel` the decisions a step leaves to the state
//! (lock blocking, watermark checks, the OOM killer's choice), `moves` one actor's move and `reaper` the built-in reaper's,
//! `footprint` and `reduce` the partial-order reduction, `outcome` how a path ends, `search` the breadth-first search itself.

mod footprint;
mod kernel;
mod memo;
pub mod moves;
pub mod node;
pub mod outcome;
mod packed;
pub mod program;
mod reaper;
mod reduce;
pub mod search;

pub use moves::Who;
pub use outcome::Outcome;
pub use program::Program;
pub use search::{explore, Class, Report, WitnessStep};
