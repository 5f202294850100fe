//! Which of a few fixed words a message holds, in one pass over its bytes: the guards of the families and the
//! bulk path's stop words. Python asks `word in msg` once per word (a C loop each); here a table of the words'
//! first bytes picks the places worth comparing, so a line is read once whatever the number of words.

use std::sync::OnceLock;

/// A set of at most 64 ASCII words.
pub struct Needles {
    /// for each byte, the words starting with it: (index, word)
    by_first: Vec<Vec<(u8, &'static [u8])>>,
    /// the words' first two bytes, as bits of a 65536-bit map
    pairs: Vec<u64>,
}

#[inline(always)]
fn pair(a: u8, b: u8) -> usize {
    a as usize | (b as usize) << 8
}

/// `hay[i..].starts_with(w)`, where the first two bytes are known to match (no call to memcmp for a few bytes).
#[inline(always)]
fn rest_matches(hay: &[u8], i: usize, w: &[u8]) -> bool {
    hay.len() - i >= w.len()
        && hay[i + 2..i + w.len()]
            .iter()
            .zip(&w[2..])
            .all(|(a, b)| a == b)
}

impl Needles {
    pub fn new(words: &[&'static str]) -> Needles {
        assert!(words.len() <= 64 && words.iter().all(|w| w.len() >= 2 && w.is_ascii()));
        let mut by_first = vec![Vec::new(); 256];
        let mut pairs = vec![0u64; 1024];
        for (i, w) in words.iter().enumerate() {
            let b = w.as_bytes();
            by_first[b[0] as usize].push((i as u8, b));
            let p = pair(b[0], b[1]);
            pairs[p / 64] |= 1 << (p % 64);
        }
        Needles { by_first, pairs }
    }

    /// The words `hay` holds, as bits by index.
    #[inline]
    pub fn mask(&self, hay: &str) -> u64 {
        let b = hay.as_bytes();
        let mut m = 0u64;
        for i in 0..b.len().saturating_sub(1) {
            let p = pair(b[i], b[i + 1]);
            if self.pairs[p / 64] & (1 << (p % 64)) != 0 {
                for &(k, w) in &self.by_first[b[i] as usize] {
                    if w[1] == b[i + 1] && rest_matches(b, i, w) {
                        m |= 1 << k;
                    }
                }
            }
        }
        m
    }

    /// Whether `hay` holds any of the words.
    #[inline]
    pub fn any(&self, hay: &str) -> bool {
        let b = hay.as_bytes();
        for i in 0..b.len().saturating_sub(1) {
            let p = pair(b[i], b[i + 1]);
            if self.pairs[p / 64] & (1 << (p % 64)) != 0
                && self.by_first[b[i] as usize]
                    .iter()
                    .any(|&(_, w)| w[1] == b[i + 1] && rest_matches(b, i, w))
            {
                return true;
            }
        }
        false
    }
}

/// A `Needles` made once.
pub struct Lazy {
    cell: OnceLock<Needles>,
    words: &'static [&'static str],
}

impl Lazy {
    pub const fn new(words: &'static [&'static str]) -> Lazy {
        Lazy {
            cell: OnceLock::new(),
            words,
        }
    }

    #[inline]
    pub fn get(&self) -> &Needles {
        self.cell.get_or_init(|| Needles::new(self.words))
    }
}

/// Whether `s` starts with one of `words` (the first byte compared before the rest).
#[inline]
pub fn starts_any(s: &str, words: &[&str]) -> bool {
    let Some(&c) = s.as_bytes().first() else {
        return false;
    };
    words
        .iter()
        .any(|w| w.as_bytes()[0] == c && s.starts_with(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_word_as_contains_does() {
        let n = Needles::new(&["oom", " 0x", "Kill", "Killed"]);
        assert_eq!(n.mask("xx Killed oom 0x"), 0b1111);
        assert_eq!(n.mask("oo m Kil l"), 0);
        assert!(n.any("é oom") && !n.any("éoo"));
    }
}
