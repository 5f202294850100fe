//! GFP masks printed as bare hex, named the way newer kernels print them (gfp.py, kernel-formats.md §2.9): from
//! 4.6 the kernel prints `0x14200ca(GFP_HIGHUSER_MOVABLE)`, kept as it is; a bare mask is decoded with the layout
//! of the only two eras that print one (3.x, and 4.0-4.5 whose masks carry `__GFP_KSWAPD_RECLAIM`), a deduction
//! the converter marks inferred.

use super::scan::Overflow;

const V3_FLAGS: &[(&str, u64)] = &[
    ("__GFP_DMA", 0x01),
    ("__GFP_HIGHMEM", 0x02),
    ("__GFP_DMA32", 0x04),
    ("__GFP_MOVABLE", 0x08),
    ("__GFP_WAIT", 0x10),
    ("__GFP_HIGH", 0x20),
    ("__GFP_IO", 0x40),
    ("__GFP_FS", 0x80),
    ("__GFP_COLD", 0x100),
    ("__GFP_NOWARN", 0x200),
    ("__GFP_REPEAT", 0x400),
    ("__GFP_NOFAIL", 0x800),
    ("__GFP_NORETRY", 0x1000),
    ("__GFP_MEMALLOC", 0x2000),
    ("__GFP_COMP", 0x4000),
    ("__GFP_ZERO", 0x8000),
    ("__GFP_NOMEMALLOC", 0x10000),
    ("__GFP_HARDWALL", 0x20000),
    ("__GFP_THISNODE", 0x40000),
    ("__GFP_RECLAIMABLE", 0x80000),
    ("__GFP_KMEMCG", 0x100000),
    ("__GFP_NOTRACK", 0x200000),
    ("__GFP_NO_KSWAPD", 0x400000),
    ("__GFP_OTHER_NODE", 0x800000),
    ("__GFP_WRITE", 0x1000000),
];
const V3_MASKS: &[(&str, u64)] = &[
    ("GFP_TRANSHUGE", 0x4352DA),
    ("GFP_HIGHUSER_MOVABLE", 0x200DA),
    ("GFP_HIGHUSER", 0x200D2),
    ("GFP_USER", 0x200D0),
    ("GFP_KERNEL", 0xD0),
    ("GFP_NOFS", 0x50),
    ("GFP_ATOMIC", 0x20),
    ("GFP_NOIO", 0x10),
];
const V4_FLAGS: &[(&str, u64)] = &[
    ("__GFP_DMA", 0x01),
    ("__GFP_HIGHMEM", 0x02),
    ("__GFP_DMA32", 0x04),
    ("__GFP_MOVABLE", 0x08),
    ("__GFP_RECLAIMABLE", 0x10),
    ("__GFP_HIGH", 0x20),
    ("__GFP_IO", 0x40),
    ("__GFP_FS", 0x80),
    ("__GFP_COLD", 0x100),
    ("__GFP_NOWARN", 0x200),
    ("__GFP_REPEAT", 0x400),
    ("__GFP_NOFAIL", 0x800),
    ("__GFP_NORETRY", 0x1000),
    ("__GFP_MEMALLOC", 0x2000),
    ("__GFP_COMP", 0x4000),
    ("__GFP_ZERO", 0x8000),
    ("__GFP_NOMEMALLOC", 0x10000),
    ("__GFP_HARDWALL", 0x20000),
    ("__GFP_THISNODE", 0x40000),
    ("__GFP_ATOMIC", 0x80000),
    ("__GFP_ACCOUNT", 0x100000),
    ("__GFP_NOTRACK", 0x200000),
    ("__GFP_DIRECT_RECLAIM", 0x400000),
    ("__GFP_OTHER_NODE", 0x800000),
    ("__GFP_WRITE", 0x1000000),
    ("__GFP_KSWAPD_RECLAIM", 0x2000000),
];
const V4_MASKS: &[(&str, u64)] = &[
    ("GFP_TRANSHUGE", 0x4352CA),
    ("GFP_HIGHUSER_MOVABLE", 0x24200CA),
    ("GFP_HIGHUSER", 0x24200C2),
    ("GFP_USER", 0x24200C0),
    ("GFP_KERNEL", 0x24000C0),
    ("GFP_NOFS", 0x2400040),
    ("GFP_NOIO", 0x2400000),
    ("GFP_ATOMIC", 0x2080020),
    ("GFP_NOWAIT", 0x2000000),
];
const KSWAPD_V4: u64 = 0x2000000;

/// `0x201da` → `GFP_HIGHUSER_MOVABLE|__GFP_COLD`: composite masks first, then single flags, as `%pGg` does; bits
/// no flag explains stay as hex.
pub fn names(mask: u64) -> String {
    let (flags, masks) = if mask & KSWAPD_V4 != 0 {
        (V4_FLAGS, V4_MASKS)
    } else {
        (V3_FLAGS, V3_MASKS)
    };
    let mut parts: Vec<String> = Vec::new();
    let mut left = mask;
    for &(name, value) in masks.iter().chain(flags) {
        if left & value == value {
            parts.push(name.to_owned());
            left &= !value;
        }
    }
    if left != 0 {
        parts.push(format!("{left:#x}"));
    }
    if parts.is_empty() {
        "0".into()
    } else {
        parts.join("|")
    }
}

/// The gfp text to store, and whether its names were deduced: `0xd0` → `0xd0(GFP_KERNEL)`; text that carries
/// the kernel's own names, or is no bare mask, as it is. A bare mask wider than 64 bits overflows.
pub fn decode(text: Option<&str>) -> Result<(Option<String>, bool), Overflow> {
    let Some(text) = text else {
        return Ok((None, false));
    };
    let hex = text
        .strip_prefix("0x")
        .filter(|h| !h.is_empty() && h.bytes().all(|c| c.is_ascii_hexdigit()));
    let Some(hex) = hex else {
        return Ok((Some(text.to_owned()), false));
    };
    let digits = hex.trim_start_matches('0');
    if digits.len() > 16 {
        return Err(Overflow);
    }
    let mask = u64::from_str_radix(if digits.is_empty() { "0" } else { digits }, 16)
        .map_err(|_| Overflow)?;
    Ok((Some(format!("{text}({})", names(mask))), true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_the_era_layout() {
        for (mask, want) in [
            (0xD0, "GFP_KERNEL"),
            (0x201DA, "GFP_HIGHUSER_MOVABLE|__GFP_COLD"),
            (0x20, "GFP_ATOMIC"),
            (0x24201CA, "GFP_HIGHUSER_MOVABLE|__GFP_COLD"),
            (0x24000C0, "GFP_KERNEL"),
            (0x2080020, "GFP_ATOMIC"),
            (0x24040C0, "GFP_KERNEL|__GFP_COMP"),
            (0x0, "0"),
            (0x80000000, "0x80000000"),
        ] {
            assert_eq!(names(mask), want);
        }
    }

    #[test]
    fn decode_keeps_the_kernels_own_names() {
        assert_eq!(
            decode(Some("0x14200ca(GFP_HIGHUSER_MOVABLE)")).unwrap(),
            (Some("0x14200ca(GFP_HIGHUSER_MOVABLE)".into()), false)
        );
        assert_eq!(
            decode(Some("0xD0")).unwrap(),
            (Some("0xD0(GFP_KERNEL)".into()), true)
        );
        assert_eq!(decode(None).unwrap(), (None, false));
        assert_eq!(
            decode(Some(&format!("0x{}", "f".repeat(17)))),
            Err(Overflow)
        );
    }
}
