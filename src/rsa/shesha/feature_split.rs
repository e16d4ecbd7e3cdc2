//! Feature-split Shesha (shesha-geometry `feature_split`): how consistently the pairwise
//! geometry of the samples is carried by disjoint halves of the feature axes.
//!
//! For each of `n_splits` random partitions of the p features into two disjoint halves of
//! ⌊p/2⌋ features (the last feature is left out when p is odd), compute the RDM of the samples
//! on each half and their Spearman correlation; the estimate is the mean over the partitions
//! with a defined score. Before partitioning, at most `max_samples` samples are kept (a random
//! subset without replacement) and, for the cosine metric, rows are scaled to unit norm
//! (norm floored at 1e-12). A partition is skipped (not counted) when either RDM has
//! population standard deviation < 1e-12 or the correlation is not finite.
//!
//! Data interval: an observation bootstrap holding the full-data partitions fixed; in each
//! resample the distances are computed once per distinct sample and pairs of a sample with
//! itself are dropped (shesha-geometry 0.3 `return_type='result'`).

use ndarray::{ArrayView2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::feature_halves::{FeatureHalves, HalvesWorkspace};
use super::result::{
    Bootstrap, EPS, Handled, NanPolicy, StabilityResult, apply_nan_policy, check_ci,
    resampled_pair_index,
};
use crate::error::{Error, Result};
use crate::result::Meta;
use crate::rsa::rdm::{Metric, check_finite};
use crate::stats::bootstrap::sample_std;
use crate::stats::rank::{SpearmanScratch, spearman_rho};
use crate::stats::rng;

/// Options of [`feature_split`]. Defaults are shesha-geometry's: 30 splits, cosine, at most
/// 1600 samples, no bootstrap, 95 % level, `nan_policy = raise`; seed 320 (the paper's).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FeatureSplitOptions {
    /// Number of random feature partitions (minimum number with `target_mc_se`).
    pub n_splits: usize,
    /// `Cosine` or `Correlation`.
    pub metric: Metric,
    /// Seed of the subsample and the partitions.
    pub seed: u64,
    /// Keep at most this many samples (random subset), `None` for all.
    pub max_samples: Option<usize>,
    /// Observation bootstrap for a data interval.
    pub bootstrap: Bootstrap,
    /// Confidence level of the interval.
    pub ci: f64,
    /// Undefined distances.
    pub nan_policy: NanPolicy,
    /// Keep drawing partitions (beyond `n_splits`) until the Monte Carlo SE is at most this.
    pub target_mc_se: Option<f64>,
    /// Upper bound on partitions with `target_mc_se` (default max(n_splits, 500)).
    pub max_splits: Option<usize>,
    /// Explicit partitions (pairs of disjoint feature index sets) instead of random ones.
    pub partitions: Option<Vec<(Vec<usize>, Vec<usize>)>>,
    /// Explicit sample rows to keep instead of the random `max_samples` subset.
    pub sample_rows: Option<Vec<usize>>,
}

impl Default for FeatureSplitOptions {
    fn default() -> Self {
        FeatureSplitOptions {
            n_splits: 30,
            metric: Metric::Cosine,
            seed: 320,
            max_samples: Some(1600),
            bootstrap: Bootstrap::None,
            ci: 0.95,
            nan_policy: NanPolicy::Raise,
            target_mc_se: None,
            max_splits: None,
            partitions: None,
            sample_rows: None,
        }
    }
}

/// Random subset of `k` of `0..n` without replacement (partial Fisher–Yates), sorted.
pub(crate) fn subsample(n: usize, k: usize, seed: u64, label: &str) -> Vec<usize> {
    use rand::Rng as _;
    let mut r = rng::stream(rng::derive_seed(seed, label), 0);
    let mut idx: Vec<usize> = (0..n).collect();
    for i in 0..k.min(n) {
        let j = r.random_range(i..n);
        idx.swap(i, j);
    }
    idx.truncate(k.min(n));
    idx.sort_unstable();
    idx
}

/// Partition `i` of `p` features: a permutation from stream (derive_seed(seed), i), split at ⌊p/2⌋.
fn random_partition(p: usize, seed: u64, i: u64) -> (Vec<usize>, Vec<usize>) {
    let mut r = rng::stream(rng::derive_seed(seed, "feature_split/partition"), i);
    let mut perm: Vec<usize> = (0..p).collect();
    rng::shuffle(&mut perm, &mut r);
    let mid = p / 2;
    (perm[..mid].to_vec(), perm[mid..2 * mid].to_vec())
}

