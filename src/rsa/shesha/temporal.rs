//! Stability of the population code across the session (the published Steinmetz analysis):
//! early vs late condition geometry, and the drift of the population centroid.
//!
//! Split points follow the script exactly: halves at `mid = ⌊n/2⌋` (early = trials
//! `[0, mid)`, late = `[mid, n)`), tertiles at `t1 = ⌊n/3⌋`, `t2 = ⌊2n/3⌋`.
//!
//! *Centroid similarity* cs(P, Q): every trial vector is scaled by 1/(‖x‖ + 1e-10) (a zero
//! trial stays zero and still counts), the centroids p̄, q̄ are the row means, and
//! cs = p̄·q̄ / (‖p̄‖‖q̄‖), NaN when ‖p̄‖‖q̄‖ < 1e-10. Note that the published column
//! `centroid_drift` **is this similarity** (1 = no change), not 1 − similarity.

use ndarray::{Array2, ArrayView1, ArrayView2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::conditions::{group_means, guarded_spearman, small_rdm, trials_by_condition};
use crate::error::{Error, Result};
use crate::result::Meta;
use crate::rsa::rdm::{Metric, Rdm, check_finite};
use crate::stats::permutation::{
    Alternative, PermutationResult, permutation_indices, summarise_null,
};
use crate::stats::rank::SpearmanScratch;
use crate::stats::rng;

/// Options of [`temporal_stability`]: cosine RDMs, ≥ 3 conditions, std tolerance 1e-10.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TemporalStabilityOptions {
    /// RDM metric.
    pub metric: Metric,
    /// Minimum number of conditions present in both halves.
    pub min_conditions: usize,
    /// Constant-RDM tolerance.
    pub constant_std: f64,
}

impl Default for TemporalStabilityOptions {
    fn default() -> Self {
        TemporalStabilityOptions {
            metric: Metric::Cosine,
            min_conditions: 3,
            constant_std: 1e-10,
        }
    }
}

/// Result of [`temporal_stability`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TemporalStabilityResult {
    /// Spearman correlation of the early and late RDMs; NaN if undefined.
    #[serde(serialize_with = "crate::result::nan_as_null")]
    pub estimate: f64,
    /// Conditions present in both halves (RDM row order).
    pub conditions: Vec<usize>,
    /// Early and late RDMs (when at least `min_conditions` conditions).
    pub rdms: Option<(Rdm, Rdm)>,
    /// Split point ⌊n/2⌋.
    pub mid: usize,
    /// Conditions requested/used/dropped, warnings.
    pub meta: Meta,
}

/// Temporal Shesha: condition means of the early half `[0, ⌊n/2⌋)` and late half of the
/// trials (session order) over the conditions present in both halves, cosine RDMs, Spearman
/// with the RDM guard.
///
/// # Errors
/// [`Error::Invalid`] for mismatched lengths or non-finite `x`.
///
/// # Example
/// ```
/// use ndarray::Array2;
/// use neuropop::rsa::shesha::{temporal_stability, TemporalStabilityOptions};
/// let conditions: Vec<usize> = (0..30).map(|t| t % 3).collect();
/// let x = Array2::from_shape_fn((30, 4), |(t, j)| ((conditions[t] * 3 + j) % 5) as f64 + 1.0);
/// let r = temporal_stability(x.view(), &conditions, &TemporalStabilityOptions::default()).unwrap();
/// assert!((r.estimate - 1.0).abs() < 1e-12); // identical geometry early and late
/// ```
pub fn temporal_stability(
    x: ArrayView2<f64>,
    conditions: &[usize],
    opts: &TemporalStabilityOptions,
) -> Result<TemporalStabilityResult> {
    let by = trials_by_condition(x, conditions, "temporal_stability")?;
    let n = x.nrows();
    let mid = n / 2;
    let mut meta = Meta::default();
    // Present in both halves: no "≥ 2 trials" rule beyond that (the script's intersection).
    let mut keep = Vec::new();
    for (c, trials) in by.iter().enumerate() {
        if trials.is_empty() {
            continue;
        }
        meta.n_requested += 1;
        let early = trials.iter().any(|&t| t < mid);
        let late = trials.iter().any(|&t| t >= mid);
        match (early, late) {
            (true, true) => keep.push(c),
            (false, _) => meta.drop_item(format!("condition {c}"), "no trial in the early half"),
            (_, false) => meta.drop_item(format!("condition {c}"), "no trial in the late half"),
        }
    }
    meta.n_used = keep.len();
    let mut result = TemporalStabilityResult {
        estimate: f64::NAN,
        conditions: keep.clone(),
        rdms: None,
        mid,
        meta,
    };
    if keep.len() < opts.min_conditions.max(2) {
        result.meta.warn(format!(
            "{} conditions in both halves (< {}): temporal stability undefined",
            keep.len(),
            opts.min_conditions.max(2)
        ));
        return Ok(result);
    }
    let early: Vec<Vec<usize>> = keep
        .iter()
        .map(|&c| by[c].iter().copied().filter(|&t| t < mid).collect())
        .collect();
    let late: Vec<Vec<usize>> = keep
        .iter()
        .map(|&c| by[c].iter().copied().filter(|&t| t >= mid).collect())
        .collect();
    let re = small_rdm(group_means(x, &early), opts.metric);
    let rl = small_rdm(group_means(x, &late), opts.metric);
    match guarded_spearman(&re, &rl, opts.constant_std, &mut SpearmanScratch::default()) {
        Ok(r) => result.estimate = r,
        Err(why) => result.meta.warn(why.reason(opts.constant_std)),
    }
    let labels: Vec<String> = keep.iter().map(|c| c.to_string()).collect();
    let mk = |v: Vec<f64>| Rdm::new(keep.len(), v).and_then(|r| r.with_labels(labels.clone()));
    result.rdms = Some((mk(re)?, mk(rl)?));
    Ok(result)
}

