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

/// Moves a uniformly random `k`-subset of `v` (in random order) to its first `k` places: the
/// first `k` steps of a forward Fisher–Yates shuffle, so `k` draws instead of `len − 1`.
///
/// # Panics
/// If `k > v.len()` (a programming error).
///
/// # Example
/// ```
/// let mut v: Vec<usize> = (0..10).collect();
/// neuropop::stats::rng::partial_shuffle(&mut v, 4, &mut neuropop::stats::rng::stream(1, 0));
/// let mut all = v.clone();
/// all.sort();
/// assert_eq!(all, (0..10).collect::<Vec<_>>()); // still a permutation
/// ```
pub fn partial_shuffle<T>(v: &mut [T], k: usize, rng: &mut Rng) {
    use rand::Rng as _;
    assert!(
        k <= v.len(),
        "partial_shuffle: k = {k} > {} values",
        v.len()
    );
    for i in 0..k.min(v.len().saturating_sub(1)) {
        let j = rng.random_range(i..v.len());
        v.swap(i, j);
    }
}

/// Fisher–Yates shuffle of `v` with `rng` (the same algorithm on every platform).
pub fn shuffle<T>(v: &mut [T], rng: &mut Rng) {
    use rand::Rng as _;
    for i in (1..v.len()).rev() {
        let j = rng.random_range(0..=i);
        v.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_shuffle_draws_every_subset_equally_often() {
        // The 10 two-subsets of 5 positions, 50 000 draws: each ≈ 5 000 (sd ≈ 67).
        let mut r = stream(3, 0);
        let mut count = [0usize; 32];
        for _ in 0..50_000 {
            let mut v: Vec<usize> = (0..5).collect();
            partial_shuffle(&mut v, 2, &mut r);
            count[(1 << v[0]) | (1 << v[1])] += 1;
        }
        let drawn: Vec<usize> = count.iter().copied().filter(|&c| c > 0).collect();
        assert_eq!(drawn.len(), 10);
        assert!(drawn.iter().all(|&c| c.abs_diff(5_000) < 350), "{drawn:?}");
        let mut v = vec![7];
        partial_shuffle(&mut v, 1, &mut r);
        assert_eq!(v, vec![7]);
    }
}
