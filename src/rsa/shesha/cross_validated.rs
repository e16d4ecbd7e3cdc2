//! Cross-validated RSA over trials (the published Steinmetz analysis' `rsa_cv`).
//!
//! The trials are cut into k folds. For each fold, the conditions with ≥ 1 training and ≥ 1
//! test trial are kept (fewer than 3: the fold is skipped); the training trials' condition
//! means and the test trials' condition means give two cosine RDMs, compared by the guarded
//! Spearman (a fold with a constant RDM is skipped). The estimate is the mean over the folds
//! with a finite score. NaN when the session has fewer than 3 distinct conditions or fewer
//! than 10 trials.
//!
//! This is not Walther et al.'s cross-validated distance (see [`crate::rsa::crossnobis`]);
//! it cross-validates the *comparison* of RDMs.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use super::conditions::{group_means, guarded_spearman, small_rdm, trials_by_condition};
use crate::error::{Error, Result};
use crate::result::Meta;
use crate::rsa::rdm::Metric;
use crate::stats::mt19937::sklearn_kfold_test_folds;
use crate::stats::rank::SpearmanScratch;
use crate::stats::rng;

/// How the folds are drawn.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Folds {
    /// k folds of a shuffle from `rng::stream(derive_seed(seed, "cross_validated_rsa"), 0)`,
    /// sized like scikit-learn's KFold (the first n mod k folds one longer).
    KFold {
        /// Number of folds.
        k: usize,
        /// Seed of the shuffle.
        seed: u64,
    },
    /// Exactly the published script's folds: scikit-learn
    /// `KFold(k, shuffle=True, random_state=seed)` (numpy's legacy MT19937 shuffle).
    SklearnKFold {
        /// Number of folds.
        k: usize,
        /// `random_state`.
        seed: u32,
    },
    /// Explicit test sets (trial indices); each fold's training set is every other trial.
    Explicit(Vec<Vec<usize>>),
}

/// Options of [`cross_validated_rsa`]. Defaults: the published analysis' folds
/// (`SklearnKFold { k: 5, seed: 320 }`), cosine RDMs, std tolerance 1e-10, ≥ 3 conditions,
/// ≥ 10 trials.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CrossValidatedRsaOptions {
    /// Fold scheme.
    pub folds: Folds,
    /// RDM metric.
    pub metric: Metric,
    /// Constant-RDM tolerance.
    pub constant_std: f64,
    /// Minimum conditions per fold (and distinct conditions overall).
    pub min_conditions: usize,
    /// Minimum number of trials.
    pub min_trials: usize,
}

impl Default for CrossValidatedRsaOptions {
    fn default() -> Self {
        CrossValidatedRsaOptions {
            folds: Folds::SklearnKFold { k: 5, seed: 320 },
            metric: Metric::Cosine,
            constant_std: 1e-10,
            min_conditions: 3,
            min_trials: 10,
        }
    }
}

/// Result of [`cross_validated_rsa`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CrossValidatedRsaResult {
    /// Mean fold Spearman; NaN if no fold is defined.
    #[serde(serialize_with = "crate::result::nan_as_null")]
    pub estimate: f64,
    /// Score of every fold in order, NaN for skipped folds.
    #[serde(serialize_with = "crate::result::nan_as_null_vec")]
    pub fold_scores: Vec<f64>,
    /// Folds with a finite score.
    pub n_valid_folds: usize,
    /// The test trials of each fold (sorted).
    pub folds: Vec<Vec<usize>>,
    /// Conditions per fold that entered the RDMs.
    pub fold_conditions: Vec<Vec<usize>>,
    /// Folds requested/used, skipped folds with reasons, warnings.
    pub meta: Meta,
}

fn make_folds(n: usize, folds: &Folds) -> Result<Vec<Vec<usize>>> {
    match folds {
        Folds::KFold { k, .. } | Folds::SklearnKFold { k, .. } if *k < 2 || *k > n => {
            Err(Error::invalid(
                "cross_validated_rsa: k",
                format!("2 <= k <= n_trials ({n})"),
                k.to_string(),
            ))
        }
        Folds::KFold { k, seed } => {
            let mut perm: Vec<usize> = (0..n).collect();
            rng::shuffle(
                &mut perm,
                &mut rng::stream(rng::derive_seed(*seed, "cross_validated_rsa"), 0),
            );
            let mut out = Vec::with_capacity(*k);
            let mut start = 0;
            for f in 0..*k {
                let size = n / k + usize::from(f < n % k);
                let mut fold = perm[start..start + size].to_vec();
                fold.sort_unstable();
                out.push(fold);
                start += size;
            }
            Ok(out)
        }
        Folds::SklearnKFold { k, seed } => Ok(sklearn_kfold_test_folds(n, *k, *seed)),
        Folds::Explicit(v) => {
            if v.is_empty() {
                return Err(Error::invalid(
                    "cross_validated_rsa: folds",
                    "at least one fold",
                    "none",
                ));
            }
            if let Some(&bad) = v.iter().flatten().find(|&&t| t >= n) {
                return Err(Error::invalid(
                    "cross_validated_rsa: folds",
                    format!("trial indices below {n}"),
                    bad.to_string(),
                ));
            }
            Ok(v.iter()
                .map(|f| {
                    let mut f = f.clone();
                    f.sort_unstable();
                    f.dedup();
                    f
                })
                .collect())
        }
    }
}

