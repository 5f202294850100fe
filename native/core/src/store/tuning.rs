//! The sizes that shape a trace file. Every trace is written with the defaults (the reader takes whatever a file
//! says); tests shrink them so that a few hundred events cross every block, keyframe, page-block and change-list
//! boundary many times, and train the compression dictionaries early so most blocks use them.

/// See each field; `Tuning::default()` is what `TraceWriter::create` uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tuning {
    /// events per events block, and so the keyframe spacing (every block ends with one): one block read serves a
    /// step, and a seek's replay from its keyframe stays within one block
    pub block_events: usize,
    /// events blocks written before the writer trains the dictionary of the events and change-list blocks
    pub dictionary_at: usize,
    /// a scene cut (an OOM invocation, a kill, a reaper attempt) gets its own keyframe unless the last keyframe
    /// or the block's end is this close: at most two a block, since replaying 256 events is ~0.1 ms natively and
    /// each keyframe costs a working set and page blocks (at 64, an OOM-dense log's trace was 60 % larger and
    /// its writing slower: 0.98–1.47 s of CPU against 0.79–1.03 s on 521k events, `write_bench`)
    pub scene_cut_min_gap: usize,
    /// state pages (or patches) per page block: compressed together, inflated together
    pub pages_per_block: usize,
    /// keyframes are written in groups of this many, the first with the full page map, the others with only
    /// their own pieces: the reader builds any keyframe's map from one block
    pub full_map_every: usize,
    /// keyframes written before the state tracker trains its dictionary
    pub state_dictionary_at: usize,
    /// seqs per change-list chunk
    pub chunk: usize,
}

impl Default for Tuning {
    fn default() -> Tuning {
        Tuning {
            block_events: 512,
            dictionary_at: 16,
            scene_cut_min_gap: 256,
            pages_per_block: 32,
            full_map_every: 16,
            state_dictionary_at: 16,
            chunk: 4096,
        }
    }
}

impl Tuning {
    /// Every size at least 1 (a zero would make a block that never fills or a loop that never ends).
    pub fn checked(self) -> Result<Tuning, String> {
        let t = self;
        let sizes = [
            t.block_events,
            t.dictionary_at,
            t.scene_cut_min_gap,
            t.pages_per_block,
            t.full_map_every,
            t.state_dictionary_at,
            t.chunk,
        ];
        if sizes.contains(&0) {
            return Err(format!(
                "every size of a writer's tuning must be at least 1: {t:?}"
            ));
        }
        Ok(t)
    }
}
