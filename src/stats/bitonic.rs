//! Sorting a few hundred to a few thousand `u32` words with an AVX2 bitonic network.
//!
//! Ranking the 780 distances of a 40-condition RDM is a sort of 780 words, done twice per
//! split-half repetition. A comparison sort spends most of its time on branches it cannot
//! predict (about 7 µs for 780 words); a bitonic network has no data-dependent branch and
//! compares eight words per instruction, which for 64 to 2,048 words is 2–3.8× faster
//! (`docs/benchmarks-log.md`).
//!
//! The words, padded with `u32::MAX` to a power of two `N ≥ 128`, are held as `R = N / 8`
//! registers of eight lanes; word `e` of the network is lane `e / R` of register `e % R`. The
//! network (Batcher's bitonic sort) compares `e` with `e ^ j` for `j = k/2, …, 1` in phases
//! `k = 2, 4, …, N`, ascending where `e & k == 0`. With this layout a distance `j < R` pairs
//! whole registers (one `min` and one `max` compare eight pairs) and only `j ≥ R` pairs
//! lanes of one register. Where the direction depends on the lane (`R ≤ k < N`) the
//! descending lanes are complemented for the phase, which turns every comparison into an
//! ascending one. Up to three consecutive distances are applied to a group of eight
//! registers between one load and one store.
//!
//! Reference: K. E. Batcher, "Sorting networks and their applications", AFIPS 1968.

/// Fewest and most words [`sort_words`] gives to the network; outside this range, and
/// without AVX2 (or with the portable kernels forced, see [`simd`](super::simd)), it calls
/// `sort_unstable` (which is faster below 64 words).
pub(crate) const NETWORK_MIN: usize = 64;
pub(crate) const NETWORK_MAX: usize = 2048;

/// Sorts `v` ascending; `buf` is reused between calls.
pub(crate) fn sort_words(v: &mut [u32], buf: &mut Vec<u32>) {
    sort_words_with(v, buf, super::simd::avx2_available());
}

/// [`sort_words`] with the network allowed or not by `use_network` instead of the
/// process-wide switch. A sorted list is unique, so both give the same words.
pub(crate) fn sort_words_with(v: &mut [u32], buf: &mut Vec<u32>, use_network: bool) {
    let n = v.len();
    #[cfg(target_arch = "x86_64")]
    {
        if use_network && (NETWORK_MIN..=NETWORK_MAX).contains(&n) && super::simd::avx2_detected() {
            let big = n.next_power_of_two().max(128);
            buf.clear();
            buf.extend_from_slice(v);
            buf.resize(big, u32::MAX);
            // SAFETY: AVX2 is available (checked above); `buf` holds `big` words, a power of
            // two ≥ 128, and `v` at most `big`.
            unsafe {
                network(buf, big);
                read_out(buf, big, v);
            }
            return;
        }
    }
    let _ = (buf, use_network, n);
    v.sort_unstable();
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    pub(super) use std::arch::x86_64::{
        __m256i, _mm256_and_si256, _mm256_blendv_epi8, _mm256_cmpeq_epi32, _mm256_loadu_si256,
        _mm256_max_epu32, _mm256_min_epu32, _mm256_permutevar8x32_epi32, _mm256_set1_epi32,
        _mm256_setr_epi32, _mm256_setzero_si256, _mm256_storeu_si256, _mm256_xor_si256,
    };
}
#[cfg(target_arch = "x86_64")]
use avx2::*;

/// Register `r` (words `8r..8r + 8`) of `p`.
///
/// # Safety
/// AVX2 is available and `p` holds `8r + 8` words.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn load(p: *const u32, r: usize) -> __m256i {
    // SAFETY: the caller's bounds; unaligned loads.
    unsafe { _mm256_loadu_si256(p.add(r * 8).cast()) }
}

/// # Safety
/// As [`load`], `p` writable.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn store(p: *mut u32, r: usize, x: __m256i) {
    // SAFETY: the caller's bounds; unaligned stores.
    unsafe { _mm256_storeu_si256(p.add(r * 8).cast(), x) }
}

/// Compare-exchange of two registers lane by lane: `a` takes the smaller words unless `DESC`.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2")]
fn exchange<const DESC: bool>(a: &mut __m256i, b: &mut __m256i) {
    let (lo, hi) = (_mm256_min_epu32(*a, *b), _mm256_max_epu32(*a, *b));
    (*a, *b) = if DESC { (hi, lo) } else { (lo, hi) };
}

