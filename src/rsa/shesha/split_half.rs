//! Split-half Shesha over trials (Raju, "Geometric Stability of Neural Population Codes"):
//! is the condition geometry the same in two disjoint halves of the trials?
//!
//! For each kept condition, its trials are split into two halves; the mean response of each
//! half gives two condition-mean matrices, hence two RDMs over the same conditions in the same
//! order, and the estimate is the Spearman correlation of the condensed RDMs.
//!
//! * [`Split::OddEven`] (the published Steinmetz analysis): the halves are the trials at even
//!   (0, 2, 4, … — the script's "odd", 1-based) and odd (1, 3, 5, …) positions in the *global*
//!   session order. A condition is kept with ≥ 2 trials overall and ≥ 1 in each half.
//! * [`Split::Random`]: per repetition, each condition's trials are shuffled (stream
//!   `(derive_seed(seed, "split_half"), repetition)`) and split ⌊n_c/2⌋ / ⌈n_c/2⌉; conditions
//!   with ≥ 2 trials are kept; the estimate is the mean over repetitions with a defined score,
//!   with the per-split scores, the Monte Carlo SE and optionally the Spearman–Brown
//!   prophecy 2r/(1 + r) (the reliability of the full-length split).
//!
//! At least `min_conditions` (3) kept conditions are needed; a split whose RDM has population
//! std < 1e-10 is undefined (NaN, reason in `meta.warnings`).
//!
//! Performance: condition sums are computed once; per repetition only the first half's sums
//! are accumulated and the second half is the condition sum minus the first half. Repetitions
//! run in parallel with per-thread buffers (no allocation per split).

