//! A small thread-safe LRU for the reader's caches (tens to hundreds of entries: a scan on eviction is cheaper
//! than keeping an order list).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

use crate::error::Result;

pub struct Lru<K, V> {
    cap: usize,
    inner: Mutex<(HashMap<K, (V, u64)>, u64)>,
}

impl<K: Eq + Hash + Clone, V: Clone> Lru<K, V> {
    pub fn new(cap: usize) -> Lru<K, V> {
        Lru {
            cap,
            inner: Mutex::new((HashMap::with_capacity(cap + 1), 0)),
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.1 += 1;
        let tick = g.1;
        g.0.get_mut(key).map(|(v, t)| {
            *t = tick;
            v.clone()
        })
    }

    pub fn put(&self, key: K, value: V) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.1 += 1;
        let tick = g.1;
        g.0.insert(key, (value, tick));
        if g.0.len() > self.cap {
            if let Some(oldest) =
                g.0.iter()
                    .min_by_key(|(_, (_, t))| *t)
                    .map(|(k, _)| k.clone())
            {
                g.0.remove(&oldest);
            }
        }
    }

    /// The cached value, or `load()`'s, kept (a failed load is not).
    pub fn get_or(&self, key: &K, load: impl FnOnce() -> Result<V>) -> Result<V> {
        if let Some(v) = self.get(key) {
            return Ok(v);
        }
        let v = load()?;
        self.put(key.clone(), v.clone());
        Ok(v)
    }
}