/// Rows of `x` scaled by 1/(‖x‖ + 1e-10), the script's normalisation.
fn unit_rows(x: ArrayView2<f64>) -> Array2<f64> {
    let mut u = x.to_owned();
    for mut row in u.rows_mut() {
        let norm = row.dot(&row).sqrt();
        row /= norm + 1e-10;
    }
    u
}

/// Cosine similarity of two centroids with the script's guard.
fn centroid_cosine(a: &ArrayView1<f64>, b: &ArrayView1<f64>) -> f64 {
    let den = a.dot(a).sqrt() * b.dot(b).sqrt();
    if den < 1e-10 {
        f64::NAN
    } else {
        a.dot(b) / den
    }
}

/// Centroid similarity of trials `[r0, r1)` and `[r1, r2)` of the normalised rows.
fn block_similarity(u: &Array2<f64>, r0: usize, r1: usize, r2: usize) -> f64 {
    if r0 >= r1 || r1 >= r2 {
        return f64::NAN;
    }
    let a = u
        .slice(ndarray::s![r0..r1, ..])
        .mean_axis(Axis(0))
        .expect("non-empty block");
    let b = u
        .slice(ndarray::s![r1..r2, ..])
        .mean_axis(Axis(0))
        .expect("non-empty block");
    centroid_cosine(&a.view(), &b.view())
}

/// Centroid similarity cs(P, Q) of two sets of trials (rows), see the module docs.
///
/// # Errors
/// [`Error::Invalid`] for non-finite input or different feature counts.
///
/// # Example
/// ```
/// use ndarray::array;
/// use neuropop::rsa::shesha::centroid_similarity;
/// let s = centroid_similarity(array![[1.0, 0.0], [2.0, 0.0]].view(), array![[0.0, 3.0]].view()).unwrap();
/// assert!(s.abs() < 1e-12);
/// ```
pub fn centroid_similarity(p: ArrayView2<f64>, q: ArrayView2<f64>) -> Result<f64> {
    check_finite(p, "centroid_similarity: p")?;
    check_finite(q, "centroid_similarity: q")?;
    if p.ncols() != q.ncols() {
        return Err(Error::invalid(
            "centroid_similarity: q",
            format!("{} features (as p)", p.ncols()),
            format!("{} features", q.ncols()),
        ));
    }
    if p.nrows() == 0 || q.nrows() == 0 {
        return Ok(f64::NAN);
    }
    let a = unit_rows(p).mean_axis(Axis(0)).expect("non-empty");
    let b = unit_rows(q).mean_axis(Axis(0)).expect("non-empty");
    Ok(centroid_cosine(&a.view(), &b.view()))
}

