//! Ranks with ties averaged, as `scipy.stats.rankdata(method='average')`.
//!
//! Ranks are 1-based: the smallest value gets rank 1, and a run of `k` tied values starting at
//! sorted position `s` (0-based) gets rank `s + (k + 1) / 2` for each member. The ranks of `n`
//! values always sum to `n (n + 1) / 2`.

/// Average ranks (1-based, ties share the mean of their positions) of `x`.
///
/// Like scipy with its default `nan_policy='propagate'`, a NaN anywhere in `x` makes every rank
/// NaN: the order of the other values would be meaningless.
///
/// # Example
/// ```
/// use neuropop::stats::rank::rankdata;
/// assert_eq!(rankdata(&[10.0, 30.0, 20.0, 20.0]), vec![1.0, 4.0, 2.5, 2.5]);
/// ```
pub fn rankdata(x: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; x.len()];
    let mut scratch = Vec::new();
    rankdata_into(x, &mut scratch, &mut out);
    out
}

/// [`rankdata`] writing into `out` and reusing `scratch`, so that a hot loop (one ranking per
/// split) does not allocate.
///
/// Each value becomes one `u64`: the high bits an order-preserving integer key of the value
/// (relative to the smallest, shortened to the bits left above the position), the low bits
/// its position. Sorting these words (for inputs of ≥ 65,536 values, e.g. a condensed RDM of
/// 1600 samples, one bucket pass on the top 11 bits and a comparison sort of each bucket in
/// cache; a comparison sort below) orders the values up to the shortened key; runs that share
/// a shortened key are then re-sorted on the full key, so ties are exactly those of the values
/// themselves.
///
/// # Panics
/// If `out.len() != x.len()` (a programming error, not a data error).
///
/// # Example
/// ```
/// use neuropop::stats::rank::rankdata_into;
/// let (mut scratch, mut out) = (Vec::new(), vec![0.0; 3]);
/// rankdata_into(&[3.0, 1.0, 2.0], &mut scratch, &mut out);
/// assert_eq!(out, vec![3.0, 1.0, 2.0]);
/// ```
pub fn rankdata_into(x: &[f64], scratch: &mut Vec<u64>, out: &mut [f64]) {
    assert_eq!(
        out.len(),
        x.len(),
        "rankdata_into: output length must equal input length"
    );
    // Twice an average rank is an integer; halving it is exact.
    if !visit_ranks(x, scratch, None, |i, twice| out[i] = twice as f64 / 2.0) {
        out.fill(f64::NAN);
    }
}

