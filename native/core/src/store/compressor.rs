//! Compression of one writer's blocks, with a dictionary learnt from its own first blocks.
//!
//! Small blocks of the same records compress poorly from nothing, so the blocks of the kinds a dictionary will
//! serve go out plain at first while their latest raw payloads are kept, up to a share each; `dictionary()` then
//! joins those samples into a raw-content dictionary (a block of its own) that every later block of those kinds is
//! compressed with.

use super::format::Compressor;
use crate::error::Result;

/// zstd level of the event, change-list and state blocks. Measured on a 30 MB OOM-dense log's 521k events
/// (`write_bench`): levels 5 (events) and 7 (state) made 4.56 MB in 1.6–2.0 s of CPU, level 3 for both 4.91 MB
/// in 0.9–1.4 s; the keyframes' small blocks are where the higher levels spent their time.
pub const BLOCK_LEVEL: i32 = 3;

pub struct BlockCompressor {
    shares: Vec<(u8, usize)>,
    samples: Vec<Vec<u8>>,
    level: i32,
    plain: Compressor,
    with_dict: Option<Compressor>,
    zdict: Option<Vec<u8>>,
}

impl BlockCompressor {
    /// `shares`: (block kind, bytes of samples kept), in increasing kind order.
    pub fn new(shares: &[(u8, usize)], level: i32) -> Result<BlockCompressor> {
        Ok(BlockCompressor {
            shares: shares.to_vec(),
            samples: vec![Vec::new(); shares.len()],
            level,
            plain: Compressor::new(level, None)?,
            with_dict: None,
            zdict: None,
        })
    }

    pub fn kinds(&self) -> Vec<u8> {
        self.shares.iter().map(|(k, _)| *k).collect()
    }

    pub fn compress(&mut self, kind: u8, raw: &[u8]) -> Result<Vec<u8>> {
        let Some(i) = self.shares.iter().position(|(k, _)| *k == kind) else {
            return self.plain.compress(raw);
        };
        if let Some(c) = &mut self.with_dict {
            return c.compress(raw);
        }
        let (share, sample) = (self.shares[i].1, &mut self.samples[i]);
        sample.extend_from_slice(raw);
        if sample.len() > share {
            sample.drain(..sample.len() - share);
        }
        self.plain.compress(raw)
    }

    /// The dictionary: from now on, the blocks of its kinds are compressed with it. None when no block of its
    /// kinds came yet (a long log of chatter changes no state): those then stay plain.
    pub fn dictionary(&mut self) -> Result<Option<&[u8]>> {
        let zdict: Vec<u8> = self.samples.concat();
        if zdict.is_empty() {
            return Ok(None);
        }
        self.with_dict = Some(Compressor::new(self.level, Some(&zdict))?);
        self.samples.clear();
        self.zdict = Some(zdict);
        Ok(self.zdict.as_deref())
    }
}