use ndarray::{Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::conditions::{group_means, guarded_spearman, small_rdm, trials_by_condition};
use super::random_split::random_split_scores;
use super::result::StabilityResult;
use super::split_options::{Split, SplitHalfOptions};
use crate::error::{Error, Result};
use crate::result::Meta;
use crate::rsa::rdm::{Metric, Rdm};
use crate::stats::bootstrap::sample_std;
use crate::stats::covariance::inverse_sqrt_psd;
use crate::stats::rank::SpearmanScratch;

/// Selects conditions: returns kept codes and records dropped ones. `extra(c)` may reject a
/// condition with ≥ 2 trials (returning the reason).
pub(crate) fn select_conditions(
    by: &[Vec<usize>],
    meta: &mut Meta,
    extra: impl Fn(&[usize]) -> Option<String>,
) -> Vec<usize> {
    let mut keep = Vec::new();
    for (c, trials) in by.iter().enumerate() {
        if trials.is_empty() {
            continue;
        }
        meta.n_requested += 1;
        if trials.len() < 2 {
            meta.drop_item(format!("condition {c}"), "1 trial (< 2)");
        } else if let Some(reason) = extra(trials) {
            meta.drop_item(format!("condition {c}"), reason);
        } else {
            keep.push(c);
        }
    }
    meta.n_used = keep.len();
    keep
}

fn odd_even_extra(trials: &[usize]) -> Option<String> {
    if !trials.iter().any(|t| t % 2 == 0) {
        Some("no trial at an even position (first half)".into())
    } else if !trials.iter().any(|t| t % 2 == 1) {
        Some("no trial at an odd position (second half)".into())
    } else {
        None
    }
}

/// The odd/even halves' condition means over the kept conditions.
pub(crate) fn odd_even_means(
    x: ArrayView2<f64>,
    by: &[Vec<usize>],
    keep: &[usize],
) -> (Array2<f64>, Array2<f64>) {
    let first: Vec<Vec<usize>> = keep
        .iter()
        .map(|&c| by[c].iter().copied().filter(|t| t % 2 == 0).collect())
        .collect();
    let second: Vec<Vec<usize>> = keep
        .iter()
        .map(|&c| by[c].iter().copied().filter(|t| t % 2 == 1).collect())
        .collect();
    (group_means(x, &first), group_means(x, &second))
}

fn labelled(condensed: Vec<f64>, keep: &[usize]) -> Rdm {
    Rdm::new(keep.len(), condensed)
        .and_then(|r| r.with_labels(keep.iter().map(|c| c.to_string()).collect()))
        .expect("condensed length matches the kept conditions by construction")
}

/// Split-half Shesha of `x` (trials × features) with per-trial condition codes.
///
/// # Errors
/// [`Error::Invalid`] when `conditions` does not have one code per trial, `x` is not finite,
/// or `Random { n_splits: 0 }`.
///
/// # Example
/// ```
/// use ndarray::Array2;
/// use neuropop::rsa::shesha::{split_half, SplitHalfOptions};
/// // 5 conditions with distinct mean patterns, 6 trials each, plus a little trial noise.
/// let conditions: Vec<usize> = (0..30).map(|t| t % 5).collect();
/// let x = Array2::from_shape_fn((30, 5), |(t, j)| {
///     let c = conditions[t] as f64;
///     1.0 + (c * (j as f64 + 1.0)).sin() + 0.01 * ((t * 7 + j) % 3) as f64
/// });
/// let r = split_half(x.view(), &conditions, &SplitHalfOptions::default()).unwrap();
/// assert!(r.estimate > 0.9);
/// assert_eq!(r.conditions, vec![0, 1, 2, 3, 4]);
/// let random = split_half(x.view(), &conditions, &SplitHalfOptions::default().with_random_splits(50)).unwrap();
/// assert_eq!(random.split_scores.len(), 50);
/// ```
pub fn split_half(
    x: ArrayView2<f64>,
    conditions: &[usize],
    opts: &SplitHalfOptions,
) -> Result<StabilityResult> {
    let by = trials_by_condition(x, conditions, "split_half")?;
    let mut meta = Meta::default();
    let keep = match opts.split {
        Split::OddEven => select_conditions(&by, &mut meta, odd_even_extra),
        Split::Random { n_splits } => {
            if n_splits == 0 {
                return Err(Error::invalid("split_half: n_splits", ">= 1", "0"));
            }
            select_conditions(&by, &mut meta, |_| None)
        }
    };
    let mut result = StabilityResult::deterministic(f64::NAN, meta);
    result.monte_carlo_se = f64::NAN;
    result.n_valid_splits = Some(0);
    result.conditions = keep.clone();
    if keep.len() < opts.min_conditions.max(2) {
        result.meta.warn(format!(
            "{} usable conditions (< {}): split-half undefined",
            keep.len(),
            opts.min_conditions.max(2)
        ));
        return Ok(result);
    }
    match opts.split {
        Split::OddEven => {
            let (a, b) = odd_even_means(x, &by, &keep);
            let (ra, rb) = (small_rdm(a, opts.metric), small_rdm(b, opts.metric));
            let score =
                guarded_spearman(&ra, &rb, opts.constant_std, &mut SpearmanScratch::default());
            match score {
                Ok(r) => {
                    result.estimate = r;
                    result.n_valid_splits = Some(1);
                }
                Err(why) => result.meta.warn(why.reason(opts.constant_std)),
            }
            result.split_scores = vec![result.estimate];
            result.monte_carlo_se = 0.0;
            result.rdms = Some((labelled(ra, &keep), labelled(rb, &keep)));
        }
        Split::Random { n_splits } => {
            let scores = random_split_scores(x, &by, &keep, opts, n_splits);
            let finite: Vec<f64> = scores.iter().copied().filter(|v| v.is_finite()).collect();
            if finite.len() < scores.len() {
                result.meta.warn(format!(
                    "{} of {} random splits undefined (constant RDM or zero-norm condition mean)",
                    scores.len() - finite.len(),
                    scores.len()
                ));
            }
            result.n_valid_splits = Some(finite.len());
            if !finite.is_empty() {
                result.estimate = finite.iter().sum::<f64>() / finite.len() as f64;
            }
            result.partition_sd = sample_std(&finite);
            result.monte_carlo_se = if finite.len() >= 2 {
                result.partition_sd / (finite.len() as f64).sqrt()
            } else {
                f64::NAN
            };
            result.split_scores = scores;
        }
    }
    if opts.spearman_brown {
        let r = result.estimate;
        result.spearman_brown = Some(2.0 * r / (1.0 + r));
    }
    Ok(result)
}

/// Options of [`whitened_split_half`]. Defaults are the published analysis: shrinkage
/// λ = 0.1 towards the diagonal, ridge 1e-6, eigenvalues floored at 1e-10, cosine RDMs,
/// ≥ 3 conditions, std tolerance 1e-10.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WhitenedSplitHalfOptions {
    /// λ in (1 − λ) Σ + λ diag Σ.
    pub shrinkage: f64,
    /// Added to the diagonal: + ridge · I.
    pub ridge: f64,
    /// Eigenvalue floor before the inverse square root.
    pub eigen_floor: f64,
    /// RDM metric on the whitened means.
    pub metric: Metric,
    /// Minimum kept conditions.
    pub min_conditions: usize,
    /// Constant-RDM tolerance.
    pub constant_std: f64,
}