/// Compare-exchange of `x[i]` and `x[j]` (`i < j`).
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2")]
fn exchange_at<const DESC: bool>(x: &mut [__m256i; 8], i: usize, j: usize) {
    let (lo, hi) = x.split_at_mut(j);
    exchange::<DESC>(&mut lo[i], &mut hi[0]);
}

/// Distances `js` (descending, `L ≤ 3`) of one phase on the group of `2^L` registers whose
/// lowest is `r0`, all in one direction.
///
/// # Safety
/// AVX2; `p` holds every register of the group.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn group<const L: usize, const DESC: bool>(p: *mut u32, r0: usize, js: [usize; L]) {
    let size = 1 << L;
    let mut x = [_mm256_setzero_si256(); 8];
    let mut at = [0usize; 8];
    for i in 0..size {
        // Member i: r0 plus js[b] for each bit b of i (js[0] the highest bit).
        at[i] = r0
            + (0..L)
                .filter(|b| i >> (L - 1 - b) & 1 == 1)
                .map(|b| js[b])
                .sum::<usize>();
        // SAFETY: a register of the group (the caller's bounds).
        x[i] = unsafe { load(p, at[i]) };
    }
    for b in 0..L {
        let bit = 1 << (L - 1 - b);
        for i in (0..size).filter(|i| i & bit == 0) {
            exchange_at::<DESC>(&mut x, i, i | bit);
        }
    }
    for i in 0..size {
        // SAFETY: as the loads.
        unsafe { store(p, at[i], x[i]) };
    }
}

/// Distances `js` of phase `k` on every group of `r` registers; below `r` the direction is
/// bit `k` of the register (`desc_by_register`), otherwise ascending (lanes pre-flipped).
///
/// # Safety
/// AVX2; `p` holds `r` registers.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn distances<const L: usize>(p: *mut u32, r: usize, k: usize, js: [usize; L]) {
    let members = js.iter().fold(0, |m, j| m | j);
    let by_register = k < r;
    let mut r0 = 0;
    while r0 < r {
        // SAFETY: r0 and its members lie below r (the members' bits are clear in r0).
        unsafe {
            if by_register && r0 & k != 0 {
                group::<L, true>(p, r0, js);
            } else {
                group::<L, false>(p, r0, js);
            }
        }
        // The next register with the members' bits clear.
        r0 = ((r0 | members) + 1) & !members;
    }
}

/// Phases 2, 4 and 8 (all within runs of eight registers, `r ≥ 16`) in one pass.
///
/// # Safety
/// AVX2; `p` holds `r` registers, `r` a multiple of 16.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn first_phases(p: *mut u32, r: usize) {
    for r0 in (0..r).step_by(8) {
        let mut x = [_mm256_setzero_si256(); 8];
        for (i, v) in x.iter_mut().enumerate() {
            // SAFETY: r0 + 7 < r.
            *v = unsafe { load(p, r0 + i) };
        }
        // Phase 2 (descending where register bit 2 is set), then phase 4 (bit 4).
        for (i, j) in [(0, 1), (4, 5)] {
            exchange_at::<false>(&mut x, i, j);
        }
        for (i, j) in [(2, 3), (6, 7)] {
            exchange_at::<true>(&mut x, i, j);
        }
        for (i, j) in [(0, 2), (1, 3), (0, 1), (2, 3)] {
            exchange_at::<false>(&mut x, i, j);
        }
        for (i, j) in [(4, 6), (5, 7), (4, 5), (6, 7)] {
            exchange_at::<true>(&mut x, i, j);
        }
        // Phase 8: bit 8 of the register, the same for all eight.
        let pairs = [
            (0, 4),
            (1, 5),
            (2, 6),
            (3, 7),
            (0, 2),
            (1, 3),
            (4, 6),
            (5, 7),
            (0, 1),
            (2, 3),
            (4, 5),
            (6, 7),
        ];
        for (i, j) in pairs {
            if r0 & 8 != 0 {
                exchange_at::<true>(&mut x, i, j);
            } else {
                exchange_at::<false>(&mut x, i, j);
            }
        }
        for (i, v) in x.into_iter().enumerate() {
            // SAFETY: as the loads.
            unsafe { store(p, r0 + i, v) };
        }
    }
}