/// Options of [`centroid_drift`]: 500 permutations and seed 320, as the published analysis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CentroidDriftOptions {
    /// Number of permutations of the trials between the halves.
    pub n_permutations: usize,
    /// Seed; permutation i uses `rng::stream(derive_seed(seed, "centroid_drift"), i)`.
    pub seed: u64,
}

impl Default for CentroidDriftOptions {
    fn default() -> Self {
        CentroidDriftOptions {
            n_permutations: 500,
            seed: 320,
        }
    }
}

/// Result of [`centroid_drift`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CentroidDriftResult {
    /// cs(early, late) — the published `centroid_drift` (a similarity); NaN if undefined.
    #[serde(serialize_with = "crate::result::nan_as_null")]
    pub similarity: f64,
    /// The permutation null (trials shuffled between the halves, in permutation order) with
    /// the crate's one rule for its summaries: mean and population std of the finite null
    /// values, z = (similarity − mean) / std (NaN when std is 0), and the one-sided p-value
    /// (k + 1)/(m + 1) that the halves are *less* similar than under exchangeability.
    pub permutation: PermutationResult,
    /// Split point ⌊n/2⌋.
    pub mid: usize,
    /// Trials used, warnings.
    pub meta: Meta,
}

impl CentroidDriftResult {
    /// The published table's `null_mean_drift`, `null_std_drift` and `z_score_drift`: the
    /// reference script's rule, NaN when any null value is NaN and
    /// z = (similarity − mean) / (std + 1e-10). Equal to [`Self::permutation`]'s mean and std
    /// whenever the null is all finite; the z-score differs from its by the 1e-10.
    ///
    /// ```
    /// use ndarray::Array2;
    /// use neuropop::rsa::shesha::{centroid_drift, CentroidDriftOptions};
    /// let x = Array2::from_shape_fn((40, 3), |(t, j)| ((t * 7 + j * 3) % 5) as f64 + 1.0);
    /// let r = centroid_drift(x.view(), &CentroidDriftOptions { n_permutations: 50, seed: 2 }).unwrap();
    /// let (mean, std, _z) = r.published_summary();
    /// assert_eq!((mean, std), (r.permutation.null_mean, r.permutation.null_std));
    /// ```
    pub fn published_summary(&self) -> (f64, f64, f64) {
        let p = &self.permutation;
        let (mean, std) = if p.null.iter().any(|v| v.is_nan()) {
            (f64::NAN, f64::NAN)
        } else {
            (p.null_mean, p.null_std)
        };
        (mean, std, (self.similarity - mean) / (std + 1e-10))
    }
}