/// Calls `f(position, 2 × rank)` for every value of `x` (no NaN), in ascending order of value.
/// `2 × rank` is an integer: a run of `k` ties starting at sorted position `s` (0-based) has
/// rank `s + (k + 1)/2`.
/// Returns false, visiting nothing, when `x` holds a NaN.
/// `narrow` (two buffers of 32-bit words) lets inputs of
/// [`NETWORK_MIN`](crate::stats::bitonic::NETWORK_MIN)..=[`NETWORK_MAX`](crate::stats::bitonic::NETWORK_MAX)
/// values be sorted by the bitonic network; without it, or outside that range, the 64-bit
/// `words` are sorted.
fn visit_ranks(
    x: &[f64],
    words: &mut Vec<u64>,
    narrow: Option<&mut [Vec<u32>; 2]>,
    f: impl FnMut(usize, u64),
) -> bool {
    let n = x.len();
    if n == 0 {
        return true;
    }
    // Low `ib` bits hold the position, the bits above it the key relative to the smallest,
    // shifted down to the `kb` bits that fit (a monotone map: ties it creates are undone below).
    let ib = index_bits(n);
    // The extreme keys are the keys of the extreme values (the map is monotone), and float
    // comparisons vectorise where unsigned 64-bit ones do not. A NaN is never below or above
    // anything, and is reported by itself.
    let (mut min, mut max, mut nan) = (f64::INFINITY, f64::NEG_INFINITY, false);
    for &v in x {
        min = if v < min { v } else { min };
        max = if v > max { v } else { max };
        nan |= v.is_nan();
    }
    if nan {
        return false;
    }
    let (lo, hi) = (order_key(min), order_key(max));
    let span_bits = u64::BITS - (hi - lo).leading_zeros();
    use crate::stats::bitonic::{NETWORK_MAX, NETWORK_MIN, sort_words};
    if let Some([narrow, network]) = narrow.filter(|_| (NETWORK_MIN..=NETWORK_MAX).contains(&n)) {
        // An RDM of up to 64 conditions as 32-bit words for the sorting network: fewer key
        // bits, so more reduced ties, which are undone below all the same.
        let kb = span_bits.min(32 - ib);
        let drop = span_bits - kb;
        narrow.clear();
        narrow.extend(
            x.iter()
                .enumerate()
                .map(|(i, &v)| ((((order_key(v) - lo) >> drop) as u32) << ib) | i as u32),
        );
        sort_words(narrow, network);
        visit_sorted(narrow, ib, x, f);
        return true;
    }
    let kb = span_bits.min(64 - ib);
    let drop = span_bits - kb;
    let word = |i: usize, v: f64| (((order_key(v) - lo) >> drop) << ib) | i as u64;
    let sorted: &mut [u64] = if n >= BUCKET_MIN {
        // Grown, never cleared: the bucket sort writes every word it uses.
        if words.len() < n {
            *words = crate::mem::huge_vec(n);
        }
        let out = &mut words[..n];
        bucket_sort(n, |i| word(i, x[i]), ib + kb, out);
        out
    } else {
        words.clear();
        words.extend(x.iter().enumerate().map(|(i, &v)| word(i, v)));
        words.sort_unstable();
        words
    };
    visit_sorted(sorted, ib, x, f);
    true
}

/// The walk of [`visit_ranks`] over its sorted words (`ib` low bits the position, the bits
/// above a monotone reduction of the value).
fn visit_sorted<W>(sorted: &mut [W], ib: u32, x: &[f64], mut f: impl FnMut(usize, u64))
where
    W: Copy + Ord + Into<u64>,
{
    let n = sorted.len();
    let low = (1u64 << ib) - 1;
    let position = |w: W| (w.into() & low) as usize;
    let key = |w: W| order_key(x[position(w)]);
    let top = |w: W| w.into() >> ib;
    let mut start = 0;
    while start < n {
        // Almost every value is alone on its reduced key.
        if start + 1 == n || top(sorted[start + 1]) != top(sorted[start]) {
            f(position(sorted[start]), 2 * start as u64 + 2);
            start += 1;
            continue;
        }
        let mut end = start + 2;
        while end < n && top(sorted[end]) == top(sorted[start]) {
            end += 1;
        }
        // The reduced keys tie: order this run on the full key, then average the ranks of
        // each group of exactly equal values.
        let run = &mut sorted[start..end];
        run.sort_unstable_by_key(|&w| key(w));
        let mut s = 0;
        while s < run.len() {
            let k = key(run[s]);
            let mut e = s + 1;
            while e < run.len() && key(run[e]) == k {
                e += 1;
            }
            // Positions start+s..start+e (0-based) share the average 1-based rank.
            let twice = (2 * start + s + e + 1) as u64;
            for &w in &run[s..e] {
                f(position(w), twice);
            }
            s = e;
        }
        start = end;
    }
}

/// Reusable buffers of [`spearman_rho`]: keep one per thread in a loop of many correlations
/// so that none of them allocates.
///
/// # Example
/// ```
/// use neuropop::stats::rank::{spearman_rho, SpearmanScratch};
/// let mut scratch = SpearmanScratch::default();
/// let rhos: Vec<f64> = (1..4)
///     .map(|k| spearman_rho(&[1.0, 2.0, 3.0], &[k as f64, 0.0, 9.0], &mut scratch))
///     .collect();
/// assert_eq!(rhos, vec![0.5, 0.5, 0.5]);
/// ```
#[derive(Default)]
pub struct SpearmanScratch {
    words: Vec<u64>,
    narrow: [Vec<u32>; 2],
    twice_a: Vec<u32>,
}