/// Score of one partition: `Ok(Some(rho))`, `Ok(None)` (skipped) or an error/propagation.
enum Score {
    Value(f64),
    Skipped,
    Propagate,
}

/// Score of the two RDMs of one partition under the NaN policy. `undefined` says whether some
/// distance may be NaN; only then are the RDMs scanned (and copied if the policy filters).
fn score_pair(
    a: &[f64],
    b: &[f64],
    undefined: bool,
    policy: NanPolicy,
    meta: &mut Meta,
    ranks: &mut SpearmanScratch,
) -> Result<Score> {
    if !undefined || a.iter().chain(b).all(|v| v.is_finite()) {
        return Ok(score_defined(a, b, ranks));
    }
    match apply_nan_policy(a.to_vec(), b.to_vec(), policy, meta, "feature_split")? {
        Handled::Propagate => Ok(Score::Propagate),
        Handled::Use(a, b) => Ok(score_defined(&a, &b, ranks)),
    }
}

/// Population standard deviation in one pass over `v` (non-empty), from sums of deviations
/// from `v[0]`: `var = (Σd² − (Σd)²/n)/n`. Since `var ≥ range²/(2n)`, the cancellation error
/// is below ~`2n·ε` of the variance (5e-10 relative for a 1600-sample RDM), ample for the
/// `< 1e-12` guard it serves; it halves the passes over two RDMs of 1.28 M distances.
fn std_one_pass(v: &[f64]) -> f64 {
    let k = v[0];
    let (mut s, mut q) = ([0.0f64; 4], [0.0f64; 4]);
    let chunks = v.chunks_exact(4);
    let tail = chunks.remainder();
    for c in chunks {
        for l in 0..4 {
            let d = c[l] - k;
            s[l] += d;
            q[l] += d * d;
        }
    }
    let (mut s, mut q) = ((s[0] + s[1]) + (s[2] + s[3]), (q[0] + q[1]) + (q[2] + q[3]));
    for &x in tail {
        s += x - k;
        q += (x - k) * (x - k);
    }
    let n = v.len() as f64;
    ((q - s * s / n) / n).max(0.0).sqrt()
}

/// Spearman of two RDMs without undefined distances; skipped when one is constant (population
/// std < 1e-12) or the correlation is not finite.
fn score_defined(a: &[f64], b: &[f64], ranks: &mut SpearmanScratch) -> Score {
    if a.len() < 2 || std_one_pass(a) < EPS || std_one_pass(b) < EPS {
        return Score::Skipped;
    }
    let rho = spearman_rho(a, b, ranks);
    if rho.is_finite() {
        Score::Value(rho)
    } else {
        Score::Skipped
    }
}