/// Centroid drift between the early `[0, ⌊n/2⌋)` and late trials of `x` (trials × features,
/// session order) with a permutation null: each permutation shuffles all trials and takes the
/// first ⌊n/2⌋ as "early" (the published analysis, 500 permutations). Permutations run in
/// parallel; permutation i uses its own stream, so the null is the same on any thread count.
///
/// Deviation from the script: its null consumes one global MT19937 stream across all
/// area-sessions; neuropop seeds each call (definitions.md: random columns agree
/// statistically, not bit for bit).
///
/// # Errors
/// [`Error::Invalid`] for non-finite input or zero permutations.
///
/// # Example
/// ```
/// use ndarray::Array2;
/// use neuropop::rsa::shesha::{centroid_drift, CentroidDriftOptions};
/// // The population direction rotates over the session: lower similarity than the null.
/// let x = Array2::from_shape_fn((60, 2), |(t, j)| if j == 0 { 60.0 - t as f64 } else { t as f64 });
/// let r = centroid_drift(x.view(), &CentroidDriftOptions { n_permutations: 200, seed: 1 }).unwrap();
/// assert!(r.similarity < r.permutation.null_mean);
/// assert!(r.permutation.z_score < -3.0);
/// assert_eq!(r.permutation.null.len(), 200);
/// ```
pub fn centroid_drift(
    x: ArrayView2<f64>,
    opts: &CentroidDriftOptions,
) -> Result<CentroidDriftResult> {
    check_finite(x, "centroid_drift: x")?;
    if opts.n_permutations == 0 {
        return Err(Error::invalid(
            "centroid_drift: n_permutations",
            ">= 1",
            "0",
        ));
    }
    let n = x.nrows();
    let mid = n / 2;
    let u = unit_rows(x);
    let similarity = block_similarity(&u, 0, mid, n);
    let total = u.sum_axis(Axis(0));
    let seed = rng::derive_seed(opts.seed, "centroid_drift");
    let p = u.ncols();
    let rows = u.as_slice().expect("owned standard-layout array");
    let total = total.as_slice().expect("owned 1-D array");
    let null: Vec<f64> = (0..opts.n_permutations as u64)
        .into_par_iter()
        .map_init(
            || {
                (
                    Vec::with_capacity(n),
                    vec![0.0; p],
                    vec![0.0; p],
                    vec![0.0; p],
                )
            },
            |(perm, early, early_mean, late_mean), i| {
                if mid == 0 || mid == n {
                    return f64::NAN;
                }
                permutation_indices(seed, i, n, perm);
                // Plain slice loops: the rows are short, so ndarray's per-call overhead
                // dominated; the additions happen in the same order.
                early.fill(0.0);
                for &t in &perm[..mid] {
                    for (e, v) in early.iter_mut().zip(&rows[t * p..(t + 1) * p]) {
                        *e += v;
                    }
                }
                // Late centroid from the total minus the early sum.
                let (n_early, n_late) = (mid as f64, (n - mid) as f64);
                for k in 0..p {
                    early_mean[k] = early[k] / n_early;
                    late_mean[k] = (total[k] - early[k]) / n_late;
                }
                centroid_cosine(
                    &ArrayView1::from(&early_mean[..]),
                    &ArrayView1::from(&late_mean[..]),
                )
            },
        )
        .collect();
    let mut meta = Meta {
        n_requested: n,
        n_used: n,
        ..Meta::default()
    };
    if similarity.is_nan() {
        meta.warn("centroid similarity undefined (a centroid has ~zero norm or a half is empty)");
    }
    let permutation = summarise_null(similarity, null, Alternative::Less);
    if permutation.null.iter().any(|v| v.is_nan()) {
        meta.warn("some permutation similarities are undefined (a half's centroid has ~zero norm)");
    }
    meta.warnings
        .extend(permutation.meta.warnings.iter().cloned());
    Ok(CentroidDriftResult {
        similarity,
        permutation,
        mid,
        meta,
    })
}

/// Result of [`tertile_stability`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TertileStabilityResult {
    /// cs(early tertile, middle tertile).
    #[serde(serialize_with = "crate::result::nan_as_null")]
    pub early_mid: f64,
    /// cs(middle tertile, late tertile).
    #[serde(serialize_with = "crate::result::nan_as_null")]
    pub mid_late: f64,
    /// Tertile bounds (⌊n/3⌋, ⌊2n/3⌋).
    pub bounds: (usize, usize),
    /// Warnings.
    pub meta: Meta,
}

/// Centroid similarity between consecutive tertiles of the trials: early `[0, ⌊n/3⌋)`, middle
/// `[⌊n/3⌋, ⌊2n/3⌋)`, late `[⌊2n/3⌋, n)` (the published `stability_early_mid`,
/// `stability_mid_late`).
///
/// # Errors
/// [`Error::Invalid`] for non-finite input.
///
/// # Example
/// ```
/// use ndarray::Array2;
/// use neuropop::rsa::shesha::tertile_stability;
/// let x = Array2::from_elem((9, 3), 1.0);
/// let r = tertile_stability(x.view()).unwrap();
/// assert_eq!(r.bounds, (3, 6));
/// assert!((r.early_mid - 1.0).abs() < 1e-12);
/// ```
pub fn tertile_stability(x: ArrayView2<f64>) -> Result<TertileStabilityResult> {
    check_finite(x, "tertile_stability: x")?;
    let n = x.nrows();
    let (t1, t2) = (n / 3, 2 * n / 3);
    let u = unit_rows(x);
    let mut meta = Meta {
        n_requested: n,
        n_used: n,
        ..Meta::default()
    };
    let early_mid = block_similarity(&u, 0, t1, t2);
    let mid_late = block_similarity(&u, t1, t2, n);
    if early_mid.is_nan() || mid_late.is_nan() {
        meta.warn("a tertile similarity is undefined (empty tertile or ~zero centroid)");
    }
    Ok(TertileStabilityResult {
        early_mid,
        mid_late,
        bounds: (t1, t2),
        meta,
    })
}
