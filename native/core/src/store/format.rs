//! The `.oomtrace` byte layout: header, framed blocks, trailer, and bounded decompression.
//!
//! ```text
//! header   "OOMTRACE" u16 version u16 reserved u32 crc32(first 12 bytes)                     16 bytes
//! block*   u8 type  u32 payload length  u32 crc32(type, length, payload)  payload            9 + n bytes
//! trailer  "OOMTRAIL" u64 offset of the INDEX block  u32 version  u32 crc32(first 20 bytes)   24 bytes
//! ```
//!
//! Every payload is msgpack, zstd-compressed except the meta and source-file blocks (format 1 used zlib; its
//! files are still read). A reader trusts nothing it has not checked: lengths against the file size, every block
//! against its CRC, every inflate against an output cap and against what its bytes can expand to.

use std::io::Read;

use crate::error::{Error, Result};

/// 2: blocks compressed with zstd (1: zlib).
pub const FORMAT_VERSION: u16 = 2;
pub const MAGIC: &[u8; 8] = b"OOMTRACE";
pub const TRAILER_MAGIC: &[u8; 8] = b"OOMTRAIL";
pub const HEADER_SIZE: usize = 16;
pub const BLOCK_HEAD: usize = 9;
pub const TRAILER_SIZE: usize = 24;

pub const META: u8 = 1;
pub const EVENTS: u8 = 2;
pub const PAGE: u8 = 3;
pub const KEYFRAME: u8 = 4;
pub const POSTINGS: u8 = 5;
pub const SOURCE_FILE: u8 = 6;
pub const SOURCE: u8 = 7;
pub const DIRECTORY: u8 = 8;
pub const OVERVIEW: u8 = 9;
pub const INDEX: u8 = 10;
pub const WORKSET: u8 = 11;
pub const DICTIONARY: u8 = 12;

pub fn block_name(kind: u8) -> Option<&'static str> {
    Some(match kind {
        META => "meta",
        EVENTS => "events",
        PAGE => "state page",
        KEYFRAME => "keyframe",
        POSTINGS => "change list",
        SOURCE_FILE => "source file",
        SOURCE => "source text",
        DIRECTORY => "change-list directory",
        OVERVIEW => "overview",
        INDEX => "index",
        WORKSET => "working set",
        DICTIONARY => "compression dictionary",
        _ => return None,
    })
}

/// The blocks stored as plain msgpack.
pub fn uncompressed(kind: u8) -> bool {
    kind == META || kind == SOURCE_FILE
}

/// No block this writer makes comes near these; a reader refuses anything larger before allocating it.
pub const MAX_PAYLOAD: usize = 64 << 20;
pub const MAX_INFLATED: usize = 256 << 20;
const ZSTD_MAGIC: &[u8; 4] = b"\x28\xb5\x2f\xfd";
/// The most a zstd frame can expand (a 128 KiB block from a 4-byte RLE block): a frame claiming more lies.
const ZSTD_MAX_EXPANSION: u64 = 32 << 10;

pub fn crc(parts: &[&[u8]]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    for p in parts {
        h.update(p);
    }
    h.finalize()
}

/// A framed block: type, length, CRC, payload.
pub fn frame(kind: u8, payload: &[u8], out: &mut Vec<u8>) {
    let mut head = [0u8; 5];
    head[0] = kind;
    head[1..5].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&head);
    out.extend_from_slice(&crc(&[&head, payload]).to_le_bytes());
    out.extend_from_slice(payload);
}

pub fn header_bytes(version: u16) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    let c = crc(&[&out]);
    out.extend_from_slice(&c.to_le_bytes());
    out
}

pub fn trailer_bytes(index_offset: u64, version: u16) -> Vec<u8> {
    let mut out = TRAILER_MAGIC.to_vec();
    out.extend_from_slice(&index_offset.to_le_bytes());
    out.extend_from_slice(&(version as u32).to_le_bytes());
    let c = crc(&[&out]);
    out.extend_from_slice(&c.to_le_bytes());
    out
}

