//! Pieces shared by the shesha-geometry estimators: the result type, NaN policy, the
//! observation bootstrap specification and the RDM-correlation rules of the package.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::result::Meta;
use crate::rsa::rdm::Rdm;
use crate::stats::bootstrap::{percentile_interval, resample_indices, sample_std};
use crate::stats::correlation::pearson_r;
use crate::stats::rank::{SpearmanScratch, spearman_rho};

/// shesha-geometry's numerical zero for standard deviations and norms.
pub(crate) const EPS: f64 = 1e-12;

/// What to do with undefined distances (e.g. cosine distance to a zero vector), as
/// shesha-geometry's `nan_policy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NanPolicy {
    /// Return an error (shesha-geometry's default).
    #[default]
    Raise,
    /// Drop the pairs undefined in either RDM (with a warning).
    Omit,
    /// The whole estimate becomes NaN (with a warning).
    Propagate,
    /// Replace undefined distances by 1.0 (with a warning; can invent structure).
    Replace,
}

/// How the data (observation) bootstrap interval is drawn.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Bootstrap {
    /// No interval.
    #[default]
    None,
    /// `n_resamples` resamples with replacement; resample `i` from `rng::stream(seed, i)`.
    Seeded {
        /// Number of resamples.
        n_resamples: usize,
        /// Seed of the resamples.
        seed: u64,
    },
    /// Explicit resamples (each a vector of indices), e.g. captured from a Python run for
    /// bit-exact parity tests.
    Explicit(Vec<Vec<usize>>),
}

impl Bootstrap {
    fn n(&self) -> usize {
        match self {
            Bootstrap::None => 0,
            Bootstrap::Seeded { n_resamples, .. } => *n_resamples,
            Bootstrap::Explicit(v) => v.len(),
        }
    }

    /// Runs `score(resample)` for every resample in parallel and returns the draws in order
    /// (NaN where unestimable). `n_items` is the number of units resampled.
    pub(crate) fn run<F>(&self, n_items: usize, score: F) -> Result<Vec<f64>>
    where
        F: Fn(&[usize]) -> f64 + Sync,
    {
        match self {
            Bootstrap::None => Ok(Vec::new()),
            Bootstrap::Seeded { n_resamples, seed } => Ok((0..*n_resamples as u64)
                .into_par_iter()
                .map_init(
                    || Vec::with_capacity(n_items),
                    |buf, i| {
                        resample_indices(*seed, i, n_items, buf);
                        score(buf)
                    },
                )
                .collect()),
            Bootstrap::Explicit(resamples) => {
                if let Some((k, bad)) = resamples
                    .iter()
                    .enumerate()
                    .find(|(_, r)| r.iter().any(|&i| i >= n_items))
                {
                    let worst = bad.iter().max().copied().unwrap_or(0);
                    return Err(Error::invalid(
                        format!("bootstrap resample {k}"),
                        format!("indices below {n_items}"),
                        format!("index {worst}"),
                    ));
                }
                Ok(resamples.par_iter().map(|r| score(r)).collect())
            }
        }
    }
}