/// The bitonic network over `big` words of `buf` (see the module documentation).
///
/// # Safety
/// AVX2; `buf` holds `big` words, `big` a power of two ≥ 128.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn network(buf: &mut [u32], big: usize) {
    assert!(big.is_power_of_two() && big >= 128 && buf.len() >= big);
    let (p, r) = (buf.as_mut_ptr(), big / 8);
    let lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    // All-ones in the lanes whose index has bit `b`.
    let lanes_with = |b: usize| {
        let bb = _mm256_set1_epi32(b as i32);
        _mm256_cmpeq_epi32(_mm256_and_si256(lane, bb), bb)
    };
    // SAFETY (every call below): `p` holds r registers (asserted above).
    unsafe { first_phases(p, r) };
    let mut k = 16;
    while k <= big {
        // Where the direction is a lane bit, complement those lanes for the phase.
        let flip = (r..big).contains(&k);
        let flipped = lanes_with(k / r);
        let complement = || {
            for i in 0..r {
                unsafe { store(p, i, _mm256_xor_si256(load(p, i), flipped)) };
            }
        };
        if flip {
            complement();
        }
        // Distances j ≥ r: lanes l and l ^ (j / r) of each register.
        let mut j = k / 2;
        while j >= r {
            let jj = j / r;
            let partner = _mm256_xor_si256(lane, _mm256_set1_epi32(jj as i32));
            let upper = lanes_with(jj);
            for i in 0..r {
                unsafe {
                    let x = load(p, i);
                    let y = _mm256_permutevar8x32_epi32(x, partner);
                    let (lo, hi) = (_mm256_min_epu32(x, y), _mm256_max_epu32(x, y));
                    store(p, i, _mm256_blendv_epi8(lo, hi, upper));
                }
            }
            j /= 2;
        }
        // Distances j < r, two or three per pass (never one where avoidable).
        while j >= 1 {
            let left = j.trailing_zeros() + 1;
            let taken = match left {
                1 => 1,
                2 | 4 => 2,
                _ => 3,
            };
            unsafe {
                match taken {
                    3 => distances::<3>(p, r, k, [j, j / 2, j / 4]),
                    2 => distances::<2>(p, r, k, [j, j / 2]),
                    _ => distances::<1>(p, r, k, [j]),
                }
            }
            j >>= taken;
        }
        if flip {
            complement();
        }
        k *= 2;
    }
}

/// The first `v.len()` words of the network's order into `v`.
///
/// # Safety
/// `buf` holds `big` words, `big / 8` a power of two; `v.len() ≤ big`.
#[cfg(target_arch = "x86_64")]
unsafe fn read_out(buf: &[u32], big: usize, v: &mut [u32]) {
    let r = big / 8;
    let shift = r.trailing_zeros();
    for (e, w) in v.iter_mut().enumerate() {
        // SAFETY: (e % r) · 8 + e / r < big for e < big.
        *w = unsafe { *buf.get_unchecked((e & (r - 1)) * 8 + (e >> shift)) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::rng;
    use rand::Rng as _;

    #[test]
    fn sorts_like_sort_unstable_at_every_size_of_the_network() {
        let mut r = rng::stream(11, 0);
        let mut buf = Vec::new();
        let sizes = (0..140).chain([255, 256, 257, 511, 780, 1000, 1024, 1025, 2047, 2048, 2049]);
        for n in sizes {
            // Full-range words, and few distinct words (duplicates, u32::MAX like the padding).
            for range in [u32::MAX, 7] {
                let mut v: Vec<u32> = (0..n)
                    .map(|_| match r.random_range(0..=range) {
                        x if range == 7 && x == 7 => u32::MAX,
                        x => x,
                    })
                    .collect();
                let mut want = v.clone();
                want.sort_unstable();
                sort_words(&mut v, &mut buf);
                assert_eq!(v, want, "n = {n}, range {range}");
            }
        }
    }

    #[test]
    fn network_and_sort_unstable_give_the_same_words() {
        // The two paths of the process-wide switch, on the same inputs (issue 21).
        let mut r = rng::stream(12, 0);
        let mut buf = Vec::new();
        for n in [0usize, 1, 63, 64, 65, 128, 780, 1023, 2048, 2049] {
            for range in [u32::MAX, 3] {
                let v: Vec<u32> = (0..n).map(|_| r.random_range(0..=range)).collect();
                let (mut network, mut portable) = (v.clone(), v.clone());
                sort_words_with(&mut network, &mut buf, true);
                sort_words_with(&mut portable, &mut buf, false);
                assert_eq!(network, portable, "n = {n}, range {range}");
                assert!(portable.windows(2).all(|w| w[0] <= w[1]));
            }
        }
    }

    #[test]
    fn sorts_descending_and_sorted_input() {
        let mut buf = Vec::new();
        for n in [64, 100, 780, 2048] {
            let mut down: Vec<u32> = (0..n as u32).rev().collect();
            sort_words(&mut down, &mut buf);
            assert!(down.iter().copied().eq(0..n as u32));
            sort_words(&mut down, &mut buf);
            assert!(down.iter().copied().eq(0..n as u32));
        }
    }
}