/// The format version of a header, after checking its magic and CRC.
pub fn check_header(data: &[u8], name: &str) -> Result<u16> {
    if data.len() < HEADER_SIZE || &data[..8] != MAGIC {
        return Err(Error::Trace(format!(
            "{name}: not an oomtrace file (no OOMTRACE header)"
        )));
    }
    let version = u16::from_le_bytes([data[8], data[9]]);
    let stored = u32::from_le_bytes(data[12..16].try_into().unwrap());
    if crc(&[&data[..12]]) != stored {
        return Err(Error::Trace(format!(
            "{name}: header at offset 0 is damaged (CRC mismatch)"
        )));
    }
    if version > FORMAT_VERSION {
        return Err(Error::Version(format!(
            "{name}: written in trace format {version} by a newer oomreplay; this version reads formats up to \
             {FORMAT_VERSION}. Upgrade oomreplay to open it"
        )));
    }
    Ok(version)
}

/// zstd at `level`, with a raw-content dictionary when given; content size in the frame, no checksum (the
/// block's CRC covers it) and no dictionary id (the index says which dictionary).
pub struct Compressor {
    inner: zstd::bulk::Compressor<'static>,
}

impl Compressor {
    pub fn new(level: i32, dict: Option<&[u8]>) -> Result<Compressor> {
        let mut inner = match dict {
            Some(d) => zstd::bulk::Compressor::with_dictionary(level, d)?,
            None => zstd::bulk::Compressor::new(level)?,
        };
        use zstd::zstd_safe::CParameter;
        inner.set_parameter(CParameter::ChecksumFlag(false))?;
        inner.set_parameter(CParameter::ContentSizeFlag(true))?;
        inner.set_parameter(CParameter::DictIdFlag(false))?;
        Ok(Compressor { inner })
    }

    pub fn compress(&mut self, data: &[u8]) -> Result<Vec<u8>> {
        Ok(self.inner.compress(data)?)
    }
}

/// A zstd frame, or a zlib stream of format 1; never more than `MAX_INFLATED` bytes, and never an allocation
/// a frame's header asks for beyond what its bytes can expand to.
pub fn decompress(data: &[u8], where_: &str, dict: Option<&[u8]>) -> Result<Vec<u8>> {
    if data.len() < 4 || &data[..4] != ZSTD_MAGIC {
        return inflate(data, where_, dict);
    }
    let size = match zstd::zstd_safe::get_frame_content_size(data) {
        Ok(Some(n)) => n,
        Ok(None) => {
            return Err(Error::Trace(format!(
                "{where_}: cannot decompress (no content size in the zstd frame)"
            )))
        }
        Err(_) => {
            return Err(Error::Trace(format!(
                "{where_}: cannot decompress (not a zstd frame)"
            )))
        }
    };
    if size > MAX_INFLATED as u64 {
        return Err(Error::Trace(format!(
            "{where_}: decompresses to more than {} MiB",
            MAX_INFLATED >> 20
        )));
    }
    if size > data.len() as u64 * ZSTD_MAX_EXPANSION {
        return Err(Error::Trace(format!(
            "{where_}: cannot decompress (a frame of {} bytes claims {size})",
            data.len()
        )));
    }
    let out = DECOMPRESSORS.with(|cell| -> std::io::Result<Vec<u8>> {
        let mut cache = cell.borrow_mut();
        let key = dict.map(fingerprint);
        let at = match cache.iter().position(|(k, _)| *k == key) {
            Some(at) => at,
            None => {
                let d = match dict {
                    Some(d) => zstd::bulk::Decompressor::with_dictionary(d)?,
                    None => zstd::bulk::Decompressor::new()?,
                };
                if cache.len() >= 4 {
                    cache.remove(0);
                }
                cache.push((key, d));
                cache.len() - 1
            }
        };
        cache[at].1.decompress(data, size as usize)
    });
    let out = out.map_err(|e| Error::Trace(format!("{where_}: cannot decompress ({e})")))?;
    if out.len() as u64 != size {
        return Err(Error::Trace(format!(
            "{where_}: cannot decompress (the frame holds {} bytes, not {size})",
            out.len()
        )));
    }
    Ok(out)
}

/// Decompressors by dictionary fingerprint.
type CachedDecompressors = Vec<(
    Option<(usize, usize, u32)>,
    zstd::bulk::Decompressor<'static>,
)>;

/// A dictionary's address, length and the CRC of its ends: the same dictionary whenever it matches (another one
/// at a freed address would have to agree on both ends too), for a fraction of hashing it whole.
fn fingerprint(d: &[u8]) -> (usize, usize, u32) {
    let edge = d.len().min(4096);
    (
        d.as_ptr() as usize,
        d.len(),
        crc(&[&d[..edge], &d[d.len() - edge..]]),
    )
}

thread_local! {
    /// Loading a dictionary costs more than inflating a small block with it: each thread keeps the last few.
    static DECOMPRESSORS: std::cell::RefCell<CachedDecompressors> = const { std::cell::RefCell::new(Vec::new()) };
}