impl Default for WhitenedSplitHalfOptions {
    fn default() -> Self {
        WhitenedSplitHalfOptions {
            shrinkage: 0.1,
            ridge: 1e-6,
            eigen_floor: 1e-10,
            metric: Metric::Cosine,
            min_conditions: 3,
            constant_std: 1e-10,
        }
    }
}

/// Whitens condition means as the published script: centre across conditions, covariance of
/// the centred means over features with the n_conditions − 1 denominator, shrink
/// (1 − λ)Σ + λ diag Σ + ridge·I, and multiply by Σ^(−1/2) (eigenvalues floored).
pub(crate) fn whiten(means: &Array2<f64>, opts: &WhitenedSplitHalfOptions) -> Result<Array2<f64>> {
    let c = means - &means.mean_axis(Axis(0)).expect("at least 3 conditions");
    // The script centres a second time before the covariance; kept for bit-level fidelity.
    let c2 = &c - &c.mean_axis(Axis(0)).expect("at least 3 conditions");
    let mut cov = c2.t().dot(&c2) / (c2.nrows() as f64 - 1.0);
    let p = cov.nrows();
    for i in 0..p {
        for j in 0..p {
            cov[[i, j]] *= if i == j { 1.0 } else { 1.0 - opts.shrinkage };
        }
        cov[[i, i]] += opts.ridge;
    }
    let w = inverse_sqrt_psd(cov.view(), opts.eigen_floor)?;
    Ok(c.dot(&w))
}

/// Whether the cosine RDM of the whitened means can come from [`whitened_gram`]: cosine
/// metric, λ in [0, 1] and an eigenvalue floor below the ridge. The shrunk covariance is then
/// at least `ridge · I` (a convex combination of Σ and diag Σ, both PSD, plus the ridge), so
/// the floor never binds and `Σ_λ^(−1/2)` is the exact inverse square root.
fn woodbury_applies(opts: &WhitenedSplitHalfOptions) -> bool {
    opts.metric == Metric::Cosine
        && (0.0..=1.0).contains(&opts.shrinkage)
        && opts.ridge > 0.0
        && opts.eigen_floor < opts.ridge
}

