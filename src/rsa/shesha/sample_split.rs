//! Sample-split Shesha (shesha-geometry `sample_split`) — **deprecated by its author**.
//!
//! shesha-geometry 0.3 deprecates it as an invalid estimand: it correlates the RDMs of two
//! independently drawn subsamples, whose corresponding entries do not refer to the same pairs
//! of observations. It is provided only to reproduce published numbers; use
//! [`super::replicate_stability`] with matched replicates instead. Every result carries that
//! warning in `meta.warnings`.
//!
//! Algorithm (unchanged from shesha-geometry 0.2): NaN with fewer than 10 samples; at most
//! `max_samples` samples (random subset); m = ⌊n · fraction⌋ (NaN if m < 5); per split, two
//! independent subsets of m samples without replacement, their RDMs (no row normalisation),
//! Spearman correlation; splits with a constant RDM are skipped; estimate = mean.

use ndarray::{ArrayView2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::feature_split::subsample;
use super::result::{
    EPS, Handled, NanPolicy, StabilityResult, apply_nan_policy, population_std, spearman_value,
};
use crate::error::{Error, Result};
use crate::result::Meta;
use crate::rsa::rdm::{Metric, ZeroNorm, check_finite, rdm_with};
use crate::stats::rng;

/// The warning every [`sample_split`] result carries.
pub const SAMPLE_SPLIT_WARNING: &str = "sample_split correlates unmatched RDM entries from independently drawn subsamples; the estimand is not scientifically identifiable (deprecated in shesha-geometry 0.3). Use replicate_stability with matched replicates instead.";

/// Options of [`sample_split`]; defaults are shesha-geometry's (30 splits, fraction 0.4,
/// cosine, at most 1500 samples, `nan_policy = raise`), seed 320.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SampleSplitOptions {
    /// Number of subsample pairs.
    pub n_splits: usize,
    /// Fraction of the samples in each subsample, in (0, 1].
    pub subsample_fraction: f64,
    /// `Cosine` or `Correlation`.
    pub metric: Metric,
    /// Seed.
    pub seed: u64,
    /// Keep at most this many samples first.
    pub max_samples: Option<usize>,
    /// Undefined distances.
    pub nan_policy: NanPolicy,
    /// Explicit subsample pairs (row indices into the kept samples) instead of random ones.
    pub splits: Option<Vec<(Vec<usize>, Vec<usize>)>>,
    /// Explicit kept sample rows instead of the random `max_samples` subset.
    pub sample_rows: Option<Vec<usize>>,
}

impl Default for SampleSplitOptions {
    fn default() -> Self {
        SampleSplitOptions {
            n_splits: 30,
            subsample_fraction: 0.4,
            metric: Metric::Cosine,
            seed: 320,
            max_samples: Some(1500),
            nan_policy: NanPolicy::Raise,
            splits: None,
            sample_rows: None,
        }
    }
}