/// The result of every Shesha estimator — the split-half family ([`super::split_half`],
/// [`super::whitened_split_half`]) and the shesha-geometry estimators (its `StabilityResult`):
/// the estimate, the per-split (or per-anchor) scores it came from, Monte Carlo and data
/// (bootstrap) uncertainty, the conditions and RDMs of a split-half, and meta.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StabilityResult {
    /// Point estimate on the full (possibly subsampled) data; NaN when undefined.
    #[serde(serialize_with = "crate::result::nan_as_null")]
    pub estimate: f64,
    /// Per-split scores (feature/sample partitions) or per-anchor scores
    /// (anchor_profile_stability; NaN for excluded anchors). Empty for single-number estimators.
    #[serde(serialize_with = "crate::result::nan_as_null_vec")]
    pub split_scores: Vec<f64>,
    /// Standard deviation (n − 1) of the valid split scores; NaN without random partitions.
    #[serde(serialize_with = "crate::result::nan_as_null")]
    pub partition_sd: f64,
    /// Monte Carlo standard error `partition_sd / √n_valid_splits`; 0 for deterministic
    /// estimators.
    #[serde(serialize_with = "crate::result::nan_as_null")]
    pub monte_carlo_se: f64,
    /// Number of partitions with a finite score (`None` without partitions).
    pub n_valid_splits: Option<usize>,
    /// Lower bound of the percentile bootstrap interval (NaN without bootstrap).
    #[serde(serialize_with = "crate::result::nan_as_null")]
    pub ci_low: f64,
    /// Upper bound of the percentile bootstrap interval.
    #[serde(serialize_with = "crate::result::nan_as_null")]
    pub ci_high: f64,
    /// Confidence level of the interval (`None` without bootstrap).
    pub ci_level: Option<f64>,
    /// The finite bootstrap draws, in draw order.
    pub bootstrap_draws: Vec<f64>,
    /// Whether the Monte Carlo target was reached (only with `target_mc_se`).
    pub converged: Option<bool>,
    /// 2r/(1 + r) of the estimate (split-half with `spearman_brown`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spearman_brown: Option<f64>,
    /// Condition codes used, in RDM row order (split-half family; empty otherwise).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<usize>,
    /// The two RDMs of an odd/even split (split-half family).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rdms: Option<(Rdm, Rdm)>,
    /// Counts, dropped items and warnings.
    pub meta: Meta,
}

impl StabilityResult {
    /// A result with only an estimate (deterministic estimator, Monte Carlo SE 0).
    pub(crate) fn deterministic(estimate: f64, meta: Meta) -> Self {
        StabilityResult {
            estimate,
            split_scores: Vec::new(),
            partition_sd: f64::NAN,
            monte_carlo_se: 0.0,
            n_valid_splits: None,
            ci_low: f64::NAN,
            ci_high: f64::NAN,
            ci_level: None,
            bootstrap_draws: Vec::new(),
            converged: None,
            spearman_brown: None,
            conditions: Vec::new(),
            rdms: None,
            meta,
        }
    }

    /// Attaches bootstrap draws (NaN = unestimable, dropped and counted) and their interval.
    pub(crate) fn with_bootstrap(mut self, spec: &Bootstrap, draws: Vec<f64>, ci: f64) -> Self {
        if matches!(spec, Bootstrap::None) {
            return self;
        }
        let finite: Vec<f64> = draws.into_iter().filter(|v| v.is_finite()).collect();
        let requested = spec.n();
        if finite.len() < requested {
            self.meta.warn(format!(
                "{} of {requested} bootstrap resamples were unestimable and skipped.",
                requested - finite.len()
            ));
        }
        let (lo, hi) = if finite.is_empty() {
            (f64::NAN, f64::NAN)
        } else {
            percentile_interval(&finite, ci)
        };
        self.ci_low = lo;
        self.ci_high = hi;
        self.ci_level = Some(ci);
        self.bootstrap_draws = finite;
        self
    }

    /// Sets per-split scores, their SD and the Monte Carlo SE.
    pub(crate) fn with_splits(mut self, scores: Vec<f64>) -> Self {
        let sd = sample_std(&scores);
        self.monte_carlo_se = if scores.len() >= 2 {
            sd / (scores.len() as f64).sqrt()
        } else {
            f64::NAN
        };
        self.partition_sd = sd;
        self.n_valid_splits = Some(scores.len());
        self.split_scores = scores;
        self
    }
}

/// `std` with the n denominator (numpy's default), NaN-propagating.
pub(crate) fn population_std(v: &[f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n).sqrt()
}

/// Outcome of applying a [`NanPolicy`] to aligned distance vectors.
pub(crate) enum Handled {
    /// Use these (possibly filtered or filled) vectors.
    Use(Vec<f64>, Vec<f64>),
    /// The result must be NaN (`propagate`).
    Propagate,
}

