//! Seeded, independent random-number streams.
//!
//! Every stochastic function in neuropop takes a `seed: u64`. Parallel loops draw task `i`'s
//! numbers from [`stream`]`(seed, i)`: a ChaCha8 generator keyed by the seed with its *stream*
//! set to the task index. Streams never overlap, and a task's stream does not depend on which
//! thread runs it, so results are bit-identical for 1 or 40 threads.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The generator type used everywhere in neuropop.
pub type Rng = ChaCha8Rng;

/// The independent random stream number `task` of `seed`.
///
/// # Example
/// ```
/// use rand::Rng as _;
/// let mut a = neuropop::stats::rng::stream(42, 3);
/// let mut b = neuropop::stats::rng::stream(42, 3);
/// assert_eq!(a.random::<u64>(), b.random::<u64>());
/// let mut c = neuropop::stats::rng::stream(42, 4);
/// assert_ne!(neuropop::stats::rng::stream(42, 3).random::<u64>(), c.random::<u64>());
/// ```
pub fn stream(seed: u64, task: u64) -> Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(task);
    rng
}

/// A sub-seed for a named stage of a pipeline, so that adding a stage never shifts another
/// stage's random numbers. Uses SplitMix64 finalisation of `seed ^ hash(label)`.
///
/// # Example
/// ```
/// let a = neuropop::stats::rng::derive_seed(1, "bootstrap");
/// let b = neuropop::stats::rng::derive_seed(1, "permutation");
/// assert_ne!(a, b);
/// assert_eq!(a, neuropop::stats::rng::derive_seed(1, "bootstrap"));
/// ```
pub fn derive_seed(seed: u64, label: &str) -> u64 {
    // FNV-1a over the label: stable across platforms and Rust versions (unlike DefaultHasher).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in label.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    splitmix64(seed ^ h)
}

/// SplitMix64 finaliser: a bijective mix of 64 bits.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Fisher–Yates shuffle of `v` with `rng` (the same algorithm on every platform).
pub fn shuffle<T>(v: &mut [T], rng: &mut Rng) {
    use rand::Rng as _;
    for i in (1..v.len()).rev() {
        let j = rng.random_range(0..=i);
        v.swap(i, j);
    }
}