/// Deprecated sample-split Shesha of `x` (samples × features); see the module docs.
///
/// # Errors
/// [`Error::Invalid`] for non-finite input, a metric other than cosine/correlation, a fraction
/// outside (0, 1], bad explicit indices, or undefined distances under `nan_policy = raise`.
///
/// # Example
/// ```
/// use ndarray::Array2;
/// use neuropop::rsa::shesha::{sample_split, SampleSplitOptions};
/// let x = Array2::from_shape_fn((12, 3), |(i, j)| ((i * 7 + j * 3) % 5) as f64 + 1.0);
/// let r = sample_split(x.view(), &SampleSplitOptions::default()).unwrap();
/// assert!(r.meta.warnings[0].contains("not scientifically identifiable"));
/// ```
pub fn sample_split(x: ArrayView2<f64>, opts: &SampleSplitOptions) -> Result<StabilityResult> {
    if !matches!(opts.metric, Metric::Cosine | Metric::Correlation) {
        return Err(Error::invalid(
            "sample_split: metric",
            "cosine or correlation",
            opts.metric.name(),
        ));
    }
    if !(opts.subsample_fraction > 0.0 && opts.subsample_fraction <= 1.0) {
        return Err(Error::invalid(
            "sample_split: subsample_fraction",
            "a value in (0, 1]",
            opts.subsample_fraction.to_string(),
        ));
    }
    if opts.n_splits == 0 {
        return Err(Error::invalid("sample_split: n_splits", ">= 1", "0"));
    }
    check_finite(x, "sample_split: x")?;
    let n = x.nrows();
    let mut meta = Meta {
        n_requested: n,
        ..Meta::default()
    };
    meta.warn(SAMPLE_SPLIT_WARNING);
    if n < 10 {
        meta.warn("sample_split requires at least 10 samples.");
        return Ok(StabilityResult::deterministic(f64::NAN, meta).with_splits(Vec::new()));
    }
    let rows = match &opts.sample_rows {
        Some(r) => r.clone(),
        None => match opts.max_samples {
            Some(m) if n > m => subsample(n, m, opts.seed, "sample_split/subsample"),
            _ => (0..n).collect(),
        },
    };
    if let Some(&bad) = rows.iter().find(|&&i| i >= n) {
        return Err(Error::invalid(
            "sample_split: sample_rows",
            format!("row indices below {n}"),
            bad.to_string(),
        ));
    }
    let xs = x.select(Axis(0), &rows);
    let ns = xs.nrows();
    meta.n_used = ns;
    let m = (ns as f64 * opts.subsample_fraction) as usize;
    if m < 5 {
        meta.warn(format!("subsample size {m} < 5"));
        return Ok(StabilityResult::deterministic(f64::NAN, meta).with_splits(Vec::new()));
    }
    let n_splits = opts.splits.as_ref().map_or(opts.n_splits, Vec::len);
    let split = |i: usize| -> (Vec<usize>, Vec<usize>) {
        match &opts.splits {
            Some(s) => s[i].clone(),
            None => {
                let s = rng::derive_seed(opts.seed, "sample_split/split");
                (
                    subsample(ns, m, s, &format!("{i}/a")),
                    subsample(ns, m, s, &format!("{i}/b")),
                )
            }
        }
    };
    if let Some(s) = &opts.splits
        && let Some(&bad) = s
            .iter()
            .flat_map(|(a, b)| a.iter().chain(b))
            .find(|&&i| i >= ns)
    {
        return Err(Error::invalid(
            "sample_split: splits",
            format!("indices below {ns}"),
            bad.to_string(),
        ));
    }
    let rdm_of = |idx: &[usize]| {
        rdm_with(xs.select(Axis(0), idx).view(), opts.metric, ZeroNorm::Nan)
            .map(|r| r.into_condensed())
    };
    let outcomes: Vec<Result<(Option<f64>, bool, Meta)>> = (0..n_splits)
        .into_par_iter()
        .map(|i| {
            let (a, b) = split(i);
            let mut m = Meta::default();
            match apply_nan_policy(
                rdm_of(&a)?,
                rdm_of(&b)?,
                opts.nan_policy,
                &mut m,
                "sample_split",
            )? {
                Handled::Propagate => Ok((None, true, m)),
                Handled::Use(ra, rb) => {
                    if ra.len() < 2 || population_std(&ra) < EPS || population_std(&rb) < EPS {
                        return Ok((None, false, m));
                    }
                    let rho = spearman_value(&ra, &rb);
                    Ok((rho.is_finite().then_some(rho), false, m))
                }
            }
        })
        .collect();
    let mut scores = Vec::new();
    for o in outcomes {
        let (s, propagate, m) = o?;
        meta.warnings.extend(m.warnings);
        if propagate {
            meta.warn("Undefined distances propagated to the result (nan_policy='propagate').");
            return Ok(StabilityResult::deterministic(f64::NAN, meta).with_splits(Vec::new()));
        }
        scores.extend(s);
    }
    meta.warnings.dedup();
    let estimate = if scores.is_empty() {
        f64::NAN
    } else {
        scores.iter().sum::<f64>() / scores.len() as f64
    };
    Ok(StabilityResult::deterministic(estimate, meta).with_splits(scores))
}