/// The Gram matrix `W Wᵀ` of the whitened centred means `W = C Σ_λ^(−1/2)` (m conditions ×
/// p features), without the p × p eigendecomposition. `W Wᵀ = C Σ_λ⁻¹ Cᵀ`, and
/// `Σ_λ = D + c CᵀC` with the diagonal `D = λ diag Σ + ridge · I` and `c = (1 − λ)/(m − 1)`
/// (Σ = CᵀC/(m − 1)). With `Ĉ = C D^(−1/2)` and `K = Ĉ Ĉᵀ` (m × m), the push-through
/// identity gives `C Σ_λ⁻¹ Cᵀ = (I + cK)⁻¹ K`: one m × m Cholesky solve instead of an
/// O(p³) `eigh`, and no cancellation (`I + cK` has eigenvalues ≥ 1). The script's second
/// centring before the covariance changes `C` only by rounding, so one centred `C` serves both.
pub(crate) fn whitened_gram(
    means: &Array2<f64>,
    opts: &WhitenedSplitHalfOptions,
) -> Result<Array2<f64>> {
    use ndarray_linalg::{FactorizeC, SolveC, UPLO};
    let m = means.nrows();
    let c = means - &means.mean_axis(Axis(0)).expect("at least 3 conditions");
    let denom = m as f64 - 1.0;
    let scale: Vec<f64> = c
        .columns()
        .into_iter()
        .map(|col| {
            let var = col.dot(&col) / denom;
            1.0 / (opts.shrinkage * var + opts.ridge).sqrt()
        })
        .collect();
    let mut ch = c;
    for mut row in ch.rows_mut() {
        row.iter_mut().zip(&scale).for_each(|(v, s)| *v *= s);
    }
    let k = ch.dot(&ch.t());
    let cc = (1.0 - opts.shrinkage) / denom;
    let mut a = &k * cc;
    for i in 0..m {
        a[[i, i]] += 1.0;
    }
    let f = a
        .factorizec(UPLO::Lower)
        .map_err(|e| Error::linalg("whitened split-half (Cholesky of I + cK)", e))?;
    let mut g = Array2::<f64>::zeros((m, m));
    for (j, col) in k.columns().into_iter().enumerate() {
        let sol = f
            .solvec(&col.to_owned())
            .map_err(|e| Error::linalg("whitened split-half (solve)", e))?;
        g.column_mut(j).assign(&sol);
    }
    // (I + cK)⁻¹ K is symmetric (the factors commute); average away the rounding asymmetry.
    let gt = g.t().to_owned();
    Ok((g + gt) * 0.5)
}

/// Condensed cosine RDM of vectors given by their Gram matrix (as `small_rdm` computes it from
/// the vectors: `1 − clamp(g_ij / (‖w_i‖ ‖w_j‖))`).
fn cosine_rdm_from_gram(g: &Array2<f64>) -> Vec<f64> {
    let m = g.nrows();
    let norms: Vec<f64> = (0..m).map(|i| g[[i, i]].max(0.0).sqrt()).collect();
    let mut out = Vec::with_capacity(m * (m - 1) / 2);
    for i in 0..m {
        for j in i + 1..m {
            let s = g[[i, j]] / (norms[i] * norms[j]);
            out.push(1.0 - s.clamp(-1.0, 1.0));
        }
    }
    out
}