/// Cross-validated RSA of `x` (trials × features) with per-trial condition codes.
///
/// # Errors
/// [`Error::Invalid`] for mismatched or non-finite input, k outside [2, n], or explicit folds
/// with out-of-range trials.
///
/// # Example
/// ```
/// use ndarray::Array2;
/// use neuropop::rsa::shesha::{cross_validated_rsa, CrossValidatedRsaOptions};
/// let conditions: Vec<usize> = (0..60).map(|t| t % 4).collect();
/// let x = Array2::from_shape_fn((60, 5), |(t, j)| ((conditions[t] + 2) as f64 * (j as f64 + 1.0)).sin() + 1.5);
/// let r = cross_validated_rsa(x.view(), &conditions, &CrossValidatedRsaOptions::default()).unwrap();
/// assert!((r.estimate - 1.0).abs() < 1e-12);
/// assert_eq!(r.fold_scores.len(), 5);
/// ```
pub fn cross_validated_rsa(
    x: ArrayView2<f64>,
    conditions: &[usize],
    opts: &CrossValidatedRsaOptions,
) -> Result<CrossValidatedRsaResult> {
    let by = trials_by_condition(x, conditions, "cross_validated_rsa")?;
    let n = x.nrows();
    let n_distinct = by.iter().filter(|t| !t.is_empty()).count();
    let folds = make_folds(n, &opts.folds)?;
    let mut meta = Meta {
        n_requested: folds.len(),
        ..Meta::default()
    };
    let mut result = CrossValidatedRsaResult {
        estimate: f64::NAN,
        fold_scores: Vec::new(),
        n_valid_folds: 0,
        folds: folds.clone(),
        fold_conditions: Vec::new(),
        meta: Meta::default(),
    };
    let min_c = opts.min_conditions.max(2);
    if n_distinct < min_c || n < opts.min_trials {
        meta.warn(format!("{n_distinct} distinct conditions and {n} trials (need >= {min_c} and >= {}): cross-validated RSA undefined", opts.min_trials));
        result.meta = meta;
        return Ok(result);
    }
    let mut in_test = vec![false; n];
    let mut scratch = SpearmanScratch::default();
    for (f, test) in folds.iter().enumerate() {
        in_test.iter_mut().for_each(|v| *v = false);
        test.iter().for_each(|&t| in_test[t] = true);
        let mut keep = Vec::new();
        let (mut train_sets, mut test_sets) = (Vec::new(), Vec::new());
        for (c, trials) in by.iter().enumerate() {
            let (te, tr): (Vec<usize>, Vec<usize>) = trials.iter().partition(|&&t| in_test[t]);
            if !te.is_empty() && !tr.is_empty() {
                keep.push(c);
                train_sets.push(tr);
                test_sets.push(te);
            }
        }
        let score = if keep.len() < min_c {
            meta.drop_item(
                format!("fold {f}"),
                format!(
                    "{} conditions with training and test trials (< {min_c})",
                    keep.len()
                ),
            );
            f64::NAN
        } else {
            let r_train = small_rdm(group_means(x, &train_sets), opts.metric);
            let r_test = small_rdm(group_means(x, &test_sets), opts.metric);
            match guarded_spearman(&r_train, &r_test, opts.constant_std, &mut scratch) {
                Ok(r) => r,
                Err(why) => {
                    meta.drop_item(format!("fold {f}"), why.reason(opts.constant_std));
                    f64::NAN
                }
            }
        };
        result.fold_scores.push(score);
        result.fold_conditions.push(keep);
    }
    let finite: Vec<f64> = result
        .fold_scores
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    result.n_valid_folds = finite.len();
    meta.n_used = finite.len();
    if finite.is_empty() {
        meta.warn("no fold gave a defined score");
    } else {
        result.estimate = finite.iter().sum::<f64>() / finite.len() as f64;
    }
    result.meta = meta;
    Ok(result)
}
