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
    let mut order = Vec::new();
    rankdata_into(x, &mut order, &mut out);
    out
}

/// [`rankdata`] writing into `out` and reusing `order` as scratch space, so that a hot loop
/// (one ranking per split) does not allocate.
///
/// # Panics
/// If `out.len() != x.len()` (a programming error, not a data error).
///
/// # Example
/// ```
/// use neuropop::stats::rank::rankdata_into;
/// let (mut order, mut out) = (Vec::new(), vec![0.0; 3]);
/// rankdata_into(&[3.0, 1.0, 2.0], &mut order, &mut out);
/// assert_eq!(out, vec![3.0, 1.0, 2.0]);
/// ```
pub fn rankdata_into(x: &[f64], order: &mut Vec<u32>, out: &mut [f64]) {
    assert_eq!(
        out.len(),
        x.len(),
        "rankdata_into: output length must equal input length"
    );
    if x.iter().any(|v| v.is_nan()) {
        out.fill(f64::NAN);
        return;
    }
    order.clear();
    order.extend(0..x.len() as u32);
    // Sort positions by value. `total_cmp` is a total order on the (NaN-free) values; -0.0 and
    // +0.0 compare unequal under it, so normalise them to one key first, as scipy treats them
    // as ties.
    let key = |i: u32| {
        let v = x[i as usize];
        if v == 0.0 { 0.0 } else { v }
    };
    order.sort_unstable_by(|&a, &b| key(a).total_cmp(&key(b)));
    let n = order.len();
    let mut start = 0;
    while start < n {
        let v = key(order[start]);
        let mut end = start + 1;
        while end < n && key(order[end]) == v {
            end += 1;
        }
        // Positions start..end (0-based) share the average 1-based rank.
        let rank = (start + end + 1) as f64 / 2.0;
        for &i in &order[start..end] {
            out[i as usize] = rank;
        }
        start = end;
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
