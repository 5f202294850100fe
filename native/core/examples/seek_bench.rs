//! Times `state_at` at random seqs of a trace: `seek_bench TRACE [N]`.
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let t = oomreplay_core::store::reader::Trace::open(&args[1]).expect("open");
    let n = t.len();
    let samples: usize = args.get(2).map_or(1000, |s| s.parse().unwrap());
    let mut x: u64 = 12345;
    let mut times = Vec::new();
    for _ in 0..samples {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let seq = (x >> 33) as i64 % n;
        let t0 = Instant::now();
        let s = t.state_at(seq).expect("state");
        times.push(t0.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(s);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "state_at p50 {:.3} ms p99 {:.3} ms",
        times[times.len() / 2],
        times[times.len() * 99 / 100]
    );
}
