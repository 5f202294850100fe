//! What the converters' benchmarks share: the file cut into blocks of whole lines, about 1 MiB each (what
//! `convert` reads at a time).

/// The blocks of whole lines, about 1 MiB each.
pub fn line_blocks(data: &[u8]) -> Vec<&[u8]> {
    const BLOCK: usize = 1 << 20;
    let mut out = Vec::new();
    let mut start = 0;
    while start < data.len() {
        let end = (start + BLOCK).min(data.len());
        let end = memchr::memrchr(b'\n', &data[start..end]).map_or(data.len(), |n| start + n + 1);
        out.push(&data[start..end]);
        start = end;
    }
    out
}
