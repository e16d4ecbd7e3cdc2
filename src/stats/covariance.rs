//! Covariance estimators and matrix functions used for whitening and noise normalisation.
//!
//! * [`ledoit_wolf`]: Ledoit & Wolf (2004) shrinkage towards a scaled identity, the same
//!   numbers as `sklearn.covariance.ledoit_wolf` (empirical covariance with denominator n).
//! * [`inverse_sqrt_psd`]: Σ^(−1/2) of a symmetric positive semi-definite matrix by its
//!   eigendecomposition, eigenvalues floored.
//! * [`precision`]: the inverse of a covariance matrix (LAPACK via ndarray-linalg).
//!
//! Arrays are observations × variables (rows are samples).

use ndarray::{Array1, Array2, ArrayView2, Axis};
use ndarray_linalg::{Eigh, Inverse, UPLO};
use serde::Serialize;

use crate::error::{Error, Result};

/// A Ledoit–Wolf covariance estimate.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LedoitWolf {
    /// Shrunk covariance, variables × variables: (1 − s) S + s μ I with S = X_cᵀX_c / n and
    /// μ = trace(S) / p.
    pub covariance: Array2<f64>,
    /// Shrinkage intensity s in [0, 1].
    pub shrinkage: f64,
    /// Column means that were subtracted.
    pub location: Array1<f64>,
}

/// Ledoit–Wolf shrunk covariance of `x` (samples × variables), as scikit-learn's
/// `ledoit_wolf(x)` (which centres the data, `assume_centered=False`).
///
/// With centred data X (n × p), S = XᵀX/n, μ = tr(S)/p,
/// δ = ‖S − μI‖²_F / p, β = min(δ, (Σ_k ‖x_k‖⁴ / n − ‖XᵀX‖²_F / n²) / (n p)) and the shrinkage is
/// β/δ (0 when β = 0). With one variable the shrinkage is 0.
///
/// # Errors
/// [`Error::Invalid`] when `x` has no rows or no columns, or contains a non-finite value.
///
/// # Example
/// ```
/// use ndarray::array;
/// let x = array![[1.0, 2.0], [2.0, 1.0], [3.0, 5.0], [4.0, 3.0]];
/// let lw = neuropop::stats::covariance::ledoit_wolf(x.view()).unwrap();
/// assert!(lw.shrinkage >= 0.0 && lw.shrinkage <= 1.0);
/// assert!((lw.covariance[[0, 1]] - lw.covariance[[1, 0]]).abs() < 1e-15);
/// ```
pub fn ledoit_wolf(x: ArrayView2<f64>) -> Result<LedoitWolf> {
    let (n, p) = x.dim();
    if n == 0 || p == 0 {
        return Err(Error::invalid(
            "ledoit_wolf: x",
            "at least 1 sample and 1 variable",
            format!("{n} × {p}"),
        ));
    }
    if let Some(((i, j), v)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(Error::invalid(
            format!("ledoit_wolf: x[{i}, {j}]"),
            "a finite value",
            v.to_string(),
        ));
    }
    let location = x.mean_axis(Axis(0)).expect("n > 0 checked above");
    let xc = &x - &location;
    let nf = n as f64;
    if p == 1 {
        let var = xc.iter().map(|v| v * v).sum::<f64>() / nf;
        return Ok(LedoitWolf {
            covariance: Array2::from_elem((1, 1), var),
            shrinkage: 0.0,
            location,
        });
    }
    let pf = p as f64;
    let emp = xc.t().dot(&xc) / nf;
    let trace: f64 = emp.diag().sum();
    let mu = trace / pf;
    // Σ_ij (Σ_k x_ki² x_kj²) = Σ_k (Σ_i x_ki²)²; ‖XᵀX‖²_F = n² ‖S‖²_F.
    let beta_raw: f64 = xc
        .rows()
        .into_iter()
        .map(|r| r.iter().map(|v| v * v).sum::<f64>().powi(2))
        .sum();
    let delta_raw = emp.iter().map(|v| v * v).sum::<f64>();
    let beta = (beta_raw / nf - delta_raw) / (pf * nf);
    let delta = (delta_raw - 2.0 * mu * trace + pf * mu * mu) / pf;
    let beta = beta.min(delta);
    let shrinkage = if beta == 0.0 || delta <= 0.0 {
        0.0
    } else {
        beta / delta
    };
    let mut covariance = emp * (1.0 - shrinkage);
    for i in 0..p {
        covariance[[i, i]] += shrinkage * mu;
    }
    Ok(LedoitWolf {
        covariance,
        shrinkage,
        location,
    })
}

/// Σ^(−1/2) of a symmetric PSD matrix: V diag(max(λ, floor))^(−1/2) Vᵀ.
///
/// # Errors
/// [`Error::Invalid`] for a non-square matrix; [`Error::Linalg`] when LAPACK's symmetric
/// eigensolver fails.
///
/// # Example
/// ```
/// use ndarray::array;
/// let w = neuropop::stats::covariance::inverse_sqrt_psd(array![[4.0, 0.0], [0.0, 0.25]].view(), 1e-10).unwrap();
/// assert!((w[[0, 0]] - 0.5).abs() < 1e-12 && (w[[1, 1]] - 2.0).abs() < 1e-12);
/// ```
pub fn inverse_sqrt_psd(sigma: ArrayView2<f64>, floor: f64) -> Result<Array2<f64>> {
    let (r, c) = sigma.dim();
    if r != c {
        return Err(Error::invalid(
            "inverse_sqrt_psd: matrix",
            "square",
            format!("{r} × {c}"),
        ));
    }
    let (values, vectors) = sigma
        .to_owned()
        .eigh(UPLO::Lower)
        .map_err(|e| Error::linalg("inverse square root (eigh)", e))?;
    let scale = values.mapv(|v| 1.0 / v.max(floor).sqrt());
    let scaled = &vectors * &scale.insert_axis(Axis(0));
    Ok(scaled.dot(&vectors.t()))
}

/// The precision (inverse) of a covariance matrix.
///
/// # Errors
/// [`Error::Invalid`] for a non-square matrix; [`Error::Linalg`] when it is singular.
///
/// # Example
/// ```
/// use ndarray::array;
/// let p = neuropop::stats::covariance::precision(array![[2.0, 0.0], [0.0, 4.0]].view()).unwrap();
/// assert!((p[[1, 1]] - 0.25).abs() < 1e-15);
/// ```
pub fn precision(covariance: ArrayView2<f64>) -> Result<Array2<f64>> {
    let (r, c) = covariance.dim();
    if r != c {
        return Err(Error::invalid(
            "precision: covariance",
            "a square matrix",
            format!("{r} × {c}"),
        ));
    }
    covariance
        .to_owned()
        .inv()
        .map_err(|e| Error::linalg("inverting the noise covariance", e))
}
