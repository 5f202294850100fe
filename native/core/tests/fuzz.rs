//! Property tests standing in for a fuzzer (the toolchain here is stable; cargo-fuzz needs nightly): the block
//! decoder, the index reader and whole-file reading take arbitrary and mutated bytes without a panic, and what they
//! refuse they refuse with an error. Failing cases proptest finds are kept in `proptest-regressions/` and replayed
//! first on every run.

mod synth;

use oomreplay_core::model::value::Value;
use oomreplay_core::store::codec::{EventBlock, Schema};
use oomreplay_core::store::msgpack::unpack;
use oomreplay_core::store::reader::Trace;
use oomreplay_core::store::repair::verify;
use oomreplay_core::store::writer::TraceWriter;
use proptest::prelude::*;

/// A small real trace, the seed every mutation starts from.
fn seed() -> &'static [u8] {
    static SEED: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    SEED.get_or_init(|| {
        let path = std::env::temp_dir().join(format!(
            "oomreplay-fuzz-seed-{}.oomtrace",
            std::process::id()
        ));
        let mut w = TraceWriter::create(&path, &Value::Nil, false).unwrap();
        for e in synth::incident(1200, 40, 2) {
            w.append(e).unwrap();
        }
        w.close(&Value::Nil).unwrap();
        let data = std::fs::read(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        data
    })
}

fn block_payload_seed() -> Vec<u8> {
    let mut out = Vec::new();
    oomreplay_core::store::codec::block_payload(0, &synth::incident(40, 5, 4), &mut out);
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn the_block_decoder_takes_any_bytes(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = EventBlock::decode(&data, &Schema::current(), "fuzz");
        let _ = unpack(&data);
    }

    #[test]
    fn the_block_decoder_takes_mutated_blocks(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8), cut in any::<usize>()) {
        let mut data = block_payload_seed();
        for (at, x) in flips {
            let n = data.len();
            data[at % n] ^= x;
        }
        let cut = cut % (data.len() + 1);
        let _ = EventBlock::decode(&data[..cut], &Schema::current(), "fuzz");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn reading_a_mutated_trace_never_panics(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6), cut in proptest::option::of(any::<usize>())) {
        let mut data = seed().to_vec();
        for (at, x) in flips {
            let n = data.len();
            data[at % n] ^= x;
        }
        if let Some(c) = cut {
            data.truncate(c % (data.len() + 1));
        }
        let path = std::env::temp_dir().join(format!("oomreplay-fuzz-{}-{:?}.oomtrace", std::process::id(), std::thread::current().id()));
        std::fs::write(&path, &data).unwrap();
        let _ = verify(&path);
        if let Ok(t) = Trace::open(&path) {
            let n = t.len();
            for seq in [0, n / 2, n - 1] {
                let _ = t.state_at(seq).and_then(|s| s.tables[0].items());
            }
            let _ = t.events(0, n);
            let _ = t.overview(0, i64::MAX, 50);
            let _ = t.source_lines(1, 100, 0);
        }
        let _ = std::fs::remove_file(&path);
    }
}