/// Feature-split Shesha of `x` (samples × features), shesha-geometry's `feature_split`.
///
/// # Errors
/// [`Error::Invalid`] for non-finite input, a metric other than cosine/correlation, zero
/// `n_splits`, an invalid `ci`, bad explicit partitions/rows, or undefined distances under
/// `nan_policy = raise`.
///
/// # Example
/// ```
/// use ndarray::Array2;
/// use neuropop::rsa::shesha::{feature_split, FeatureSplitOptions};
/// // 20 samples on a 2-D latent, copied into 16 features: every feature half sees the same geometry.
/// let x = Array2::from_shape_fn((20, 16), |(i, j)| {
///     let t = i as f64 * 0.3;
///     if j % 2 == 0 { t.cos() + 2.0 } else { t.sin() + 2.0 }
/// });
/// let r = feature_split(x.view(), &FeatureSplitOptions { n_splits: 5, ..Default::default() }).unwrap();
/// assert!(r.estimate > 0.99);
/// assert_eq!(r.split_scores.len(), 5);
/// ```
pub fn feature_split(x: ArrayView2<f64>, opts: &FeatureSplitOptions) -> Result<StabilityResult> {
    if !matches!(opts.metric, Metric::Cosine | Metric::Correlation) {
        return Err(Error::invalid(
            "feature_split: metric",
            "cosine or correlation",
            opts.metric.name(),
        ));
    }
    if opts.n_splits == 0 {
        return Err(Error::invalid("feature_split: n_splits", ">= 1", "0"));
    }
    check_ci(opts.ci)?;
    check_finite(x, "feature_split: x")?;
    let convergence = match opts.target_mc_se {
        None => {
            if opts.max_splits.is_some() {
                return Err(Error::invalid(
                    "feature_split: max_splits",
                    "only together with target_mc_se",
                    "max_splits without target_mc_se",
                ));
            }
            None
        }
        Some(t) => {
            if !(t > 0.0 && t.is_finite()) {
                return Err(Error::invalid(
                    "feature_split: target_mc_se",
                    "a finite positive number",
                    t.to_string(),
                ));
            }
            let limit = opts.max_splits.unwrap_or(opts.n_splits.max(500));
            if limit < opts.n_splits {
                return Err(Error::invalid(
                    "feature_split: max_splits",
                    format!(">= n_splits ({})", opts.n_splits),
                    limit.to_string(),
                ));
            }
            Some((t, limit))
        }
    };
    let (n, p) = x.dim();
    let mut meta = Meta {
        n_requested: n,
        ..Meta::default()
    };
    if n < 4 || p < 4 {
        meta.warn("feature_split requires at least 4 samples and 4 features.");
        return Ok(StabilityResult::deterministic(f64::NAN, meta).with_splits(Vec::new()));
    }
    // Subsample, then (cosine) scale rows to unit norm, as shesha-geometry does before partitioning.
    let rows: Vec<usize> = match &opts.sample_rows {
        Some(r) => {
            if let Some(&bad) = r.iter().find(|&&i| i >= n) {
                return Err(Error::invalid(
                    "feature_split: sample_rows",
                    format!("row indices below {n}"),
                    bad.to_string(),
                ));
            }
            r.clone()
        }
        None => match opts.max_samples {
            Some(m) if n > m => subsample(n, m, opts.seed, "feature_split/subsample"),
            _ => (0..n).collect(),
        },
    };
    if rows.len() < n {
        meta.drop_item(
            format!("{} samples", n - rows.len()),
            format!("subsampled to max_samples = {}", rows.len()),
        );
    }
    meta.n_used = rows.len();
    let mut xs = x.select(Axis(0), &rows);
    if opts.metric == Metric::Cosine {
        for mut row in xs.rows_mut() {
            let norm = row.dot(&row).sqrt();
            row /= norm.max(EPS);
        }
    }
    let xs = xs.view();
    let halves = FeatureHalves::new(xs, opts.metric);
    if opts.partitions.is_none() {
        // Random partitions are complementary halves: every one derives half B from the
        // full Gram matrix, so compute it up front with both threads.
        halves.full();
    }

    if let Some(parts) = &opts.partitions {
        if parts.is_empty() {
            return Err(Error::invalid(
                "feature_split: partitions",
                "at least one partition",
                "none",
            ));
        }
        if let Some(&bad) = parts
            .iter()
            .flat_map(|(a, b)| a.iter().chain(b))
            .find(|&&j| j >= p)
        {
            return Err(Error::invalid(
                "feature_split: partitions",
                format!("feature indices below {p}"),
                bad.to_string(),
            ));
        }
    }
    let partition = |i: usize| -> (Vec<usize>, Vec<usize>) {
        match &opts.partitions {
            Some(parts) => parts[i].clone(),
            None => random_partition(p, opts.seed, i as u64),
        }
    };
    let limit = match (&opts.partitions, convergence) {
        (Some(parts), _) => parts.len(),
        (None, Some((_, limit))) => limit,
        (None, None) => opts.n_splits,
    };

    // Score partitions in parallel batches; with a convergence target, stop at the first
    // partition count >= n_splits whose Monte Carlo SE reaches it (the same count for any
    // batch size or thread count, because partition i always comes from stream i).
    let mut scores: Vec<f64> = Vec::new();
    let mut drawn = 0usize;
    let mut skipped = 0usize;
    let mut converged = None;
    let batch = if convergence.is_some() { 32 } else { limit };
    'outer: while drawn < limit {
        let end = (drawn + batch).min(limit);
        // One run of partitions per thread, so each thread sets up its buffers once.
        let per_thread = (end - drawn).div_ceil(rayon::current_num_threads());
        let batch_scores: Vec<(Result<Score>, Meta)> = (drawn..end)
            .into_par_iter()
            .with_min_len(per_thread.max(1))
            .map_init(
                || (HalvesWorkspace::default(), SpearmanScratch::default()),
                |(ws, ranks), i| {
                    let (a, b) = partition(i);
                    let mut m = Meta::default();
                    // Distances of finite data are finite unless a sample has no direction
                    // on a half, which `rdms` reports: no scan for NaN otherwise.
                    let undefined = halves.rdms(&a, &b, ws).undefined;
                    let s = score_pair(&ws.da, &ws.db, undefined, opts.nan_policy, &mut m, ranks);
                    (s, m)
                },
            )
            .collect();
        for (s, m) in batch_scores {
            drawn += 1;
            meta.warnings.extend(m.warnings);
            match s? {
                Score::Propagate => {
                    meta.warn(
                        "Undefined distances propagated to the result (nan_policy='propagate').",
                    );
                    return Ok(StabilityResult::deterministic(f64::NAN, meta));
                }
                Score::Skipped => skipped += 1,
                Score::Value(v) => scores.push(v),
            }
            if let Some((target, _)) = convergence
                && drawn >= opts.n_splits
                && scores.len() >= 2
                && sample_std(&scores) / (scores.len() as f64).sqrt() <= target
            {
                converged = Some(true);
                break 'outer;
            }
        }
    }
    if let Some((target, limit)) = convergence
        && converged.is_none()
    {
        converged = Some(false);
        let se = if scores.len() >= 2 {
            sample_std(&scores) / (scores.len() as f64).sqrt()
        } else {
            f64::NAN
        };
        meta.warn(format!(
            "feature_split did not reach target_mc_se={target} after {drawn} partitions \
             (max_splits={limit}); Monte Carlo SE is {se:.4}."
        ));
    }
    meta.warnings.dedup();
    if skipped > 0 {
        meta.warn(format!(
            "{skipped} of {drawn} feature partitions were unestimable and skipped."
        ));
    }
    let estimate = if scores.is_empty() {
        f64::NAN
    } else {
        scores.iter().sum::<f64>() / scores.len() as f64
    };
    if scores.is_empty() {
        meta.warn("no feature partition gave a defined score");
    }
    let mut result = StabilityResult::deterministic(estimate, meta).with_splits(scores);
    result.converged = converged;

    if !matches!(opts.bootstrap, Bootstrap::None) {
        let parts: Vec<(Vec<usize>, Vec<usize>)> = (0..drawn).map(partition).collect();
        let n_s = xs.nrows();
        let draws = opts.bootstrap.run(n_s, |resample| {
            bootstrap_draw(xs, resample, &parts, opts.metric, opts.nan_policy)
        })?;
        result = result.with_bootstrap(&opts.bootstrap, draws, opts.ci);
    }
    Ok(result)
}

