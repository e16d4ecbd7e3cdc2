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

/// [`rankdata`] writing into `out` and reusing `scratch` (sort keys paired with positions),
/// so that a hot loop (one ranking per split) does not allocate.
///
/// Values are mapped to order-preserving integer keys; long inputs (≥ 65,536 values, e.g. a
/// condensed RDM of 1600 samples) are sorted by a 4-pass LSD radix sort, shorter ones by a
/// comparison sort.
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
pub fn rankdata_into(x: &[f64], scratch: &mut Vec<(u64, u32)>, out: &mut [f64]) {
    assert_eq!(
        out.len(),
        x.len(),
        "rankdata_into: output length must equal input length"
    );
    if x.iter().any(|v| v.is_nan()) {
        out.fill(f64::NAN);
        return;
    }
    scratch.clear();
    scratch.extend(x.iter().enumerate().map(|(i, &v)| (order_key(v), i as u32)));
    if scratch.len() >= RADIX_MIN {
        radix_sort(scratch);
    } else {
        scratch.sort_unstable();
    }
    let n = scratch.len();
    let mut start = 0;
    while start < n {
        let k = scratch[start].0;
        let mut end = start + 1;
        while end < n && scratch[end].0 == k {
            end += 1;
        }
        // Positions start..end (0-based) share the average 1-based rank.
        let rank = (start + end + 1) as f64 / 2.0;
        for &(_, i) in &scratch[start..end] {
            out[i as usize] = rank;
        }
        start = end;
    }
}

/// Inputs at least this long are radix-sorted.
const RADIX_MIN: usize = 1 << 16;

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

/// Stable LSD radix sort on the 64-bit key, 16 bits per pass.
fn radix_sort(v: &mut Vec<(u64, u32)>) {
    let mut buf = vec![(0u64, 0u32); v.len()];
    for pass in 0..4 {
        let shift = pass * 16;
        let mut counts = vec![0usize; 1 << 16];
        for &(k, _) in v.iter() {
            counts[((k >> shift) & 0xffff) as usize] += 1;
        }
        if counts.contains(&v.len()) {
            continue; // every key has the same digit: this pass would not move anything
        }
        let mut total = 0;
        for c in counts.iter_mut() {
            let here = *c;
            *c = total;
            total += here;
        }
        for &item in v.iter() {
            let d = ((item.0 >> shift) & 0xffff) as usize;
            buf[counts[d]] = item;
            counts[d] += 1;
        }
        std::mem::swap(v, &mut buf);
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
    fn nan_propagates() {
        assert!(rankdata(&[1.0, f64::NAN]).iter().all(|r| r.is_nan()));
    }

    #[test]
    fn signed_zeros_tie() {
        assert_eq!(rankdata(&[0.0, -0.0, 1.0]), vec![1.5, 1.5, 3.0]);
    }

    #[test]
    fn radix_path_matches_comparison_sort() {
        use rand::Rng as _;
        let mut rng = crate::stats::rng::stream(8, 0);
        let n = RADIX_MIN + 123;
        let x: Vec<f64> = (0..n)
            .map(|_| (rng.random_range(-500..500) as f64) * 0.37)
            .collect();
        let mut sorted: Vec<(u64, u32)> = x
            .iter()
            .enumerate()
            .map(|(i, &v)| (order_key(v), i as u32))
            .collect();
        sorted.sort_unstable();
        let mut radix: Vec<(u64, u32)> = x
            .iter()
            .enumerate()
            .map(|(i, &v)| (order_key(v), i as u32))
            .collect();
        radix_sort(&mut radix);
        assert_eq!(radix, sorted);
        let r = rankdata(&x);
        assert_eq!(r.iter().sum::<f64>(), (n * (n + 1)) as f64 / 2.0);
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