/// Spearman's ρ of `a` and `b` (equal lengths): the Pearson correlation of their average
/// ranks, as `scipy.stats.spearmanr`, computed in exact integer arithmetic on twice the ranks
/// (so the only rounding is the final division). NaN when fewer than 2 values, a NaN value,
/// or either input is constant.
///
/// Inputs of 64 to 2,048 values (the condensed RDMs of 12 to 64 conditions) are ranked from
/// 32-bit words sorted by an AVX2 bitonic network where the CPU has one (and the portable
/// kernels are not forced, see [`simd`](crate::stats::simd)); the ranks, and so ρ, are the
/// same either way.
///
/// # Panics
/// If the lengths differ (a programming error).
///
/// # Example
/// ```
/// use neuropop::stats::rank::{spearman_rho, SpearmanScratch};
/// let mut s = SpearmanScratch::default();
/// let r = spearman_rho(&[1.0, 2.0, 3.0, 4.0, 5.0], &[5.0, 6.0, 7.0, 8.0, 7.0], &mut s);
/// assert!((r - 0.8207826816681233).abs() < 1e-15); // scipy.stats.spearmanr
/// ```
pub fn spearman_rho(a: &[f64], b: &[f64], scratch: &mut SpearmanScratch) -> f64 {
    assert_eq!(a.len(), b.len(), "spearman_rho: lengths must be equal");
    let n = a.len();
    if n < 2 {
        return f64::NAN;
    }
    if n >= 1 << 30 {
        // Twice a rank would not fit u32 nor the sums u128: plain floating point.
        return crate::stats::pearson::pearson_r(&rankdata(a), &rankdata(b));
    }
    if scratch.twice_a.len() < n {
        scratch.twice_a = crate::mem::huge_vec(n);
    }
    let twice_a = &mut scratch.twice_a[..n];
    let mut sxx: u128 = 0;
    let a_defined = visit_ranks(a, &mut scratch.words, Some(&mut scratch.narrow), |i, x| {
        twice_a[i] = x as u32;
        sxx += u128::from(x * x);
    });
    let (mut sxy, mut syy): (u128, u128) = (0, 0);
    if !a_defined
        || !visit_ranks(b, &mut scratch.words, Some(&mut scratch.narrow), |i, y| {
            sxy += u128::from(u64::from(twice_a[i]) * y);
            syy += u128::from(y * y);
        })
    {
        return f64::NAN;
    }
    rho_from_twice_ranks(n, sxx, syy, sxy)
}

/// Pearson correlation of two sets of `n < 2^30` average ranks given as sums over twice the
/// ranks (`Σx²`, `Σy²`, `Σxy`); twice the ranks sum to `n (n + 1)` on both sides. Exact in
/// integers up to the final division; NaN when either side is constant.
pub(crate) fn rho_from_twice_ranks(n: usize, sxx: u128, syy: u128, sxy: u128) -> f64 {
    let (nn, s) = (n as i128, (n * (n + 1)) as i128);
    let num = nn * sxy as i128 - s * s;
    let (dx, dy) = (nn * sxx as i128 - s * s, nn * syy as i128 - s * s);
    if dx <= 0 || dy <= 0 {
        return f64::NAN;
    }
    // sqrt(fl(d²)) = d exactly, so a perfect monotone relation gives exactly ±1.
    (num as f64 / (dx as f64 * dy as f64).sqrt()).clamp(-1.0, 1.0)
}

