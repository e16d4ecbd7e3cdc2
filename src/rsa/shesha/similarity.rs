//! RDM similarity and drift between two representations of the same samples
//! (shesha-geometry `rdm_similarity`, `rdm_drift` = 1 − similarity).
//!
//! The RDMs are computed on the raw rows (no normalisation), undefined distances follow
//! `nan_policy` (`omit` drops pairs undefined in either RDM), and the correlation is Spearman
//! (default) or Pearson. Fewer than 3 samples (or fewer than 2 defined pairs) give NaN.
//!
//! Deliberate deviation: shesha-geometry returns **0.0** when either RDM is constant
//! (population std < 1e-12). neuropop returns NaN with a warning by default ("undefined is not
//! zero"); [`ConstantRdm::Zero`] reproduces the package. The observation bootstrap is the
//! duplicate-aware one of [`super::replicate_stability`] (shesha-geometry's
//! `return_type='result'`).

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use super::replicate::{bootstrap_replicate, check_metric, pair_policy};
use super::result::{
    Bootstrap, CorrelationMethod, EPS, NanPolicy, StabilityResult, check_ci, population_std,
    spearman_value,
};
use crate::error::{Error, Result};
use crate::result::Meta;
use crate::rsa::rdm::{Metric, ZeroNorm, check_finite, rdm_with};
use crate::stats::correlation::pearson_r;

/// What a constant RDM makes of the similarity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConstantRdm {
    /// NaN with a warning (neuropop's default).
    #[default]
    Nan,
    /// 0.0 (shesha-geometry's behaviour).
    Zero,
}

/// Options of [`rdm_similarity`] / [`rdm_drift`]; defaults are shesha-geometry's (Spearman,
/// cosine, no bootstrap, 95 %, `nan_policy = raise`) except [`ConstantRdm::Nan`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SimilarityOptions {
    /// Correlation between the RDMs.
    pub method: CorrelationMethod,
    /// `Cosine`, `Correlation` or `Euclidean`.
    pub metric: Metric,
    /// Observation bootstrap.
    pub bootstrap: Bootstrap,
    /// Confidence level.
    pub ci: f64,
    /// Undefined distances.
    pub nan_policy: NanPolicy,
    /// Constant-RDM rule.
    pub constant_rdm: ConstantRdm,
}

impl Default for SimilarityOptions {
    fn default() -> Self {
        SimilarityOptions {
            method: CorrelationMethod::Spearman,
            metric: Metric::Cosine,
            bootstrap: Bootstrap::None,
            ci: 0.95,
            nan_policy: NanPolicy::Raise,
            constant_rdm: ConstantRdm::Nan,
        }
    }
}

/// RDM similarity of `x` and `y` (samples × features each; feature counts may differ).
///
/// # Errors
/// [`Error::Invalid`] for non-finite input, different sample counts, `sqeuclidean`, an
/// invalid `ci`, or undefined distances under `nan_policy = raise`.
///
/// # Example
/// ```
/// use ndarray::array;
/// use neuropop::rsa::shesha::{rdm_similarity, SimilarityOptions};
/// let x = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [3.0, 1.0]];
/// let r = rdm_similarity(x.view(), (&x * 2.0).view(), &SimilarityOptions::default()).unwrap();
/// assert!((r.estimate - 1.0).abs() < 1e-12);
/// ```
pub fn rdm_similarity(
    x: ArrayView2<f64>,
    y: ArrayView2<f64>,
    opts: &SimilarityOptions,
) -> Result<StabilityResult> {
    similarity_impl(x, y, opts, false)
}

