//! The seeded random source and run settings both fuzzers share (the framing fuzzer in the
//! `tacit` crate's unit tests, the command fuzzer in the end-to-end tests). The two crates
//! share no library, so each includes this file by path.
//!
//! A run lasts `TACIT_FUZZ_SECS` seconds (default 30) from a seed taken from the clock, or
//! from `TACIT_FUZZ_SEED` to replay a run that failed.

use std::time::Duration;

/// SplitMix64: small, fast and the same on every platform, so that a seed replays a run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The seed and how long to run.
pub fn settings() -> (u64, Duration) {
    let seed = std::env::var("TACIT_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    let secs = std::env::var("TACIT_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30.0);
    (seed, Duration::from_secs_f64(secs))
}
