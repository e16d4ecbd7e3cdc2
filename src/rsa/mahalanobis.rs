//! Noise-normalised dissimilarities: Mahalanobis and cross-validated Mahalanobis (crossnobis).
//!
//! Both follow rsatoolbox 0.3 (`rsatoolbox.rdm.calc_rdm`) exactly, including its
//! normalisation: distances are *squared* and divided by the number of channels p, so that
//! with identity noise they are the mean squared difference per channel.
//!
//! * Mahalanobis (`method='mahalanobis'`): d²(i, j) = (mᵢ − mⱼ)ᵀ Λ (mᵢ − mⱼ) / p, with Λ the
//!   noise *precision* (inverse covariance) and mᵢ condition patterns.
//! * Crossnobis (`method='crossnobis'`, Walther et al. 2016, NeuroImage 137:188): for each
//!   fold f, the condition means of the trials *in* f (test, B) and of all trials *not in* f
//!   (train, A) give d²_f(i, j) = (aᵢ − aⱼ)ᵀ Λ (bᵢ − bⱼ) / p; the RDM is the mean over folds.
//!   Because the noise in A and B is independent, the estimate is unbiased (it can be negative).

use ndarray::{Array2, ArrayView2, Axis};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::rsa::rdm::{Rdm, check_finite};
use crate::stats::covariance::{ledoit_wolf, precision};

/// The noise model that normalises the distances.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Noise {
    /// No normalisation (Λ = I): squared Euclidean distance per channel.
    Identity,
    /// A precision matrix Λ (channels × channels), what rsatoolbox's `noise=` argument is.
    Precision(Array2<f64>),
    /// A noise covariance Σ; Λ = Σ⁻¹.
    Covariance(Array2<f64>),
    /// Residuals (observations × channels); Σ is their Ledoit–Wolf shrinkage estimate
    /// (`sklearn.covariance.ledoit_wolf`, Ledoit & Wolf 2004) and Λ = Σ⁻¹.
    LedoitWolf(Array2<f64>),
}

impl Noise {
    /// The precision matrix for `p` channels (`None` for identity).
    ///
    /// # Errors
    /// [`Error::Invalid`] for a matrix of the wrong shape; [`Error::Linalg`] for a singular
    /// covariance.
    ///
    /// # Example
    /// ```
    /// use neuropop::rsa::Noise;
    /// let p = Noise::Covariance(ndarray::array![[4.0, 0.0], [0.0, 1.0]]).precision(2).unwrap().unwrap();
    /// assert_eq!(p[[0, 0]], 0.25);
    /// ```
    pub fn precision(&self, p: usize) -> Result<Option<Array2<f64>>> {
        let check = |m: &Array2<f64>, what: &str| {
            if m.dim() != (p, p) {
                return Err(Error::invalid(
                    format!("noise {what}"),
                    format!("{p} × {p} (channels)"),
                    format!("{} × {}", m.nrows(), m.ncols()),
                ));
            }
            check_finite(m.view(), &format!("noise {what}"))
        };
        match self {
            Noise::Identity => Ok(None),
            Noise::Precision(m) => {
                check(m, "precision")?;
                Ok(Some(m.clone()))
            }
            Noise::Covariance(m) => {
                check(m, "covariance")?;
                Ok(Some(precision(m.view())?))
            }
            Noise::LedoitWolf(residuals) => {
                if residuals.ncols() != p {
                    return Err(Error::invalid(
                        "noise residuals",
                        format!("{p} columns (channels)"),
                        format!("{} columns", residuals.ncols()),
                    ));
                }
                let lw = ledoit_wolf(residuals.view())?;
                Ok(Some(precision(lw.covariance.view())?))
            }
        }
    }
}

/// Squared Mahalanobis RDM per channel of the rows of `x` (conditions × channels), as
/// `rsatoolbox.rdm.calc_rdm(dataset, method='mahalanobis', noise=Λ)` on one pattern per condition.
///
/// # Errors
/// [`Error::Invalid`] for non-finite input or a noise matrix of the wrong shape;
/// [`Error::Linalg`] when a covariance cannot be inverted.
///
/// # Example
/// ```
/// use ndarray::array;
/// use neuropop::rsa::{mahalanobis, Noise};
/// let x = array![[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]];
/// let r = mahalanobis(x.view(), &Noise::Covariance(array![[4.0, 0.0], [0.0, 1.0]])).unwrap();
/// assert_eq!(r.get(0, 1), 0.5); // (2² / 4) / 2 channels
/// assert_eq!(r.get(0, 2), 2.0); // (2² / 1) / 2 channels
/// ```
pub fn mahalanobis(x: ArrayView2<f64>, noise: &Noise) -> Result<Rdm> {
    check_finite(x, "mahalanobis: x")?;
    let p = x.ncols();
    let lam = noise.precision(p)?;
    let k = kernel(x, x, lam.as_ref());
    let n = x.nrows();
    let pf = p as f64;
    let condensed = (0..n)
        .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
        .map(|(i, j)| (k[[i, i]] + k[[j, j]] - 2.0 * k[[i, j]]) / pf)
        .collect();
    Rdm::new(n, condensed)
}

/// A Λ Bᵀ (Λ = I when `None`).
fn kernel(a: ArrayView2<f64>, b: ArrayView2<f64>, lam: Option<&Array2<f64>>) -> Array2<f64> {
    match lam {
        None => a.dot(&b.t()),
        Some(l) => a.dot(l).dot(&b.t()),
    }
}