#[cfg(test)]
thread_local! {
    /// Set when a bucket's insertion sort ran out of budget (tests check the path is taken).
    static BUDGET_SPENT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Bits needed for a position below `n` (at least 1).
fn index_bits(n: usize) -> u32 {
    (usize::BITS - n.saturating_sub(1).leading_zeros()).max(1)
}

/// Inputs at least this long are bucket-sorted.
const BUCKET_MIN: usize = 1 << 16;

/// An integer whose unsigned order is the numeric order of the (non-NaN) float; −0.0 and +0.0
/// map to the same key (scipy ranks them as ties).
#[inline]
pub(crate) fn order_key(v: f64) -> u64 {
    let v = if v == 0.0 { 0.0 } else { v };
    let bits = v.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// Bits of the bucket index: 2,048 buckets, so the ~600 words of an average bucket of a
/// 1600-sample RDM sort inside L1.
const BUCKET_BITS: u32 = 11;

/// Bits sorted by counting passes inside a bucket, and the digit of each pass.
const IN_BUCKET_BITS: u32 = 16;
const IN_DIGIT: u32 = 8;

/// Sorts the words `word(0), …, word(n − 1)` (each below `2^bits`) into `out`: one counting
/// pass and one scatter on the top [`BUCKET_BITS`], then each bucket sorted in cache. The
/// words are computed twice instead of stored, so the large arrays are crossed only once.
fn bucket_sort(n: usize, word: impl Fn(usize) -> u64, bits: u32, out: &mut [u64]) {
    let shift = bits.saturating_sub(BUCKET_BITS);
    let mut starts = vec![0usize; (1 << BUCKET_BITS) + 1];
    for i in 0..n {
        starts[(word(i) >> shift) as usize + 1] += 1;
    }
    for b in 1..starts.len() {
        starts[b] += starts[b - 1];
    }
    let mut next = starts.clone();
    for i in 0..n {
        let w = word(i);
        let b = (w >> shift) as usize;
        out[next[b]] = w;
        next[b] += 1;
    }
    let mut tmp = Vec::new();
    for b in starts.windows(2) {
        sort_bucket(&mut out[b[0]..b[1]], shift, &mut tmp);
    }
}

/// Sorts words that agree above bit `shift`: two stable 8-bit counting passes on the 16 bits
/// below it, then an insertion sort, which only has to move the rare words that also agree on
/// those 16 bits.
fn sort_bucket(v: &mut [u64], shift: u32, tmp: &mut Vec<u64>) {
    if v.len() > 32 {
        tmp.resize(v.len(), 0);
        let lo = shift.saturating_sub(IN_BUCKET_BITS);
        let mut in_tmp = false;
        for s in (lo..shift).step_by(IN_DIGIT as usize) {
            let (src, dst): (&[u64], &mut [u64]) = if in_tmp {
                (&tmp[..v.len()], &mut *v)
            } else {
                (&*v, &mut tmp[..v.len()])
            };
            const MASK: u64 = (1 << IN_DIGIT) - 1;
            let mut count = [0usize; 1 << IN_DIGIT];
            for &w in src {
                count[((w >> s) & MASK) as usize] += 1;
            }
            let mut total = 0;
            for c in count.iter_mut() {
                let here = *c;
                *c = total;
                total += here;
            }
            for &w in src {
                let d = ((w >> s) & MASK) as usize;
                dst[count[d]] = w;
                count[d] += 1;
            }
            in_tmp = !in_tmp;
        }
        if in_tmp {
            v.copy_from_slice(&tmp[..v.len()]);
        }
    }
    // Insertion sort, bounded: data whose words agree on the sorted bits (a bucket of values
    // that differ only far below them) would make it quadratic, so past a budget of moves the
    // bucket is finished by a comparison sort instead.
    let mut budget = 8 * v.len();
    for i in 1..v.len() {
        let w = v[i];
        let mut j = i;
        while j > 0 && v[j - 1] > w {
            v[j] = v[j - 1];
            j -= 1;
        }
        v[j] = w;
        budget = budget.saturating_sub(i - j);
        if budget == 0 {
            #[cfg(test)]
            BUDGET_SPENT.with(|b| b.set(true));
            v.sort_unstable();
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answer_with_ties() {
        // scipy.stats.rankdata([0, 2, 3, 2]) == [1, 2.5, 4, 2.5]
        assert_eq!(rankdata(&[0.0, 2.0, 3.0, 2.0]), vec![1.0, 2.5, 4.0, 2.5]);
        assert_eq!(rankdata(&[1.0, 1.0, 1.0]), vec![2.0, 2.0, 2.0]);
        assert!(rankdata(&[]).is_empty());
    }

    #[test]
    fn infinities_rank_at_the_ends() {
        let x = [f64::INFINITY, f64::NEG_INFINITY, 1.0, f64::INFINITY];
        assert_eq!(rankdata(&x), vec![3.5, 1.0, 2.0, 3.5]);
        assert_eq!(rankdata(&[f64::NEG_INFINITY; 3]), vec![2.0; 3]);
    }

    #[test]
    fn nan_propagates() {
        assert!(rankdata(&[1.0, f64::NAN]).iter().all(|r| r.is_nan()));
    }

    #[test]
    fn signed_zeros_tie() {
        assert_eq!(rankdata(&[0.0, -0.0, 1.0]), vec![1.5, 1.5, 3.0]);
    }

    #[test]
    fn bucket_sort_matches_comparison_sort() {
        use rand::Rng as _;
        let mut rng = crate::stats::rng::stream(8, 0);
        let n = BUCKET_MIN + 123;
        let ib = index_bits(n);
        for bits in [ib, ib + 5, 64] {
            let words: Vec<u64> = (0..n)
                .map(|i| {
                    let key = if bits == ib {
                        0
                    } else {
                        rng.random::<u64>() >> (64 - (bits - ib))
                    };
                    (key << ib) | i as u64
                })
                .collect();
            let mut sorted = words.clone();
            sorted.sort_unstable();
            let mut out = vec![0; n];
            bucket_sort(n, |i| words[i], bits, &mut out);
            assert_eq!(out, sorted, "{bits} bits");
        }
    }

    #[test]
    fn values_differing_only_in_low_bits_rank_exactly() {
        // One huge value stretches the span, so all others share a bucket and agree on the
        // bits sorted by counting: the bounded insertion sort must hand over to a full sort.
        let n = BUCKET_MIN + 1000;
        // Keys 2^19 ulps apart: distinct after shortening by the span, but equal on the 16 bits
        // below the bucket index, and scrambled.
        let step = f64::EPSILON * f64::from(1u32 << 19);
        let mut x: Vec<f64> = (0..n)
            .map(|i| 1.0 + ((i * 7919) % 65_536) as f64 * step)
            .collect();
        x[17] = 1e300;
        BUDGET_SPENT.with(|b| b.set(false));
        assert_eq!(rankdata(&x), ranks_by_comparison(&x));
        assert!(BUDGET_SPENT.with(|b| b.get()));
    }

    /// The reference: ranks from a full comparison sort of (value, position).
    fn ranks_by_comparison(x: &[f64]) -> Vec<f64> {
        let mut order: Vec<usize> = (0..x.len()).collect();
        order.sort_by_key(|&i| order_key(x[i]));
        let mut out = vec![0.0; x.len()];
        let mut s = 0;
        while s < order.len() {
            let mut e = s + 1;
            while e < order.len() && order_key(x[order[e]]) == order_key(x[order[s]]) {
                e += 1;
            }
            for &i in &order[s..e] {
                out[i] = (s + e + 1) as f64 / 2.0;
            }
            s = e;
        }
        out
    }

    #[test]
    fn long_inputs_rank_like_a_comparison_sort() {
        use rand::Rng as _;
        let mut rng = crate::stats::rng::stream(9, 0);
        let n = BUCKET_MIN * 3 + 17;
        // Heavy ties, values that differ only below the truncated key bits, both signs, ±0.
        let x: Vec<f64> = (0..n)
            .map(|i| match i % 5 {
                0 => (rng.random_range(-500..500) as f64) * 0.37,
                1 => 1.0 + (rng.random_range(0..4096) as f64) * f64::EPSILON,
                2 => -1.0 - (rng.random_range(0..64) as f64) * f64::EPSILON,
                3 => {
                    if rng.random::<bool>() {
                        0.0
                    } else {
                        -0.0
                    }
                }
                _ => rng.random::<f64>() * 2.0 - 1.0,
            })
            .collect();
        assert_eq!(rankdata(&x), ranks_by_comparison(&x));
        let short = &x[..1000];
        assert_eq!(rankdata(short), ranks_by_comparison(short));
        let r = rankdata(&x);
        assert_eq!(r.iter().sum::<f64>(), (n * (n + 1)) as f64 / 2.0);
    }

    #[test]
    fn narrow_words_rank_like_a_comparison_sort() {
        // The 32-bit words of the sorting network keep fewer key bits: values 1 ulp apart,
        // a huge value stretching the span, heavy ties and ±0 must still rank exactly.
        use rand::Rng as _;
        let mut rng = crate::stats::rng::stream(12, 0);
        let mut narrow = [Vec::new(), Vec::new()];
        let mut words = Vec::new();
        for n in [crate::stats::bitonic::NETWORK_MIN, 65, 780, 1000, 2048] {
            let mut x: Vec<f64> = (0..n)
                .map(|i| match i % 4 {
                    0 => (rng.random_range(-20..20) as f64) * 0.37,
                    1 => 0.25 + (rng.random_range(0..4096) as f64) * f64::EPSILON,
                    2 => {
                        if rng.random::<bool>() {
                            0.0
                        } else {
                            -0.0
                        }
                    }
                    _ => rng.random::<f64>(),
                })
                .collect();
            x[3] = 1e300;
            // Then infinities at both ends, one of them tied.
            for infinities in [false, true] {
                if infinities {
                    (x[5], x[6], x[7]) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY);
                }
                let mut got = vec![0.0; n];
                assert!(visit_ranks(
                    &x,
                    &mut words,
                    Some(&mut narrow),
                    |i, twice| { got[i] = twice as f64 / 2.0 }
                ));
                assert_eq!(got, ranks_by_comparison(&x), "n = {n}, {infinities}");
            }
        }
    }

    #[test]
    fn spearman_rho_equals_pearson_of_ranks() {
        use rand::Rng as _;
        let mut rng = crate::stats::rng::stream(10, 0);
        let mut scratch = SpearmanScratch::default();
        for n in [2usize, 3, 17, 1000, BUCKET_MIN + 5] {
            let a: Vec<f64> = (0..n)
                .map(|_| f64::from(rng.random_range(0..50u8)))
                .collect();
            let b: Vec<f64> = a
                .iter()
                .map(|v| {
                    if rng.random::<f64>() < 0.3 {
                        rng.random()
                    } else {
                        v * 0.5
                    }
                })
                .collect();
            let want = crate::stats::pearson::pearson_r(&rankdata(&a), &rankdata(&b));
            let got = spearman_rho(&a, &b, &mut scratch);
            assert!((got - want).abs() < 1e-13, "n = {n}: {got} vs {want}");
        }
        assert!(spearman_rho(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0], &mut scratch).is_nan());
        assert!(spearman_rho(&[1.0, f64::NAN], &[1.0, 2.0], &mut scratch).is_nan());
        assert_eq!(
            spearman_rho(&[3.0, 1.0, 2.0], &[30.0, 10.0, 20.0], &mut scratch),
            1.0
        );
    }

    #[test]
    fn ranks_sum_to_triangular_number() {
        use rand::Rng as _;
        let mut rng = crate::stats::rng::stream(7, 0);
        for n in [1usize, 2, 5, 50, 333] {
            let x: Vec<f64> = (0..n)
                .map(|_| f64::from(rng.random_range(0..10u8)))
                .collect();
            let s: f64 = rankdata(&x).iter().sum();
            assert_eq!(s, (n * (n + 1)) as f64 / 2.0);
        }
    }
}
