//! Trajectory tangling (Russo et al. 2018) of condition-mean population time courses.
//!
//! For conditions `c` with time courses `x_c(t)`, `t = 0..T-1` (units-dimensional), the forward
//! difference `dx_c(t) = x_c(t+1) − x_c(t)` (`t = 0..T-2`) is paired with the state `x_c(t)`.
//! All `P = (T−1)·n_cond` points are pooled; `ε = 0.1 × mean_i ‖x_i − x̄‖²`;
//! `Q(i) = max_{j≠i} ‖dx_i − dx_j‖² / (‖x_i − x_j‖² + ε)`; tangling = mean of `Q`.
//! NaN when `ε ≤ 0` or fewer than two points. Distances come from one (BLAS `dsyrk`) Gram
//! product of all the states, from which the derivatives' inner products follow: O(P²·n).

use ndarray::{Array1, Array2};

/// Tangling of condition trajectories, each `T × n_units` (all of the same shape).
///
/// ```
/// use ndarray::array;
/// // Two conditions tracing the same line in opposite directions are tangled.
/// let a = array![[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]];
/// let b = array![[2.0, 0.1], [1.0, 0.1], [0.0, 0.1]];
/// let q = neuropop::temporal::tangling::tangling(&[a, b]);
/// assert!(q > 1.0);
/// ```
pub fn tangling(trajectories: &[Array2<f64>]) -> f64 {
    let Some(first) = trajectories.first() else {
        return f64::NAN;
    };
    let (t, n) = first.dim();
    if t < 2 || trajectories.iter().any(|m| m.dim() != (t, n)) {
        return f64::NAN;
    }
    let p = (t - 1) * trajectories.len();
    if p < 2 {
        return f64::NAN;
    }
    // Every condition's T states stacked (rows c·T + k): one Gram of them gives both the state
    // and the derivative inner products, ⟨ẋ_a, ẋ_b⟩ = G[a+1,b+1] − G[a+1,b] − G[a,b+1] + G[a,b],
    // so the O(P²·n) work is one dsyrk instead of two.
    let nc = trajectories.len();
    let rows = nc * t;
    let mut ys = Vec::with_capacity(rows * n);
    for m in trajectories {
        ys.extend(m.iter());
    }
    let y = Array2::from_shape_vec((rows, n), ys).expect("T rows of n states per condition");
    // Point i (condition c, time k < T − 1) is row c·T + k.
    let row_of: Vec<usize> = (0..p).map(|i| (i / (t - 1)) * t + i % (t - 1)).collect();
    let mut centre = Array1::<f64>::zeros(n);
    for &r in &row_of {
        centre += &y.row(r);
    }
    let centre = centre / p as f64;
    let spread: f64 = row_of
        .iter()
        .map(|&r| {
            let d = &y.row(r) - &centre;
            d.dot(&d)
        })
        .sum::<f64>()
        / p as f64;
    let eps = 0.1 * spread;
    if eps.is_nan() || eps <= 0.0 {
        return f64::NAN;
    }
    let g = crate::stats::gram::gram(y.view());
    let g = g.as_slice().expect("fresh Gram is contiguous");
    let at = |a: usize, b: usize| g[a * rows + b];
    let dot_d = |a: usize, b: usize| at(a + 1, b + 1) - at(a + 1, b) - at(a, b + 1) + at(a, b);
    let sx: Vec<f64> = row_of.iter().map(|&r| at(r, r)).collect();
    let sd: Vec<f64> = row_of.iter().map(|&r| dot_d(r, r)).collect();
    // Each pair once (the Grams are symmetric), updating both points' maxima.
    let mut best = vec![f64::NEG_INFINITY; p];
    for i in 0..p {
        let a = row_of[i];
        for j in i + 1..p {
            let b = row_of[j];
            let dist_x = (sx[i] + sx[j] - 2.0 * at(a, b)).max(0.0);
            let dist_d = (sd[i] + sd[j] - 2.0 * dot_d(a, b)).max(0.0);
            let q = dist_d / (dist_x + eps);
            if q > best[i] {
                best[i] = q;
            }
            if q > best[j] {
                best[j] = q;
            }
        }
    }
    let total: f64 = best.iter().sum();
    total / p as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn constant_is_nan() {
        let a = Array2::<f64>::zeros((5, 3));
        assert!(tangling(&[a.clone(), a.clone(), a]).is_nan());
    }

    #[test]
    fn brute_force_agrees() {
        let a = array![[0.0, 1.0], [1.0, 2.0], [3.0, 1.0], [2.0, 0.5]];
        let b = array![[1.0, 0.0], [0.5, 2.5], [2.0, 2.0], [0.0, 0.0]];
        let trajs = [a, b];
        let mut xs = Vec::new();
        let mut ds = Vec::new();
        for m in &trajs {
            for k in 0..3 {
                xs.push(m.row(k).to_vec());
                ds.push((&m.row(k + 1) - &m.row(k)).to_vec());
            }
        }
        let p = xs.len();
        let mean: Vec<f64> = (0..2)
            .map(|d| xs.iter().map(|r| r[d]).sum::<f64>() / p as f64)
            .collect();
        let eps = 0.1
            * xs.iter()
                .map(|r| (0..2).map(|d| (r[d] - mean[d]).powi(2)).sum::<f64>())
                .sum::<f64>()
            / p as f64;
        let sq = |a: &[f64], b: &[f64]| (0..2).map(|d| (a[d] - b[d]).powi(2)).sum::<f64>();
        let mut tot = 0.0;
        for i in 0..p {
            let mut best = f64::NEG_INFINITY;
            for j in 0..p {
                if i != j {
                    best = best.max(sq(&ds[i], &ds[j]) / (sq(&xs[i], &xs[j]) + eps));
                }
            }
            tot += best;
        }
        assert!((tangling(&trajs) - tot / p as f64).abs() < 1e-12);
    }
}