/// Sorted distinct values of `codes`.
fn distinct(codes: &[usize]) -> Vec<usize> {
    let mut v = codes.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

/// Means of the rows of `x` selected by `take(trial)` per condition (in `conds` order).
fn condition_means(
    x: ArrayView2<f64>,
    conditions: &[usize],
    conds: &[usize],
    take: impl Fn(usize) -> bool,
) -> std::result::Result<Array2<f64>, usize> {
    let mut sums = Array2::zeros((conds.len(), x.ncols()));
    let mut counts = vec![0usize; conds.len()];
    for (t, row) in x.axis_iter(Axis(0)).enumerate() {
        if take(t) {
            let c = conds
                .binary_search(&conditions[t])
                .expect("every trial's condition is in conds");
            let mut s = sums.row_mut(c);
            s += &row;
            counts[c] += 1;
        }
    }
    if let Some(c) = counts.iter().position(|&k| k == 0) {
        return Err(conds[c]);
    }
    for (mut s, &k) in sums.rows_mut().into_iter().zip(&counts) {
        s /= k as f64;
    }
    Ok(sums)
}

/// Cross-validated squared Mahalanobis RDM per channel (crossnobis), as
/// `rsatoolbox.rdm.calc_rdm(dataset, method='crossnobis', descriptor='condition',
/// cv_descriptor='fold', noise=Λ)` with a single precision matrix.
///
/// `x` is trials × channels; `conditions[t]` and `folds[t]` are trial t's condition and fold
/// codes. RDM rows are the distinct condition codes in ascending order (rsatoolbox sorts by the
/// descriptor); labels are the codes as strings. Leave-one-fold-out: each fold is the test
/// set once, with every other trial as the training set.
///
/// # Errors
/// [`Error::Invalid`] when lengths differ, input is not finite, there are fewer than 2 folds,
/// or a condition is missing from some fold (rsatoolbox would misalign the patterns): the error
/// names the condition and fold. Noise errors as [`mahalanobis`].
///
/// # Example
/// ```
/// use ndarray::array;
/// use neuropop::rsa::{crossnobis, Noise};
/// // Two conditions, two folds, no noise: the distance is the true squared difference per channel.
/// let x = array![[0.0, 0.0], [2.0, 0.0], [0.0, 0.0], [2.0, 0.0]];
/// let r = crossnobis(x.view(), &[0, 1, 0, 1], &[0, 0, 1, 1], &Noise::Identity).unwrap();
/// assert_eq!(r.upper(), &[2.0]);
/// ```
pub fn crossnobis(
    x: ArrayView2<f64>,
    conditions: &[usize],
    folds: &[usize],
    noise: &Noise,
) -> Result<Rdm> {
    let n_trials = x.nrows();
    for (name, v) in [("conditions", conditions), ("folds", folds)] {
        if v.len() != n_trials {
            return Err(Error::invalid(
                format!("crossnobis: {name}"),
                format!("one entry per trial ({n_trials})"),
                format!("{} entries", v.len()),
            ));
        }
    }
    check_finite(x, "crossnobis: x")?;
    let conds = distinct(conditions);
    let fold_ids = distinct(folds);
    if fold_ids.len() < 2 {
        return Err(Error::invalid(
            "crossnobis: folds",
            "at least 2 distinct folds",
            format!("{}", fold_ids.len()),
        ));
    }
    let p = x.ncols();
    let lam = noise.precision(p)?;
    let nc = conds.len();
    let mut acc = vec![0.0; nc * nc.saturating_sub(1) / 2];
    for &f in &fold_ids {
        let missing = |c: usize, which: &str| {
            Error::invalid(
                format!("crossnobis: condition {c}"),
                format!("trials in the {which} set of fold {f}"),
                "none",
            )
        };
        let test = condition_means(x, conditions, &conds, |t| folds[t] == f)
            .map_err(|c| missing(c, "test"))?;
        let train = condition_means(x, conditions, &conds, |t| folds[t] != f)
            .map_err(|c| missing(c, "training"))?;
        let k = kernel(train.view(), test.view(), lam.as_ref());
        let mut idx = 0;
        for i in 0..nc {
            for j in i + 1..nc {
                acc[idx] += (k[[i, i]] + k[[j, j]] - k[[i, j]] - k[[j, i]]) / p as f64;
                idx += 1;
            }
        }
    }
    let nf = fold_ids.len() as f64;
    acc.iter_mut().for_each(|v| *v /= nf);
    Rdm::new(nc, acc)?.with_labels(conds.iter().map(|c| c.to_string()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn identity_noise_is_sqeuclidean_per_channel() {
        let x = array![[1.0, 2.0, 0.5], [0.0, -1.0, 2.0], [3.0, 0.0, 1.0]];
        let m = mahalanobis(x.view(), &Noise::Identity).unwrap();
        let e = crate::rsa::rdm::sqeuclidean(x.view());
        for (a, b) in m.upper().iter().zip(e.upper()) {
            assert!((a - b / 3.0).abs() < 1e-12);
        }
    }

    #[test]
    fn missing_condition_in_fold_is_named() {
        let x = array![[0.0], [1.0], [2.0]];
        let err = crossnobis(x.view(), &[0, 1, 0], &[0, 0, 1], &Noise::Identity)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("condition 1") && err.contains("training set of fold 0"),
            "{err}"
        );
        assert!(crossnobis(x.view(), &[0, 1, 0], &[0, 0, 0], &Noise::Identity).is_err());
    }
}