fn inflate(data: &[u8], where_: &str, dict: Option<&[u8]>) -> Result<Vec<u8>> {
    let mut d = flate2::Decompress::new(true);
    let mut out = Vec::with_capacity((data.len() * 4).min(MAX_INFLATED));
    let fail = |e: String| Error::Trace(format!("{where_}: cannot decompress ({e})"));
    let mut pos = 0usize;
    loop {
        if out.len() == out.capacity() {
            if out.len() >= MAX_INFLATED {
                return Err(Error::Trace(format!(
                    "{where_}: decompresses to more than {} MiB",
                    MAX_INFLATED >> 20
                )));
            }
            out.reserve((out.len()).clamp(4096, MAX_INFLATED - out.len()));
        }
        let before = d.total_in() as usize;
        let status = d.decompress_vec(&data[pos..], &mut out, flate2::FlushDecompress::Finish);
        pos += d.total_in() as usize - before;
        match status {
            Ok(flate2::Status::StreamEnd) => return Ok(out),
            Ok(_) => {
                if pos >= data.len() && out.len() < out.capacity() {
                    return Err(fail("the stream is cut short".into()));
                }
            }
            Err(e) if e.needs_dictionary().is_some() => match dict {
                Some(zd) => {
                    d.set_dictionary(zd).map_err(|e| fail(e.to_string()))?;
                }
                None => return Err(fail("the stream needs a dictionary".into())),
            },
            Err(e) => return Err(fail(e.to_string())),
        }
    }
}

/// zlib, for the tests of format 1 files (the writer never makes them).
pub fn deflate_for_tests(data: &[u8], dict: Option<&[u8]>) -> Vec<u8> {
    let mut c = flate2::Compress::new(flate2::Compression::new(6), true);
    if let Some(d) = dict {
        c.set_dictionary(d).expect("zlib dictionary");
    }
    let mut out = Vec::with_capacity(data.len() + 64);
    c.compress_vec(data, &mut out, flate2::FlushCompress::Finish)
        .expect("zlib");
    out
}

/// Little-endian i64s, the index's packed integer arrays.
pub fn ints_to_bytes(values: &[i64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

pub fn ints_from_bytes(data: &[u8]) -> Result<Vec<i64>> {
    if data.len() % 8 != 0 {
        return Err(Error::Trace(format!(
            "integer column of {} bytes is not a multiple of 8",
            data.len()
        )));
    }
    Ok(data
        .chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
        .collect())
}

pub fn read_all(mut r: impl Read) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    r.read_to_end(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zstd_round_trip_with_and_without_a_dictionary() {
        let dict = b"task_state comm a.out kworker".repeat(20);
        let data = b"task_state comm a.out kworker/1:2 and more".repeat(50);
        for d in [None, Some(&dict[..])] {
            let z = Compressor::new(5, d).unwrap().compress(&data).unwrap();
            assert_eq!(decompress(&z, "t", d).unwrap(), data);
        }
    }

    #[test]
    fn zlib_of_format_1_with_a_dictionary() {
        let dict = b"the quick brown fox".repeat(10);
        let data = b"the quick brown fox jumps".repeat(100);
        let z = deflate_for_tests(&data, Some(&dict));
        assert_eq!(decompress(&z, "t", Some(&dict)).unwrap(), data);
        assert!(decompress(&z, "t", None).is_err());
        assert!(decompress(&z[..z.len() / 2], "t", Some(&dict)).is_err());
    }

    #[test]
    fn lying_zstd_frames_are_refused() {
        let z = Compressor::new(5, None)
            .unwrap()
            .compress(&vec![7u8; 1 << 20])
            .unwrap();
        assert!(decompress(&z[..z.len() - 3], "t", None).is_err());
        let mut claims = z.clone();
        claims[5] ^= 0x40; // the content size field
        assert!(decompress(&claims, "t", None).is_err());
    }

    #[test]
    fn header_and_trailer() {
        let h = header_bytes(2);
        assert_eq!(check_header(&h, "x").unwrap(), 2);
        assert!(matches!(
            check_header(&header_bytes(9), "x"),
            Err(Error::Version(_))
        ));
        let mut bad = h.clone();
        bad[9] ^= 1;
        assert!(check_header(&bad, "x").is_err());
        assert_eq!(trailer_bytes(123, 2).len(), TRAILER_SIZE);
    }
}
