//! The timeline's mipmap: event counts per kind and free-memory min/max per time bucket, at every zoom level.
//!
//! The writer keeps at most `BUCKETS` base buckets, doubling their width (and merging neighbours) whenever the
//! trace outgrows them, so its memory does not depend on the trace's length. Level L of the reader's pyramid merges
//! 2^L base buckets; a query picks the finest level that answers it in a bounded number of buckets, so drawing any
//! zoom costs the same and never touches an event.

use super::format::{ints_from_bytes, ints_to_bytes};
use super::msgpack::{pack_array_len, pack_bin, pack_int, pack_map_len, pack_str};
use crate::error::{Error, Result};
use crate::model::schema::KINDS;
use crate::model::value::Value;

pub const BUCKETS: usize = 4096;
const FIRST_WIDTH: i64 = 1 << 20; // ~1 ms
const NONE_MIN: i64 = 1 << 62;
const NONE_MAX: i64 = -(1 << 62);

pub struct OverviewWriter {
    pub t0: Option<i64>,
    width: i64,
    counts: Vec<i64>,
    fmin: Vec<i64>,
    fmax: Vec<i64>,
}

impl Default for OverviewWriter {
    fn default() -> Self {
        OverviewWriter {
            t0: None,
            width: FIRST_WIDTH,
            counts: vec![0; BUCKETS * KINDS.len()],
            fmin: vec![NONE_MIN; BUCKETS],
            fmax: vec![NONE_MAX; BUCKETS],
        }
    }
}

impl OverviewWriter {
    fn coarsen(&mut self) {
        let nk = KINDS.len();
        let half = BUCKETS / 2;
        for i in 0..half {
            for k in 0..nk {
                self.counts[i * nk + k] =
                    self.counts[2 * i * nk + k] + self.counts[(2 * i + 1) * nk + k];
            }
            self.fmin[i] = self.fmin[2 * i].min(self.fmin[2 * i + 1]);
            self.fmax[i] = self.fmax[2 * i].max(self.fmax[2 * i + 1]);
        }
        self.counts[half * nk..].fill(0);
        self.fmin[half..].fill(NONE_MIN);
        self.fmax[half..].fill(NONE_MAX);
        self.width *= 2;
    }

    fn bucket(&mut self, ts: i64) -> usize {
        let t0 = *self.t0.get_or_insert(ts);
        loop {
            let b = (ts - t0).div_euclid(self.width);
            if b < BUCKETS as i64 {
                return b.max(0) as usize;
            }
            self.coarsen();
        }
    }

    /// Coarsen until `ts` (no earlier than any time added so far) falls in a bucket.
    pub fn fit(&mut self, ts: i64) {
        self.bucket(ts);
    }

    pub fn add(&mut self, ts: i64, kind: u8) {
        let b = self.bucket(ts);
        self.counts[b * KINDS.len() + kind as usize] += 1;
    }

    pub fn free(&mut self, ts: i64, free_kb: i64) {
        let b = self.bucket(ts);
        self.fmin[b] = self.fmin[b].min(free_kb);
        self.fmax[b] = self.fmax[b].max(free_kb);
    }

    pub fn payload(&self, out: &mut Vec<u8>) {
        pack_map_len(6, out);
        pack_str("t0", out);
        pack_int(self.t0.unwrap_or(0), out);
        pack_str("width", out);
        pack_int(self.width, out);
        pack_str("kinds", out);
        pack_array_len(KINDS.len(), out);
        for (k, _) in KINDS {
            pack_str(k, out);
        }
        for (name, col) in [
            ("counts", &self.counts),
            ("fmin", &self.fmin),
            ("fmax", &self.fmax),
        ] {
            pack_str(name, out);
            pack_bin(&ints_to_bytes(col), out);
        }
    }
}

/// One slice of a query: its span, event counts per kind (kind name, count; none left out), free memory range.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    pub t0_ns: i64,
    pub t1_ns: i64,
    pub counts: Vec<(usize, i64)>,
    pub free_min_kb: Option<i64>,
    pub free_max_kb: Option<i64>,
}

/// The reader's pyramid, built once from the base level.
pub struct Overview {
    t0: i64,
    width: i64,
    pub kinds: Vec<String>,
    levels: Vec<(Vec<i64>, Vec<i64>, Vec<i64>)>,
}