/// shesha-geometry's `apply_nan_policy` for two aligned vectors: `raise` errors, `replace`
/// fills 1.0, `omit` drops entries undefined in either, `propagate` signals NaN.
pub(crate) fn apply_nan_policy(
    a: Vec<f64>,
    b: Vec<f64>,
    policy: NanPolicy,
    meta: &mut Meta,
    context: &str,
) -> Result<Handled> {
    let n_bad = a
        .iter()
        .zip(&b)
        .filter(|(x, y)| !x.is_finite() || !y.is_finite())
        .count();
    if n_bad == 0 {
        return Ok(Handled::Use(a, b));
    }
    match policy {
        NanPolicy::Raise => Err(Error::invalid(
            format!("{context}: nan_policy"),
            "only defined distances (or nan_policy omit / propagate / replace)",
            format!(
                "{n_bad} undefined distances (zero or constant vectors under cosine or correlation distance)"
            ),
        )),
        NanPolicy::Propagate => Ok(Handled::Propagate),
        NanPolicy::Replace => {
            meta.warn("Undefined distances were replaced with 1.0 (nan_policy='replace'); this treats undefined pairs as maximally dissimilar and can invent structure.");
            let fill = |v: Vec<f64>| {
                v.into_iter()
                    .map(|x| if x.is_finite() { x } else { 1.0 })
                    .collect()
            };
            Ok(Handled::Use(fill(a), fill(b)))
        }
        NanPolicy::Omit => {
            meta.warn(format!(
                "Omitted {n_bad} undefined distance pair(s) (nan_policy='omit')."
            ));
            let (a, b) = a
                .into_iter()
                .zip(b)
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .unzip();
            Ok(Handled::Use(a, b))
        }
    }
}

/// Correlation of two RDM vectors for the shesha-geometry estimators.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CorrelationMethod {
    /// Spearman rank correlation (default).
    #[default]
    Spearman,
    /// Pearson correlation.
    Pearson,
}

/// Spearman correlation value (average ranks); NaN when undefined.
pub(crate) fn spearman_value(a: &[f64], b: &[f64]) -> f64 {
    if a.len() < 2 || a.iter().chain(b).any(|v| v.is_nan()) {
        return f64::NAN;
    }
    spearman_rho(a, b, &mut SpearmanScratch::default())
}

/// shesha-geometry's `rowwise_correlation` for one pair of vectors: NaN with fewer than 3
/// entries or when either has (population) std < 1e-12; else Spearman/Pearson clipped to [−1, 1].
pub(crate) fn rowwise_correlation(a: &[f64], b: &[f64], method: CorrelationMethod) -> f64 {
    // `is_nan() ||` keeps a NaN std (NaN input) undefined, as numpy's `>=` does.
    let (sa, sb) = (population_std(a), population_std(b));
    if a.len() < 3 || sa.is_nan() || sb.is_nan() || sa < EPS || sb < EPS {
        return f64::NAN;
    }
    match method {
        CorrelationMethod::Spearman => spearman_value(a, b),
        CorrelationMethod::Pearson => pearson_r(a, b),
    }
}

/// Condensed index of the distinct pairs of a resample: for `rows` (resampled item indices
/// out of `n_items`) and every position pair p < q, the condensed index of
/// (min(rows[p], rows[q]), max(...)), skipping pairs of one item with itself (shesha-geometry's
/// `resampled_pair_index`: a zero self-distance would otherwise appear in both RDMs).
pub(crate) fn resampled_pair_index(rows: &[usize], n_items: usize, out: &mut Vec<usize>) {
    out.clear();
    for p in 0..rows.len() {
        for q in p + 1..rows.len() {
            let (a, b) = (rows[p], rows[q]);
            if a != b {
                let (lo, hi) = (a.min(b), a.max(b));
                out.push(crate::rsa::rdm::condensed_index(n_items, lo, hi));
            }
        }
    }
}

/// Checks a confidence level.
pub(crate) fn check_ci(ci: f64) -> Result<()> {
    crate::stats::bootstrap::check_ci_level("ci", ci)
}
