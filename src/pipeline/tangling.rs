//! Trajectory tangling (Russo et al. 2018) of condition-mean population time courses.
//!
//! For conditions `c` with time courses `x_c(t)`, `t = 0..T-1` (units-dimensional), the forward
//! difference `dx_c(t) = x_c(t+1) − x_c(t)` (`t = 0..T-2`) is paired with the state `x_c(t)`.
//! All `P = (T−1)·n_cond` points are pooled; `ε = 0.1 × mean_i ‖x_i − x̄‖²`;
//! `Q(i) = max_{j≠i} ‖dx_i − dx_j‖² / (‖x_i − x_j‖² + ε)`; tangling = mean of `Q`.
//! NaN when `ε ≤ 0` or fewer than two points. Distances come from (BLAS `dsyrk`) Gram products:
//! O(P²·n).

use ndarray::{Array2, Axis};

/// Tangling of condition trajectories, each `T × n_units` (all of the same shape).
///
/// ```
/// use ndarray::array;
/// // Two conditions tracing the same line in opposite directions are tangled.
/// let a = array![[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]];
/// let b = array![[2.0, 0.1], [1.0, 0.1], [0.0, 0.1]];
/// let q = neuropop::pipeline::tangling::tangling(&[a, b]);
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
    let mut xs = Vec::with_capacity(p * n);
    let mut ds = Vec::with_capacity(p * n);
    for m in trajectories {
        for k in 0..t - 1 {
            xs.extend(m.row(k).iter());
            ds.extend(m.row(k + 1).iter().zip(m.row(k)).map(|(b, a)| b - a));
        }
    }
    let x = Array2::from_shape_vec((p, n), xs).expect("p rows of n states");
    let dx = Array2::from_shape_vec((p, n), ds).expect("p rows of n derivatives");
    let Some(centre) = x.mean_axis(Axis(0)) else {
        return f64::NAN;
    };
    let spread: f64 = x
        .rows()
        .into_iter()
        .map(|r| {
            let d = &r - &centre;
            d.dot(&d)
        })
        .sum::<f64>()
        / p as f64;
    let eps = 0.1 * spread;
    if eps.is_nan() || eps <= 0.0 {
        return f64::NAN;
    }
    let sx: Vec<f64> = x.rows().into_iter().map(|r| r.dot(&r)).collect();
    let sd: Vec<f64> = dx.rows().into_iter().map(|r| r.dot(&r)).collect();
    // The Gram products are the whole cost (O(P²·n)); dsyrk computes one triangle.
    let gx = crate::stats::gram::gram(x.view());
    let gd = crate::stats::gram::gram(dx.view());
    // Each pair once (the Grams are symmetric), updating both points' maxima.
    let mut best = vec![f64::NEG_INFINITY; p];
    for i in 0..p {
        let (gxi, gdi) = (gx.row(i), gd.row(i));
        for j in i + 1..p {
            let dist_x = (sx[i] + sx[j] - 2.0 * gxi[j]).max(0.0);
            let dist_d = (sd[i] + sd[j] - 2.0 * gdi[j]).max(0.0);
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