/// Whitened split-half Shesha (the published Steinmetz analysis' "wuc" column): the odd/even
/// condition means of each half are whitened by that half's shrunk covariance (see
/// [`WhitenedSplitHalfOptions`]) before the cosine RDMs and their Spearman correlation.
/// Conditions are selected as in [`split_half`] with [`Split::OddEven`].
///
/// # Errors
/// [`Error::Invalid`] for mismatched or non-finite input; [`Error::Linalg`] if the symmetric
/// eigensolver fails.
///
/// # Example
/// ```
/// use ndarray::Array2;
/// use neuropop::rsa::shesha::{whitened_split_half, WhitenedSplitHalfOptions};
/// let conditions: Vec<usize> = (0..40).map(|t| t % 5).collect();
/// let x = Array2::from_shape_fn((40, 6), |(t, j)| ((conditions[t] + 1) as f64 * (j as f64 + 0.5)).cos() + 0.05 * ((t * 13 + j * 7) % 5) as f64);
/// let r = whitened_split_half(x.view(), &conditions, &WhitenedSplitHalfOptions::default()).unwrap();
/// assert!(r.estimate.is_finite());
/// ```
pub fn whitened_split_half(
    x: ArrayView2<f64>,
    conditions: &[usize],
    opts: &WhitenedSplitHalfOptions,
) -> Result<StabilityResult> {
    let by = trials_by_condition(x, conditions, "whitened_split_half")?;
    let mut meta = Meta::default();
    let keep = select_conditions(&by, &mut meta, odd_even_extra);
    let mut result = StabilityResult::deterministic(f64::NAN, meta);
    result.n_valid_splits = Some(0);
    result.conditions = keep.clone();
    if keep.len() < opts.min_conditions.max(3) {
        result.meta.warn(format!(
            "{} usable conditions (< {}): whitened split-half undefined",
            keep.len(),
            opts.min_conditions.max(3)
        ));
        return Ok(result);
    }
    let (a, b) = odd_even_means(x, &by, &keep);
    let whitened_rdm = |means: &Array2<f64>| -> Result<Vec<f64>> {
        if woodbury_applies(opts) {
            Ok(cosine_rdm_from_gram(&whitened_gram(means, opts)?))
        } else {
            Ok(small_rdm(whiten(means, opts)?, opts.metric))
        }
    };
    let ra = whitened_rdm(&a)?;
    let rb = whitened_rdm(&b)?;
    match guarded_spearman(&ra, &rb, opts.constant_std, &mut SpearmanScratch::default()) {
        Ok(r) => {
            result.estimate = r;
            result.n_valid_splits = Some(1);
        }
        Err(why) => result.meta.warn(why.reason(opts.constant_std)),
    }
    result.split_scores = vec![result.estimate];
    result.rdms = Some((labelled(ra, &keep), labelled(rb, &keep)));
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The m × m Woodbury Gram equals the Gram of the eigh-whitened means (the script's route)
    /// for more features than conditions, fewer, and a feature that is constant across
    /// conditions.
    #[test]
    fn woodbury_gram_equals_eigh_whitening() {
        let opts = WhitenedSplitHalfOptions::default();
        for (m, p) in [(6usize, 40usize), (12, 5), (16, 300)] {
            let means = Array2::from_shape_fn((m, p), |(i, j)| {
                if j == 1 {
                    2.0
                } else {
                    ((i * 7 + j * 3) as f64 * 0.37).sin() * (1.0 + j as f64 / 10.0)
                }
            });
            let w = whiten(&means, &opts).unwrap();
            let expected = w.dot(&w.t());
            let got = whitened_gram(&means, &opts).unwrap();
            let scale = expected.iter().fold(0.0f64, |a, v| a.max(v.abs()));
            let err = (&got - &expected)
                .iter()
                .fold(0.0f64, |a, v| a.max(v.abs()));
            assert!(err <= 1e-10 * scale, "m={m} p={p}: {err} vs scale {scale}");
            let via_vectors = small_rdm(w, Metric::Cosine);
            let via_gram = cosine_rdm_from_gram(&got);
            for (a, b) in via_vectors.iter().zip(&via_gram) {
                assert!((a - b).abs() < 1e-10, "{a} vs {b}");
            }
        }
    }

    #[test]
    fn woodbury_only_where_the_floor_cannot_bind() {
        let d = WhitenedSplitHalfOptions::default();
        assert!(woodbury_applies(&d));
        let corr = WhitenedSplitHalfOptions {
            metric: Metric::Correlation,
            ..d.clone()
        };
        assert!(!woodbury_applies(&corr));
        let floor = WhitenedSplitHalfOptions {
            eigen_floor: 1e-3,
            ..d.clone()
        };
        assert!(!woodbury_applies(&floor));
        let lambda = WhitenedSplitHalfOptions {
            shrinkage: 1.5,
            ..d
        };
        assert!(!woodbury_applies(&lambda));
    }
}
