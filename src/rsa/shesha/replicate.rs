//! Matched-replicate estimators (shesha-geometry `replicate_stability`,
//! `anchor_profile_stability`): two representations of the *same* observations, so every
//! compared distance refers to the same pair in both.
//!
//! Rows of `x_a` and `x_b` must correspond (shesha-geometry can also align them by identifier;
//! neuropop leaves alignment to the caller, who knows the labels).

use ndarray::{ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::result::{
    Bootstrap, CorrelationMethod, NanPolicy, StabilityResult, check_ci, resampled_pair_index,
    rowwise_correlation,
};
use crate::error::{Error, Result};
use crate::result::Meta;
use crate::rsa::rdm::{Metric, ZeroNorm, cdist, check_finite, rdm_with};

/// Options of [`replicate_stability`] and [`anchor_profile_stability`]; defaults are
/// shesha-geometry's (cosine, Spearman, no bootstrap, 95 %, `nan_policy = raise`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReplicateOptions {
    /// `Cosine`, `Correlation` or `Euclidean`.
    pub metric: Metric,
    /// Correlation between the two RDMs (or distance profiles).
    pub method: CorrelationMethod,
    /// Observation bootstrap (replicate_stability) or probe bootstrap (anchor profiles).
    pub bootstrap: Bootstrap,
    /// Confidence level.
    pub ci: f64,
    /// Undefined distances.
    pub nan_policy: NanPolicy,
}

impl Default for ReplicateOptions {
    fn default() -> Self {
        ReplicateOptions {
            metric: Metric::Cosine,
            method: CorrelationMethod::Spearman,
            bootstrap: Bootstrap::None,
            ci: 0.95,
            nan_policy: NanPolicy::Raise,
        }
    }
}

pub(crate) fn check_metric(metric: Metric, context: &str) -> Result<()> {
    if metric == Metric::SqEuclidean {
        return Err(Error::invalid(
            format!("{context}: metric"),
            "cosine, correlation or euclidean",
            "sqeuclidean",
        ));
    }
    Ok(())
}

fn check_pair(x_a: ArrayView2<f64>, x_b: ArrayView2<f64>, context: &str) -> Result<()> {
    check_finite(x_a, &format!("{context}: x_a"))?;
    check_finite(x_b, &format!("{context}: x_b"))?;
    if x_a.nrows() != x_b.nrows() {
        return Err(Error::invalid(
            format!("{context}: x_b"),
            format!("{} samples (as x_a)", x_a.nrows()),
            format!("{} samples", x_b.nrows()),
        ));
    }
    Ok(())
}

/// Aligned distances of two replicates and the mask of pairs defined in both.
pub(crate) type PairDistances = (Vec<f64>, Vec<f64>, Vec<bool>);