/// RDM drift, 1 − [`rdm_similarity`] (in [0, 2]); bootstrap draws and interval are of the drift.
///
/// # Errors
/// As [`rdm_similarity`].
///
/// # Example
/// ```
/// use ndarray::array;
/// use neuropop::rsa::shesha::{rdm_drift, SimilarityOptions};
/// let x = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [3.0, 1.0]];
/// let r = rdm_drift(x.view(), x.view(), &SimilarityOptions::default()).unwrap();
/// assert!(r.estimate.abs() < 1e-12);
/// ```
pub fn rdm_drift(
    x: ArrayView2<f64>,
    y: ArrayView2<f64>,
    opts: &SimilarityOptions,
) -> Result<StabilityResult> {
    similarity_impl(x, y, opts, true)
}

fn similarity_impl(
    x: ArrayView2<f64>,
    y: ArrayView2<f64>,
    opts: &SimilarityOptions,
    drift: bool,
) -> Result<StabilityResult> {
    let name = if drift { "rdm_drift" } else { "rdm_similarity" };
    check_metric(opts.metric, name)?;
    check_ci(opts.ci)?;
    check_finite(x, &format!("{name}: x"))?;
    check_finite(y, &format!("{name}: y"))?;
    let n = x.nrows();
    if y.nrows() != n {
        return Err(Error::invalid(
            format!("{name}: y"),
            format!("{n} samples (as x)"),
            format!("{} samples", y.nrows()),
        ));
    }
    let mut meta = Meta {
        n_requested: n,
        n_used: n,
        ..Meta::default()
    };
    if n < 3 {
        meta.warn("fewer than 3 samples: RDM similarity undefined");
        return Ok(
            StabilityResult::deterministic(f64::NAN, meta).with_bootstrap(
                &opts.bootstrap,
                Vec::new(),
                opts.ci,
            ),
        );
    }
    let rx = rdm_with(x, opts.metric, ZeroNorm::Nan)?.into_condensed();
    let ry = rdm_with(y, opts.metric, ZeroNorm::Nan)?.into_condensed();
    let Some((rx, ry, valid)) = pair_policy(rx, ry, opts.nan_policy, &mut meta, name)? else {
        meta.warn("Undefined distances propagated to the result (nan_policy='propagate').");
        return Ok(
            StabilityResult::deterministic(f64::NAN, meta).with_bootstrap(
                &opts.bootstrap,
                Vec::new(),
                opts.ci,
            ),
        );
    };
    let (a, b): (Vec<f64>, Vec<f64>) = rx
        .iter()
        .zip(&ry)
        .zip(&valid)
        .filter(|(_, v)| **v)
        .map(|((p, q), _)| (*p, *q))
        .unzip();
    let sim = correlate_rdms(&a, &b, opts.method, opts.constant_rdm, &mut meta);
    let estimate = if drift { 1.0 - sim } else { sim };
    let mut draws = bootstrap_replicate(&rx, &ry, &valid, n, opts.method, &opts.bootstrap)?;
    if drift {
        draws.iter_mut().for_each(|d| *d = 1.0 - *d);
    }
    Ok(
        StabilityResult::deterministic(estimate, meta).with_bootstrap(
            &opts.bootstrap,
            draws,
            opts.ci,
        ),
    )
}

/// shesha-geometry's `correlate_rdms` with the constant-RDM rule made explicit.
fn correlate_rdms(
    a: &[f64],
    b: &[f64],
    method: CorrelationMethod,
    constant: ConstantRdm,
    meta: &mut Meta,
) -> f64 {
    if a.len() < 2 {
        meta.warn("fewer than 2 defined RDM entries: similarity undefined");
        return f64::NAN;
    }
    if population_std(a) < EPS || population_std(b) < EPS {
        return match constant {
            ConstantRdm::Zero => 0.0,
            ConstantRdm::Nan => {
                meta.warn("constant RDM (std < 1e-12): similarity undefined (shesha-geometry reports 0.0)");
                f64::NAN
            }
        };
    }
    let r = match method {
        CorrelationMethod::Spearman => spearman_value(a, b),
        CorrelationMethod::Pearson => pearson_r(a, b),
    };
    if !r.is_finite() {
        meta.warn("RDM correlation not finite");
    }
    r
}