/// Mean partition score on one observation resample (NaN when none is defined or a partition
/// propagates NaN).
fn bootstrap_draw(
    xs: ArrayView2<f64>,
    resample: &[usize],
    parts: &[(Vec<usize>, Vec<usize>)],
    metric: Metric,
    policy: NanPolicy,
) -> f64 {
    let mut unique = resample.to_vec();
    unique.sort_unstable();
    unique.dedup();
    let inverse: Vec<usize> = resample
        .iter()
        .map(|r| unique.binary_search(r).expect("r is in unique"))
        .collect();
    let xu = xs.select(Axis(0), &unique);
    let halves = FeatureHalves::new(xu.view(), metric);
    let (mut ws, mut ranks) = (HalvesWorkspace::default(), SpearmanScratch::default());
    let mut pairs = Vec::new();
    resampled_pair_index(&inverse, unique.len(), &mut pairs);
    let mut sum = 0.0;
    let mut count = 0usize;
    for (a, b) in parts {
        let undefined = halves.rdms(a, b, &mut ws).undefined;
        let ra: Vec<f64> = pairs.iter().map(|&k| ws.da[k]).collect();
        let rb: Vec<f64> = pairs.iter().map(|&k| ws.db[k]).collect();
        let mut scratch = Meta::default();
        match score_pair(&ra, &rb, undefined, policy, &mut scratch, &mut ranks) {
            Ok(Score::Value(v)) => {
                sum += v;
                count += 1;
            }
            Ok(Score::Skipped) => {}
            // A resample that propagates (or raises) is unestimable, not an error of the whole run.
            Ok(Score::Propagate) | Err(_) => return f64::NAN,
        }
    }
    if count == 0 {
        f64::NAN
    } else {
        sum / count as f64
    }
}

#[cfg(test)]
mod tests {
    use super::super::result::population_std;
    use super::*;

    #[test]
    fn one_pass_std_matches_two_pass() {
        let v: Vec<f64> = (0..1001)
            .map(|i| 1.0 + ((i * 37) % 101) as f64 * 1e-3)
            .collect();
        assert!((std_one_pass(&v) - population_std(&v)).abs() < 1e-15);
        assert_eq!(std_one_pass(&[0.7; 9]), 0.0);
        // A spread at the 1e-12 guard is measured, not lost to cancellation.
        let tiny: Vec<f64> = (0..1000).map(|i| 1.5 + (i % 2) as f64 * 4e-12).collect();
        assert!((std_one_pass(&tiny) - 2e-12).abs() < 1e-15);
    }
}