/// Distances of a and b with `nan_policy` applied pair-wise, keeping their shape: the filled
/// vectors and a validity mask, or `None` for propagate.
pub(crate) fn pair_policy(
    mut a: Vec<f64>,
    mut b: Vec<f64>,
    policy: NanPolicy,
    meta: &mut Meta,
    context: &str,
) -> Result<Option<PairDistances>> {
    let n_bad = a
        .iter()
        .zip(&b)
        .filter(|(x, y)| !x.is_finite() || !y.is_finite())
        .count();
    if n_bad > 0 {
        match policy {
            NanPolicy::Raise => {
                return Err(Error::invalid(
                    format!("{context}: nan_policy"),
                    "only defined distances (or nan_policy omit / propagate / replace)",
                    format!("{n_bad} undefined distances"),
                ));
            }
            NanPolicy::Propagate => return Ok(None),
            NanPolicy::Replace => {
                meta.warn("Undefined distances were replaced with 1.0 (nan_policy='replace'); this can invent structure.");
                for v in a.iter_mut().chain(b.iter_mut()) {
                    if !v.is_finite() {
                        *v = 1.0;
                    }
                }
            }
            NanPolicy::Omit => meta.warn(format!(
                "Omitted {n_bad} undefined distance pair(s) (nan_policy='omit')."
            )),
        }
    }
    let valid = a
        .iter()
        .zip(&b)
        .map(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    Ok(Some((a, b, valid)))
}

const PROPAGATED: &str = "Undefined distances propagated to the result (nan_policy='propagate').";

/// The duplicate-aware observation bootstrap of shesha-geometry (`_bootstrap_replicate`):
/// per resample, the condensed entries of its distinct pairs (valid ones only), correlated.
pub(crate) fn bootstrap_replicate(
    rdm_a: &[f64],
    rdm_b: &[f64],
    valid: &[bool],
    n: usize,
    method: CorrelationMethod,
    spec: &Bootstrap,
) -> Result<Vec<f64>> {
    spec.run(n, |rows| {
        let mut idx = Vec::new();
        resampled_pair_index(rows, n, &mut idx);
        let (a, b): (Vec<f64>, Vec<f64>) = idx
            .iter()
            .filter(|&&k| valid[k])
            .map(|&k| (rdm_a[k], rdm_b[k]))
            .unzip();
        rowwise_correlation(&a, &b, method)
    })
}

/// Matched-replicate RDM stability: the correlation of the RDM of `x_a` with the RDM of `x_b`
/// (rows = the same observations; feature counts may differ). NaN when either RDM is constant.
///
/// # Errors
/// [`Error::Invalid`] for non-finite input, different sample counts, fewer than 3 samples,
/// `sqeuclidean`, an invalid `ci`, or undefined distances under `nan_policy = raise`.
///
/// # Example
/// ```
/// use ndarray::array;
/// use neuropop::rsa::shesha::{replicate_stability, ReplicateOptions};
/// let a = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 0.5]];
/// let b = &a * 3.0; // same geometry, different scale
/// let r = replicate_stability(a.view(), b.view(), &ReplicateOptions::default()).unwrap();
/// assert!((r.estimate - 1.0).abs() < 1e-12);
/// ```
pub fn replicate_stability(
    x_a: ArrayView2<f64>,
    x_b: ArrayView2<f64>,
    opts: &ReplicateOptions,
) -> Result<StabilityResult> {
    check_metric(opts.metric, "replicate_stability")?;
    check_ci(opts.ci)?;
    check_pair(x_a, x_b, "replicate_stability")?;
    let n = x_a.nrows();
    if n < 3 {
        return Err(Error::invalid(
            "replicate_stability: x_a",
            "at least 3 matched observations",
            format!("{n}"),
        ));
    }
    let mut meta = Meta {
        n_requested: n,
        n_used: n,
        ..Meta::default()
    };
    let ra = rdm_with(x_a, opts.metric, ZeroNorm::Nan)?.into_condensed();
    let rb = rdm_with(x_b, opts.metric, ZeroNorm::Nan)?.into_condensed();
    let Some((ra, rb, valid)) =
        pair_policy(ra, rb, opts.nan_policy, &mut meta, "replicate_stability")?
    else {
        meta.warn(PROPAGATED);
        return Ok(
            StabilityResult::deterministic(f64::NAN, meta).with_bootstrap(
                &opts.bootstrap,
                Vec::new(),
                opts.ci,
            ),
        );
    };
    let (a, b): (Vec<f64>, Vec<f64>) = ra
        .iter()
        .zip(&rb)
        .zip(&valid)
        .filter(|(_, v)| **v)
        .map(|((x, y), _)| (*x, *y))
        .unzip();
    let estimate = rowwise_correlation(&a, &b, opts.method);
    if estimate.is_nan() {
        meta.warn("RDM correlation undefined (fewer than 3 defined pairs or a constant RDM)");
    }
    let draws = bootstrap_replicate(&ra, &rb, &valid, n, opts.method, &opts.bootstrap)?;
    Ok(
        StabilityResult::deterministic(estimate, meta).with_bootstrap(
            &opts.bootstrap,
            draws,
            opts.ci,
        ),
    )
}

fn check_indices(v: &[usize], n: usize, name: &str) -> Result<()> {
    if v.is_empty() {
        return Err(Error::invalid(
            format!("anchor_profile_stability: {name}"),
            "a non-empty list of row indices",
            "empty",
        ));
    }
    if let Some(&bad) = v.iter().find(|&&i| i >= n) {
        return Err(Error::invalid(
            format!("anchor_profile_stability: {name}"),
            format!("indices in [0, {n})"),
            bad.to_string(),
        ));
    }
    let mut s = v.to_vec();
    s.sort_unstable();
    if s.windows(2).any(|w| w[0] == w[1]) {
        return Err(Error::invalid(
            format!("anchor_profile_stability: {name}"),
            "no duplicates",
            "a duplicate index",
        ));
    }
    Ok(())
}

/// Per-anchor correlation of its profiles over the probes valid in both replicates.
fn anchor_scores(
    da: &[f64],
    db: &[f64],
    valid: &[bool],
    n_probes: usize,
    columns: &[usize],
    method: CorrelationMethod,
) -> Vec<f64> {
    let n_anchors = da.len() / n_probes;
    (0..n_anchors)
        .map(|r| {
            let (a, b): (Vec<f64>, Vec<f64>) = columns
                .iter()
                .map(|&c| r * n_probes + c)
                .filter(|&k| valid[k])
                .map(|k| (da[k], db[k]))
                .unzip();
            rowwise_correlation(&a, &b, method)
        })
        .collect()
}

/// Matched anchor-profile stability: for each anchor observation, its distance profile to a
/// shared set of probe observations in both replicates, correlated across probes; the
/// estimate is the mean over anchors with a defined correlation. `probes = None` uses every
/// non-anchor row. The bootstrap resamples probes (anchors are fixed references).
///
/// `split_scores` holds the per-anchor correlations (NaN for excluded anchors).
///
/// # Errors
/// [`Error::Invalid`] for non-finite input, different sample counts, empty/out-of-range/
/// duplicate/overlapping anchors and probes, fewer than 3 probes, `sqeuclidean`, or undefined
/// distances under `nan_policy = raise`.
///
/// # Example
/// ```
/// use ndarray::Array2;
/// use neuropop::rsa::shesha::{anchor_profile_stability, ReplicateOptions};
/// let a = Array2::from_shape_fn((8, 3), |(i, j)| ((i + 1) * (j + 2)) as f64 % 7.0 + 0.5);
/// let r = anchor_profile_stability(a.view(), a.view(), &[0, 1], None, &ReplicateOptions::default()).unwrap();
/// assert!((r.estimate - 1.0).abs() < 1e-12);
/// assert_eq!(r.split_scores.len(), 2);
/// ```
pub fn anchor_profile_stability(
    x_a: ArrayView2<f64>,
    x_b: ArrayView2<f64>,
    anchors: &[usize],
    probes: Option<&[usize]>,
    opts: &ReplicateOptions,
) -> Result<StabilityResult> {
    check_metric(opts.metric, "anchor_profile_stability")?;
    check_ci(opts.ci)?;
    check_pair(x_a, x_b, "anchor_profile_stability")?;
    let n = x_a.nrows();
    check_indices(anchors, n, "anchors")?;
    let probes: Vec<usize> = match probes {
        Some(p) => {
            check_indices(p, n, "probes")?;
            if p.iter().any(|i| anchors.contains(i)) {
                return Err(Error::invalid(
                    "anchor_profile_stability: probes",
                    "disjoint from anchors",
                    "an index in both",
                ));
            }
            p.to_vec()
        }
        None => (0..n).filter(|i| !anchors.contains(i)).collect(),
    };
    if probes.len() < 3 {
        return Err(Error::invalid(
            "anchor_profile_stability: probes",
            "at least 3 probe observations",
            probes.len().to_string(),
        ));
    }
    let mut meta = Meta {
        n_requested: anchors.len(),
        ..Meta::default()
    };
    let d = |x: ArrayView2<f64>| {
        cdist(
            x.select(Axis(0), anchors).view(),
            x.select(Axis(0), &probes).view(),
            opts.metric,
        )
        .map(|m| m.iter().copied().collect::<Vec<f64>>())
    };
    let Some((da, db, valid)) = pair_policy(
        d(x_a)?,
        d(x_b)?,
        opts.nan_policy,
        &mut meta,
        "anchor_profile_stability",
    )?
    else {
        meta.warn(PROPAGATED);
        return Ok(
            StabilityResult::deterministic(f64::NAN, meta).with_bootstrap(
                &opts.bootstrap,
                Vec::new(),
                opts.ci,
            ),
        );
    };
    let np = probes.len();
    let all: Vec<usize> = (0..np).collect();
    let scores = anchor_scores(&da, &db, &valid, np, &all, opts.method);
    let defined: Vec<f64> = scores.iter().copied().filter(|v| v.is_finite()).collect();
    meta.n_used = defined.len();
    if defined.len() < scores.len() {
        meta.warn(format!(
            "{} of {} anchors had an unestimable profile and were excluded.",
            scores.len() - defined.len(),
            scores.len()
        ));
        for (k, s) in scores.iter().enumerate() {
            if !s.is_finite() {
                meta.drop_item(
                    format!("anchor row {}", anchors[k]),
                    "constant or too short distance profile",
                );
            }
        }
    }
    let estimate = if defined.is_empty() {
        f64::NAN
    } else {
        defined.iter().sum::<f64>() / defined.len() as f64
    };
    let draws = opts.bootstrap.run(np, |cols| {
        let per: Vec<f64> = anchor_scores(&da, &db, &valid, np, cols, opts.method)
            .into_iter()
            .filter(|v| v.is_finite())
            .collect();
        if per.is_empty() {
            f64::NAN
        } else {
            per.iter().sum::<f64>() / per.len() as f64
        }
    })?;
    let mut result = StabilityResult::deterministic(estimate, meta).with_bootstrap(
        &opts.bootstrap,
        draws,
        opts.ci,
    );
    result.split_scores = scores;
    Ok(result)
}
