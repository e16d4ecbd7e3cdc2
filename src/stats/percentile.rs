//! Percentiles with numpy's default definition (`np.percentile(..., method='linear')`).
//!
//! For `n` sorted values `v[0] <= ... <= v[n-1]` and `q` in [0, 100], the virtual index is
//! `h = (n - 1) q / 100`; with `lo = floor(h)` and `t = h - lo` the percentile is the linear
//! interpolation `v[lo] + t (v[lo+1] - v[lo])` (numpy evaluates it from the upper end when
//! `t >= 0.5`, and so do we, so results agree to the last bit in the usual cases).

/// The `q`-th percentile (`q` in [0, 100]) of `values`, numpy's linear interpolation.
///
/// Like `np.percentile`, any NaN in `values` makes the result NaN. An empty slice or a `q`
/// outside [0, 100] gives NaN.
///
/// # Example
/// ```
/// use neuropop::stats::percentile;
/// let v = [1.0, 2.0, 3.0, 4.0];
/// assert_eq!(percentile(&v, 50.0), 2.5);
/// assert_eq!(percentile(&v, 2.5), 1.075); // np.percentile([1,2,3,4], 2.5)
/// ```
pub fn percentile(values: &[f64], q: f64) -> f64 {
    if values.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    percentile_sorted(&sorted, q)
}

/// [`percentile`] of values already sorted ascending (no NaN), without copying.
///
/// # Example
/// ```
/// use neuropop::stats::percentile_sorted;
/// assert_eq!(percentile_sorted(&[0.0, 10.0], 25.0), 2.5);
/// ```
pub fn percentile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 || !(0.0..=100.0).contains(&q) {
        return f64::NAN;
    }
    let h = (q / 100.0) * (n - 1) as f64;
    let lo = (h.floor() as usize).min(n - 1);
    let hi = (lo + 1).min(n - 1);
    let t = h - lo as f64;
    let (a, b) = (sorted[lo], sorted[hi]);
    let diff = b - a;
    // numpy's _lerp: a + diff*t, but b - diff*(1-t) when t >= 0.5.
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpy_known_values() {
        let v = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0];
        // np.percentile(v, [0, 2.5, 25, 50, 97.5, 100])
        assert_eq!(percentile(&v, 0.0), 1.0);
        assert!((percentile(&v, 2.5) - 1.0).abs() < 1e-15);
        assert!((percentile(&v, 25.0) - 1.75).abs() < 1e-15);
        assert!((percentile(&v, 50.0) - 3.5).abs() < 1e-15);
        assert!((percentile(&v, 97.5) - 8.475).abs() < 1e-12);
        assert_eq!(percentile(&v, 100.0), 9.0);
    }

    #[test]
    fn degenerate() {
        assert!(percentile(&[], 50.0).is_nan());
        assert!(percentile(&[1.0, f64::NAN], 50.0).is_nan());
        assert!(percentile(&[1.0], 150.0).is_nan());
        assert_eq!(percentile(&[7.0], 50.0), 7.0);
    }
}