impl Overview {
    pub fn decode(payload: &Value, where_: &str) -> Result<Overview> {
        let bad = |m: &str| Error::Trace(format!("{where_}: bad overview ({m})"));
        let Value::Map(m) = payload else {
            return Err(bad("not a map"));
        };
        let get = |name: &str| {
            m.iter()
                .find(|(k, _)| k.as_str() == Some(name))
                .map(|(_, v)| v)
        };
        let int = |name: &str| get(name).and_then(Value::as_int).ok_or_else(|| bad(name));
        let bytes = |name: &str| match get(name) {
            Some(Value::Bin(b)) => ints_from_bytes(b),
            _ => Err(bad(name)),
        };
        let (t0, width) = (int("t0")?, int("width")?);
        let kinds: Vec<String> = get("kinds")
            .and_then(Value::as_list)
            .ok_or_else(|| bad("kinds"))?
            .iter()
            .map(|k| k.to_string())
            .collect();
        let (base, fmin, fmax) = (bytes("counts")?, bytes("fmin")?, bytes("fmax")?);
        let nk = kinds.len();
        if nk == 0
            || base.len() != nk * BUCKETS
            || fmin.len() != BUCKETS
            || fmax.len() != BUCKETS
            || width <= 0
        {
            return Err(Error::Trace(format!(
                "{where_}: overview has the wrong size"
            )));
        }
        let mut levels = vec![(base, fmin, fmax)];
        let mut n = BUCKETS;
        while n > 1 {
            let (c, lo, hi) = levels.last().unwrap();
            n /= 2;
            let mut merged = vec![0i64; n * nk];
            for i in 0..n {
                for k in 0..nk {
                    merged[i * nk + k] = c[2 * i * nk + k].saturating_add(c[(2 * i + 1) * nk + k]);
                }
            }
            let lo2 = (0..n).map(|i| lo[2 * i].min(lo[2 * i + 1])).collect();
            let hi2 = (0..n).map(|i| hi[2 * i].max(hi[2 * i + 1])).collect();
            levels.push((merged, lo2, hi2));
        }
        Ok(Overview {
            t0,
            width,
            kinds,
            levels,
        })
    }

    /// `buckets` equal slices of [t0, t1). Each pyramid cell goes whole to the slice holding its middle, so counts
    /// stay whole numbers and add up: a single kill never vanishes into fractions of neighbours.
    pub fn query(&self, t0: i64, t1: i64, buckets: usize) -> Vec<Bucket> {
        if buckets == 0 || t1 <= t0 {
            return Vec::new();
        }
        let step = (t1 - t0) as f64 / buckets as f64;
        let mut level = 0;
        while level + 1 < self.levels.len() && ((self.width << (level + 1)) as f64) <= step {
            level += 1;
        }
        let (counts, lo, hi) = &self.levels[level];
        let width = self.width << level;
        let nk = self.kinds.len();
        let mut totals = vec![vec![0i64; nk]; buckets];
        let mut fmin = vec![NONE_MIN; buckets];
        let mut fmax = vec![NONE_MAX; buckets];
        let first = ((t0 - self.t0).div_euclid(width)).max(0) as usize;
        let last = (lo.len() as i64)
            .min(-((-(t1 - self.t0)).div_euclid(width)))
            .max(0) as usize;
        for cell in first..last {
            let middle = self.t0 + cell as i64 * width + width / 2;
            let b = (((middle - t0) as f64 / step).floor() as i64).clamp(0, buckets as i64 - 1)
                as usize;
            for k in 0..nk {
                totals[b][k] += counts[cell * nk + k];
            }
            fmin[b] = fmin[b].min(lo[cell]);
            fmax[b] = fmax[b].max(hi[cell]);
        }
        (0..buckets)
            .map(|b| Bucket {
                t0_ns: t0 + (b as f64 * step) as i64,
                t1_ns: t0 + ((b + 1) as f64 * step) as i64,
                counts: totals[b]
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| **v != 0)
                    .map(|(k, v)| (k, *v))
                    .collect(),
                free_min_kb: (fmin[b] != NONE_MIN).then_some(fmin[b]),
                free_max_kb: (fmax[b] != NONE_MAX).then_some(fmax[b]),
            })
            .collect()
    }
}
